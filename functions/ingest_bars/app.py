"""ingest_bars: validate the bars of a Kinesis batch and write them to the bars table.

- Every record is checked against the Bar contract (`regime.contracts.Bar`), and refused when its symbol is
  not configured (SYMBOLS) or its minute starts in the future beyond a small tolerance (a bar dated 9999
  would otherwise sit at the head of every window).
- A malformed record is poison (a retry cannot fix it): whatever the error, it goes straight to the failure
  queue with its reason and the raw payload, and is not reported as a batch failure, so it never holds back
  the shard and its payload outlives the stream's retention.
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
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from regime.contracts import Bar, BarError
from regime_aws.clients import client
from regime_aws.dynamodb_items import to_wire
from regime_aws.symbols import configured_symbols

# Service and namespace: POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE (the template's Globals).
logger = Logger()
metrics = Metrics()

WRITE_CHUNK = 25  # BatchWriteItem's limit
QUEUE_CHUNK = 10  # SendMessageBatch's limit
UNPROCESSED_ATTEMPTS = 4
MAX_PAYLOAD_CHARS = 4096  # enough to see what went wrong, far under SQS's 256 KB


class EventError(ValueError):
    """The invocation is not a Kinesis batch (the message names what is missing)."""


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
    symbols: frozenset[str]
    future_tolerance: timedelta

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            env["BARS_TABLE"],
            env["FAILURE_QUEUE_URL"],
            int(env.get("BAR_TTL_DAYS", "14")),
            frozenset(configured_symbols()),
            timedelta(seconds=float(env.get("FUTURE_TOLERANCE_SECONDS", "120"))),
        )


def _dynamodb() -> Any:
    return client("dynamodb")


def parse_record(record: KinesisStreamRecord, settings: Settings, now: datetime) -> Bar:
    """Decode one Kinesis record into a Bar of a configured symbol, not from the future; BarError says why."""
    try:
        # Strictly base64: the data class's own decoder drops stray characters without a word.
        raw = base64.b64decode(record.kinesis.data, validate=True)
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BarError(f"record: data is not base64 ({exc!s:.200})") from exc
    bar = Bar.from_json(raw)
    key = record.kinesis.get("partitionKey")
    if key is not None and key != bar.symbol:
        raise BarError(f"partitionKey: must be the bar's symbol {bar.symbol!r}, got {key!r}")
    if bar.symbol not in settings.symbols:
        raise BarError(
            f"symbol: {bar.symbol!r} is not configured (SYMBOLS: {','.join(sorted(settings.symbols))})"
        )
    if bar.ts > now + settings.future_tolerance:
        raise BarError(
            f"ts: {bar.to_dict()['ts']} is in the future (now {now:%Y-%m-%dT%H:%M:%SZ}, "
            f"tolerance {settings.future_tolerance.total_seconds():.0f} s)"
        )
    return bar


def stage(records: Sequence[KinesisStreamRecord], settings: Settings, now: datetime) -> Staged:
    """Validate every record; later duplicates of a (symbol, minute) replace earlier ones.

    Any error, whatever its type, rejects that record alone (int(NaN) raises ValueError, int(inf)
    OverflowError: a contract's own checks are not the only ways a payload can be wrong).
    """
    bars: dict[tuple[str, str], tuple[Bar, list[str]]] = {}
    rejected: list[Rejected] = []
    for record in records:
        kinesis = record.get("kinesis") or {}
        seq = str(kinesis.get("sequenceNumber", ""))
        try:
            bar = parse_record(record, settings, now)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, BarError) else f"record: {type(exc).__name__}: {exc}"
            rejected.append(
                Rejected(seq, str(kinesis.get("partitionKey", "")), reason, _payload_text(record))
            )
            continue
        key = (bar.symbol, bar.to_dict()["ts"])
        previous = bars.get(key)
        bars[key] = (bar, [*(previous[1] if previous else []), seq])
    return Staged(bars, rejected)


def _payload_text(record: KinesisStreamRecord) -> str:
    data = str((record.get("kinesis") or {}).get("data", ""))
    try:
        return base64.b64decode(data).decode("utf-8", "replace")[:MAX_PAYLOAD_CHARS]
    except (binascii.Error, ValueError):
        return data[:MAX_PAYLOAD_CHARS]


def bar_item(bar: Bar, ttl_days: int) -> dict[str, Any]:
    """The DynamoDB item: the Bar contract's own fields plus the TTL."""
    return {**bar.to_dict(), "expires_at": int(bar.ts.timestamp()) + ttl_days * 86_400}


def write_bars(staged: Staged, settings: Settings) -> set[str]:
    """Write the valid bars; return the sequence numbers whose bar could not be written."""
    failed: set[str] = set()
    entries = list(staged.bars.items())
    for start in range(0, len(entries), WRITE_CHUNK):
        chunk = entries[start : start + WRITE_CHUNK]
        requests = [
            {"PutRequest": {"Item": to_wire(bar_item(bar, settings.ttl_days))}} for _, (bar, _) in chunk
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
            response = client("sqs").send_message_batch(QueueUrl=settings.failure_queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            logger.error("failure queue unreachable", extra={"error": str(exc)})
            failed.update(r.sequence_number for r in chunk)
            continue
        failed.update(chunk[int(f["Id"])].sequence_number for f in response.get("Failed", []))
    return failed


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Kinesis batch in; partial batch response out (only records worth retrying are reported)."""
    settings = Settings.from_env()
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        raise EventError(f"Records: expected the list of a Kinesis batch, got {str(event)[:200]!r}")
    records = list(KinesisStreamEvent(event).records)
    staged = stage(records, settings, datetime.now(UTC))
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
