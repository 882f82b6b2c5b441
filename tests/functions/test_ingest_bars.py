"""ingest_bars on the local endpoint, with the template's stack and the sample Kinesis batch."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from devkit.local_cloud.handlers import BoundFunction
from devkit.local_cloud.stack import LocalStack
from functions.ingest_bars import app
from regime.contracts import BarError
from regime_aws.batch_calls import BACKOFF
from tests.functions.conftest import SDK_ATTEMPTS
from tests.functions.endpoint_faults import EVENTS, server_errors, unprocessed

pytestmark = pytest.mark.integration


def sample_event(symbol: str = "CL") -> dict[str, Any]:
    """The events/ sample with every bar moved to `symbol` (tests isolate by symbol on one stack)."""
    event: dict[str, Any] = json.loads((EVENTS / "ingest_bars_faults.json").read_text())
    for record in event["Records"]:
        k = record["kinesis"]
        raw = base64.b64decode(k["data"])
        if raw.startswith(b"{"):
            k["data"] = base64.b64encode(
                raw.replace(b'"symbol": "CL"', f'"symbol": "{symbol}"'.encode())
            ).decode()
        k["partitionKey"] = symbol
    return event


def ingest_fn(functions: dict[str, BoundFunction], *symbols: str) -> BoundFunction:
    """ingest_bars configured for `symbols` (every other symbol is refused)."""
    fn = functions["IngestBarsFunction"]
    return dataclasses.replace(fn, env={**fn.env, "SYMBOLS": ",".join(symbols)})


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
    fn = ingest_fn(functions, "SMPL")
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
    fn = ingest_fn(functions, "REPL")
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
    fn = ingest_fn(functions, "THRT")
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
    fn = ingest_fn(functions, "DOWN")
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


def test_bars_dynamodb_leaves_unprocessed_are_sent_again_then_reported_not_lost(
    local_stack: LocalStack, functions: dict[str, BoundFunction]
) -> None:
    fn = ingest_fn(functions, "UNPR")
    event = sample_event("UNPR")
    table = local_stack.physical["BarsTable"]
    seqs = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    with unprocessed(app._dynamodb(), "BatchWriteItem", table, keep=[1]) as sizes:
        assert fn.invoke(event) == {"batchItemFailures": []}  # the second call wrote the other two
    assert sizes == [3, 2] and len(stored_bars(local_stack, "UNPR")) == 3
    fn = ingest_fn(functions, "UNPB")
    with unprocessed(app._dynamodb(), "BatchWriteItem", table, keep=[1] + [0] * 10) as sizes:
        response = fn.invoke(sample_event("UNPB"))
    assert len(sizes) == BACKOFF.attempts  # bounded: then the two still unprocessed are reported
    # the bars of 18:49 (record 2) and 18:51 (record 5); 18:50 (records 1 and 6) was written at once
    assert response == {"batchItemFailures": [{"itemIdentifier": seqs[i]} for i in (1, 4)]}
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
    settings = app.Settings("bars", "queue", 14, frozenset({"CL"}), timedelta(seconds=120))
    with pytest.raises(BarError, match=message.replace("(", r"\(").replace(")", r"\)")):
        app.parse_record(KinesisStreamRecord(record), settings, datetime.now(UTC))


def _raw_record(payload: bytes, seq: int, key: str = "POIS") -> dict[str, Any]:
    return {
        "kinesis": {
            "data": base64.b64encode(payload).decode(),
            "partitionKey": key,
            "sequenceNumber": f"{seq:056d}",
        },
        "eventSource": "aws:kinesis",
    }


def _bar_json(
    symbol: str = "POIS", ts: str = "2026-01-15T18:49:00Z", volume: str = "7", close: str = "59.0"
) -> bytes:
    high = max(close, "59.1", key=float)
    return (
        f'{{"symbol":"{symbol}","ts":"{ts}","open":59.0,"high":{high},"low":58.9,"close":{close},'
        f'"volume":{volume},"source":"sim"}}'
    ).encode()


@pytest.mark.parametrize(
    ("payload", "key", "reason"),
    [
        # The contract's int(volume) raises ValueError / OverflowError, not BarError: still this record alone.
        (_bar_json(volume="NaN"), "POIS", "record: ValueError: cannot convert float NaN"),
        (_bar_json(volume="Infinity"), "POIS", "record: OverflowError: cannot convert float infinity"),
        (_bar_json(volume="1e400"), "POIS", "record: OverflowError: cannot convert float infinity"),
        (_bar_json(ts="9999-12-31T23:59:00Z"), "POIS", "ts: must be in 1970-2099, got 9999-12-31"),
        # The red team's bar: valid alone, it overflowed DynamoDB's Number and failed the whole batch.
        (_bar_json(close="1e300"), "POIS", "high: must be between 1e-06 and 1e+07, got 1e+300"),
        (_bar_json(volume=str(10**40)), "POIS", "volume: must be between 0 and 1,000,000,000,000"),
        (_bar_json(symbol="ZZZ"), "ZZZ", "symbol: 'ZZZ' is not configured (SYMBOLS: POIS)"),
    ],
)
def test_a_poison_record_is_quarantined_alone_with_payload_and_reason(
    local_stack: LocalStack, functions: dict[str, BoundFunction], payload: bytes, key: str, reason: str
) -> None:
    fn = ingest_fn(functions, "POIS")
    good = [_bar_json(ts=f"2026-01-15T19:0{i}:00Z") for i in range(3)]
    records = [
        _raw_record(good[0], 1),
        _raw_record(payload, 2, key),
        _raw_record(good[1], 3),
        _raw_record(good[2], 4),
    ]
    try:
        assert fn.invoke({"Records": records}) == {"batchItemFailures": []}  # nothing holds the shard back
        assert [b["ts"] for b in stored_bars(local_stack, "POIS")][-3:] == [
            f"2026-01-15T19:0{i}:00Z" for i in range(3)
        ]
        (reject,) = drain_queue(fn.env["FAILURE_QUEUE_URL"])
        assert reason in reject["reason"] and reject["payload"] == payload.decode()
        assert reject["sequenceNumber"] == f"{2:056d}" and reject["kind"] == "malformed_bar"
    finally:
        table = boto3.resource("dynamodb").Table(local_stack.physical["BarsTable"])
        for item in stored_bars(local_stack, "POIS"):
            table.delete_item(Key={"symbol": "POIS", "ts": item["ts"]})


def test_a_bar_far_from_the_batchs_prices_is_quarantined_as_a_bad_print(
    local_stack: LocalStack, functions: dict[str, BoundFunction]
) -> None:
    fn = ingest_fn(functions, "JUMP")
    good = [_bar_json(symbol="JUMP", ts=f"2026-01-15T19:0{i}:00Z") for i in range(3)]
    bad = _bar_json(symbol="JUMP", ts="2026-01-15T19:03:00Z", close="590.0")  # a digit too many
    records = [_raw_record(p, i + 1, "JUMP") for i, p in enumerate([good[0], bad, *good[1:]])]
    assert fn.invoke({"Records": records}) == {"batchItemFailures": []}
    assert len(stored_bars(local_stack, "JUMP")) == 3
    (reject,) = drain_queue(fn.env["FAILURE_QUEUE_URL"])
    assert reject["reason"] == "high: 590.0 is 10x the last close 59.0 (more than 5x away)"


def test_a_bar_inside_the_future_tolerance_is_kept(
    local_stack: LocalStack, functions: dict[str, BoundFunction]
) -> None:
    fn = ingest_fn(functions, "SOON")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    payload = _bar_json(symbol="SOON", ts=now.strftime("%Y-%m-%dT%H:%M:00Z"))
    assert fn.invoke({"Records": [_raw_record(payload, 1, "SOON")]}) == {"batchItemFailures": []}
    assert len(stored_bars(local_stack, "SOON")) == 1


@pytest.mark.parametrize("event", [{}, {"Records": "x"}, {"records": []}])
def test_an_event_that_is_not_a_kinesis_batch_is_refused_naming_records(
    functions: dict[str, BoundFunction], event: dict[str, Any]
) -> None:
    with pytest.raises(app.EventError, match="Records: expected the list of a Kinesis batch"):
        ingest_fn(functions, "CL").invoke(event)


def test_a_bar_the_table_refuses_is_quarantined_alone_not_the_batch(
    local_stack: LocalStack, functions: dict[str, BoundFunction]
) -> None:
    # The red team (22.1): one record the write refused (decimal.Overflow then) failed the whole batch:
    # 0 of 4 good bars stored, retried 3 times. A key DynamoDB refuses (over 2048 bytes) passes the contract.
    huge = "W" * 2100
    fn = ingest_fn(functions, "WERR", huge)
    good = [_bar_json(symbol="WERR", ts=f"2026-01-15T19:0{i}:00Z") for i in range(4)]
    refused = _bar_json(symbol=huge, ts="2026-01-15T19:00:00Z")
    records = [_raw_record(p, i + 1, "WERR") for i, p in enumerate(good[:2])]
    records += [_raw_record(refused, 3, huge)]
    records += [_raw_record(p, i + 4, "WERR") for i, p in enumerate(good[2:])]
    assert fn.invoke({"Records": records}) == {"batchItemFailures": []}  # nothing a retry could fix
    assert [b["ts"] for b in stored_bars(local_stack, "WERR")] == [
        f"2026-01-15T19:0{i}:00Z" for i in range(4)
    ]
    (reject,) = drain_queue(fn.env["FAILURE_QUEUE_URL"])
    assert reject["kind"] == "unwritable_bar" and reject["sequenceNumber"] == f"{3:056d}"
    assert "ValidationException" in reject["reason"] and reject["payload"] == refused.decode()


def test_a_duplicate_bar_with_other_values_keeps_the_first_and_is_counted(
    local_stack: LocalStack,
    functions: dict[str, BoundFunction],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The red team (22.11): a duplicate with other values silently overwrote the stored bar.
    fn = ingest_fn(functions, "DUPL")
    first = _bar_json(symbol="DUPL", ts="2026-01-15T19:00:00Z")
    other = _bar_json(symbol="DUPL", ts="2026-01-15T19:00:00Z", close="59.1")
    assert fn.invoke({"Records": [_raw_record(first, 1, "DUPL")]}) == {"batchItemFailures": []}
    capsys.readouterr()
    batch = [_raw_record(other, 2, "DUPL"), _raw_record(first, 3, "DUPL"), _raw_record(other, 4, "DUPL")]
    assert fn.invoke({"Records": batch}) == {"batchItemFailures": []}
    (stored,) = stored_bars(local_stack, "DUPL")
    assert stored["close"] == Decimal("59.0")  # the first kept
    captured = capsys.readouterr()
    out = captured.out + captured.err
    metric = next(json.loads(line) for line in out.splitlines() if '"BarConflicts"' in line)
    assert metric["BarConflicts"] == [2.0] and metric["BarsWritten"] == [0.0]  # both copies, each logged
    assert caplog.text.count("bar conflicts with the stored one") == 2
    drain_queue(fn.env["FAILURE_QUEUE_URL"])
