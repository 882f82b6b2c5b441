"""The one DynamoDB serializer: exact decimals out, plain JSON numbers back."""

from __future__ import annotations

from decimal import Decimal

from regime_aws.dynamodb_items import from_wire, to_wire


def test_floats_go_as_the_exact_decimal_of_their_json_text_and_come_back_plain() -> None:
    record = {"symbol": "CL", "close": 59.01, "volume": 70, "tags": [0.1, 2], "nested": {"p": 0.3}}
    wire = to_wire(record)
    assert wire["close"] == {"N": "59.01"} and wire["volume"] == {"N": "70"}
    assert wire["tags"] == {"L": [{"N": "0.1"}, {"N": "2"}]}
    back = from_wire(wire)
    assert back == record
    assert isinstance(back["volume"], int) and not isinstance(back["close"], Decimal)
