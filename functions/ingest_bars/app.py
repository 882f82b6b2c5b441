"""ingest_bars: validate the bars of a Kinesis batch and write them to the bars table.

- Every record is checked against the Bar contract (`regime.contracts.Bar`).
- A malformed record is poison (a retry cannot fix it): it goes straight to the failure queue with its reason
  and the raw payload, and is not reported as a batch failure, so it never holds back the shard.
- Valid bars are written with BatchWriteItem, keyed by (symbol, ts): a duplicate overwrites the same item
  and an out-of-order one lands in its place, so both are harmless.
- A bar whose write still fails after the SDK's retries (throttling, an outage) is reported in
  `batchItemFailures`; Lambda retries from it, and past MaximumRetryAttempts the event source mapping's
  on-failure destination (the same queue) gets the batch's coordinates.

Powertools' BatchProcessor calls a handler once per record; a replay or a simulated session delivers hundreds
of bars per batch and the writes must be batched (25 per call), so the partial batch response is built here.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from regime.contracts import Bar, BarError
from regime.contracts.numbers import exact_decimals

SERVICE = "ingest_bars"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace="RegimeTrader", service=SERVICE)

WRITE_CHUNK = 25  # BatchWriteItem's limit
QUEUE_CHUNK = 10  # SendMessageBatch's limit
UNPROCESSED_ATTEMPTS = 4
MAX_PAYLOAD_CHARS = 4096  # enough to see what went wrong, far under SQS's 256 KB
# Standard retry mode backs off and retries throttling errors; a few attempts stay well inside the timeout.
SDK_MAX_ATTEMPTS = int(os.environ.get("SDK_MAX_ATTEMPTS", "4"))
_SDK_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": SDK_MAX_ATTEMPTS}, connect_timeout=2, read_timeout=5
)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that breaks the contract, with the reason."""

    sequence_number: str
    partition_key: str
    reason: str
    payload: str


@dataclass(frozen=True, slots=True)
class Staged:
    """A batch split into valid bars (with the sequence numbers that carried them) and rejects."""

    bars: dict[tuple[str, str], tuple[Bar, list[str]]]
    rejected: list[Rejected]


@dataclass(frozen=True, slots=True)
class Settings:
    bars_table: str
    failure_queue_url: str
    ttl_days: int

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            os.environ["BARS_TABLE"],
            os.environ["FAILURE_QUEUE_URL"],
            int(os.environ.get("BAR_TTL_DAYS", "14")),
        )


@cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb", config=_SDK_CONFIG)


@cache
def _sqs() -> Any:
    return boto3.client("sqs", config=_SDK_CONFIG)


