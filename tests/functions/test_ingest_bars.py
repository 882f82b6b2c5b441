"""ingest_bars on the local endpoint, with the template's stack and the sample Kinesis batch."""

from __future__ import annotations

import base64
import copy
import json
from decimal import Decimal
from typing import Any

import boto3
import pytest

from functions.ingest_bars import app
from infra.local_cloud.handlers import BoundFunction
from infra.local_cloud.stack import LocalStack
from regime.contracts import BarError
from tests.functions.conftest import SDK_ATTEMPTS
from tests.functions.endpoint_faults import EVENTS, server_errors

pytestmark = pytest.mark.integration


def sample_event(symbol: str = "CL") -> dict[str, Any]:
    """The events/ sample with every bar moved to `symbol` (tests isolate by symbol on one stack)."""
    event: dict[str, Any] = json.loads((EVENTS / "ingest_bars.json").read_text())
    for record in event["Records"]:
        k = record["kinesis"]
        raw = base64.b64decode(k["data"])
        if raw.startswith(b"{"):
            k["data"] = base64.b64encode(
                raw.replace(b'"symbol": "CL"', f'"symbol": "{symbol}"'.encode())
            ).decode()
        k["partitionKey"] = symbol
    return event


def stored_bars(stack: LocalStack, symbol: str) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(stack.physical["BarsTable"])
    items: list[dict[str, Any]] = table.query(
        KeyConditionExpression="symbol = :s", ExpressionAttributeValues={":s": symbol}
    )["Items"]
    return items


def drain_queue(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    out: list[dict[str, Any]] = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            return out
        out.extend(json.loads(m["Body"]) for m in msgs)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
        )


def test_sample_batch_writes_valid_bars_and_quarantines_bad_ones(
    local_stack: LocalStack, functions: dict[str, BoundFunction]
) -> None:
    fn = functions["IngestBarsFunction"]
    response = fn.invoke(sample_event("SMPL"))

    assert response == {"batchItemFailures": []}  # malformed records must not hold the shard back
    items = stored_bars(local_stack, "SMPL")
    assert [i["ts"] for i in items] == [
        "2026-01-15T18:49:00Z",
        "2026-01-15T18:50:00Z",
        "2026-01-15T18:51:00Z",
    ]
    first = items[1]
    assert first["open"] == Decimal("59.05") and first["volume"] == 70 and first["source"] == "sim"
    assert items[2]["wap"] == Decimal("59.015") and items[2]["count"] == 12
    assert items[0]["expires_at"] == 1768502940 + 14 * 86_400

    rejects = drain_queue(fn.env["FAILURE_QUEUE_URL"])
    reasons = sorted(r["reason"] for r in rejects)
    assert len(reasons) == 2
    assert reasons[0].startswith("ohlc: need low <= open,close <= high")
    assert reasons[1].startswith("record: not valid JSON")
    assert {r["kind"] for r in rejects} == {"malformed_bar"}
    assert any("not json at all" in r["payload"] for r in rejects)


def test_replayed_and_reordered_batches_are_harmless(
    local_stack: LocalStack, functions: dict[str, BoundFunction]
) -> None:
    fn = functions["IngestBarsFunction"]
    event = sample_event("REPL")
    fn.invoke(event)
    before = stored_bars(local_stack, "REPL")
    shuffled = copy.deepcopy(event)
    shuffled["Records"].reverse()
    assert fn.invoke(shuffled) == {"batchItemFailures": []}
    assert stored_bars(local_stack, "REPL") == before
    drain_queue(fn.env["FAILURE_QUEUE_URL"])


def test_throttled_writes_are_retried_by_the_sdk(
    local_stack: LocalStack, functions: dict[str, BoundFunction]
) -> None:
    fn = functions["IngestBarsFunction"]
    code = "ProvisionedThroughputExceededException"
    with server_errors(app._dynamodb(), "BatchWriteItem", code, 1) as refused:
        response = fn.invoke(sample_event("THRT"))
    assert len(refused) == 1
    assert response == {"batchItemFailures": []}
    assert len(stored_bars(local_stack, "THRT")) == 3
    drain_queue(fn.env["FAILURE_QUEUE_URL"])


def test_persistent_throttling_reports_the_valid_records_for_retry(
    local_stack: LocalStack, functions: dict[str, BoundFunction]
) -> None:
    fn = functions["IngestBarsFunction"]
    event = sample_event("DOWN")
    code = "ProvisionedThroughputExceededException"
    with server_errors(app._dynamodb(), "BatchWriteItem", code, 100) as refused:
        response = fn.invoke(event)
    assert len(refused) == SDK_ATTEMPTS  # the SDK retried, then gave up: a clear failure
    seqs = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    # Records 1, 2, 5 and 6 carry valid bars; 3 and 4 are malformed and went to the queue instead.
    assert response == {"batchItemFailures": [{"itemIdentifier": seqs[i]} for i in (0, 1, 4, 5)]}
    assert stored_bars(local_stack, "DOWN") == []
    drain_queue(fn.env["FAILURE_QUEUE_URL"])


def _record(payload: bytes | str, key: str = "CL") -> dict[str, Any]:
    data = payload if isinstance(payload, str) else base64.b64encode(payload).decode()
    return {"kinesis": {"data": data, "partitionKey": key, "sequenceNumber": "1"}}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_record("%%%"), "record: data is not base64"),
        (_record(b'{"symbol": "CL"}'), "missing field(s): ts, open"),
        (_record(b"[1, 2]"), "record: expected a JSON object"),
        (
            _record(
                b'{"symbol":"CL","ts":"2026-01-15T18:49:00Z","open":1,"high":1,"low":1,"close":1,'
                b'"volume":1,"source":"sim"}',
                key="MCL",
            ),
            "partitionKey: must be the bar's symbol 'CL', got 'MCL'",
        ),
    ],
)
def test_parse_record_names_what_is_wrong(record: dict[str, Any], message: str) -> None:
    with pytest.raises(BarError, match=message.replace("(", r"\(").replace(")", r"\)")):
        app.parse_record(record)
