"""Records as DynamoDB items and back: the one serializer of the bars, regime and history tables.

boto3's TypeSerializer comes with the Lambda runtime's SDK (and the project's); it does no I/O.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from regime.contracts.numbers import exact_decimals, json_number

_SER = TypeSerializer()
_DESER = TypeDeserializer()


def to_wire(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready record as a DynamoDB item (floats as exact Decimals, as DynamoDB wants them)."""
    return {k: _SER.serialize(v) for k, v in exact_decimals(record).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def from_wire(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item back to plain JSON-ready values (whole Decimals as int, others as float)."""
    return {k: _plain(_DESER.deserialize(v)) for k, v in item.items()}