def parse_record(record: dict[str, Any]) -> Bar:
    """Decode one Kinesis record into a Bar; BarError names what is wrong."""
    kinesis = record.get("kinesis") or {}
    try:
        raw = base64.b64decode(kinesis.get("data", ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BarError(f"record: data is not base64 ({exc})") from exc
    bar = Bar.from_json(raw)
    key = kinesis.get("partitionKey")
    if key is not None and key != bar.symbol:
        raise BarError(f"partitionKey: must be the bar's symbol {bar.symbol!r}, got {key!r}")
    return bar


def stage(records: Sequence[dict[str, Any]]) -> Staged:
    """Validate every record; later duplicates of a (symbol, minute) replace earlier ones."""
    bars: dict[tuple[str, str], tuple[Bar, list[str]]] = {}
    rejected: list[Rejected] = []
    for record in records:
        kinesis = record.get("kinesis") or {}
        seq = str(kinesis.get("sequenceNumber", ""))
        try:
            bar = parse_record(record)
        except BarError as exc:
            rejected.append(
                Rejected(seq, str(kinesis.get("partitionKey", "")), str(exc), _payload_text(kinesis))
            )
            continue
        key = (bar.symbol, bar.to_dict()["ts"])
        previous = bars.get(key)
        bars[key] = (bar, [*(previous[1] if previous else []), seq])
    return Staged(bars, rejected)


def _payload_text(kinesis: dict[str, Any]) -> str:
    data = str(kinesis.get("data", ""))
    try:
        return base64.b64decode(data).decode("utf-8", "replace")[:MAX_PAYLOAD_CHARS]
    except (binascii.Error, ValueError):
        return data[:MAX_PAYLOAD_CHARS]


def bar_item(bar: Bar, ttl_days: int) -> dict[str, Any]:
    """The DynamoDB item: the Bar contract's own fields (numbers as exact Decimals) plus the TTL."""
    item = exact_decimals(bar.to_dict())
    item["expires_at"] = int(bar.ts.timestamp()) + ttl_days * 86_400
    return item


def _serialize(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    ser = TypeSerializer()
    return {k: ser.serialize(v) for k, v in item.items()}


def write_bars(staged: Staged, settings: Settings) -> set[str]:
    """Write the valid bars; return the sequence numbers whose bar could not be written."""
    failed: set[str] = set()
    entries = list(staged.bars.items())
    for start in range(0, len(entries), WRITE_CHUNK):
        chunk = entries[start : start + WRITE_CHUNK]
        requests = [
            {"PutRequest": {"Item": _serialize(bar_item(bar, settings.ttl_days))}} for _, (bar, _) in chunk
        ]
        left = _batch_write(settings.bars_table, requests)
        if left is None:  # the whole chunk failed
            failed.update(seq for _, (_, seqs) in chunk for seq in seqs)
            continue
        unwritten = {
            (r["PutRequest"]["Item"]["symbol"]["S"], r["PutRequest"]["Item"]["ts"]["S"]) for r in left
        }
        failed.update(seq for key, (_, seqs) in chunk if key in unwritten for seq in seqs)
    return failed


def _batch_write(table: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """BatchWriteItem with retries of unprocessed items; returns what is left, or None if the call failed."""
    pending = requests
    for attempt in range(UNPROCESSED_ATTEMPTS):
        try:
            response = _dynamodb().batch_write_item(RequestItems={table: pending})
        except (ClientError, BotoCoreError) as exc:
            logger.error("bars write failed after retries", extra={"error": str(exc), "items": len(pending)})
            return None
        pending = response.get("UnprocessedItems", {}).get(table, [])
        if not pending:
            return []
        time.sleep(0.05 * 2**attempt)  # DynamoDB hands back unprocessed items when it is throttling
    logger.error("bars left unprocessed", extra={"items": len(pending)})
    return pending


def quarantine(rejected: Sequence[Rejected], settings: Settings) -> set[str]:
    """Send rejects to the failure queue with their reason; return the sequence numbers not sent."""
    failed: set[str] = set()
    for start in range(0, len(rejected), QUEUE_CHUNK):
        chunk = rejected[start : start + QUEUE_CHUNK]
        entries = [
            {
                "Id": str(i),
                "MessageBody": json.dumps(
                    {
                        "kind": "malformed_bar",
                        "reason": r.reason,
                        "sequenceNumber": r.sequence_number,
                        "partitionKey": r.partition_key,
                        "payload": r.payload,
                    }
                ),
            }
            for i, r in enumerate(chunk)
        ]
        try:
            response = _sqs().send_message_batch(QueueUrl=settings.failure_queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            logger.error("failure queue unreachable", extra={"error": str(exc)})
            failed.update(r.sequence_number for r in chunk)
            continue
        failed.update(chunk[int(f["Id"])].sequence_number for f in response.get("Failed", []))
    return failed


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Kinesis batch in; partial batch response out (only records worth retrying are reported)."""
    settings = Settings.from_env()
    records: list[dict[str, Any]] = event.get("Records", [])
    staged = stage(records)
    for r in staged.rejected:
        logger.warning("malformed bar", extra={"reason": r.reason, "sequenceNumber": r.sequence_number})
    failed = write_bars(staged, settings) | quarantine(staged.rejected, settings)
    written = sum(1 for _, seqs in staged.bars.values() if not failed.intersection(seqs))
    metrics.add_metric(name="BarsWritten", unit=MetricUnit.Count, value=written)
    metrics.add_metric(name="BarsRejected", unit=MetricUnit.Count, value=len(staged.rejected))
    metrics.add_metric(name="BarsRetried", unit=MetricUnit.Count, value=len(failed))
    # Kinesis checkpoints at the lowest reported sequence number: report in record order.
    order = [str((r.get("kinesis") or {}).get("sequenceNumber", "")) for r in records]
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in order if seq in failed]}
