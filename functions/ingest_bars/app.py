"""ingest_bars: validate the bars of a Kinesis batch and write them to the bars table.

- Every record is checked against the Bar contract (`regime.contracts.Bar`), and refused when its symbol is
  not configured (SYMBOLS) or its minute starts in the future beyond a small tolerance (a bar dated 9999
  would otherwise sit at the head of every window).
- A malformed record is poison (a retry cannot fix it): whatever the error, it goes straight to the failure
  queue with its reason and the raw payload, and is not reported as a batch failure, so it never holds back
  the shard and its payload outlives the stream's retention.
- Valid bars are written with BatchWriteItem, keyed by (symbol, ts); an out-of-order one lands in its place.
  A duplicate keeps the bar first stored (an IB bar replaces another source's: it is the authoritative
  one); when their values differ, the conflict is logged with both and counted (`BarConflicts`), never
  silently overwritten. The stored bars are read first (BatchGetItem, 100 keys a call).
- A bar the table refuses (a ValidationException: nothing a retry can fix) is quarantined alone to the
  failure queue with the reason, as a malformed one is: the chunk it was in is written item by item to
  find it, and the batch goes on.
- A bar whose write still fails after the SDK's retries (throttling, an outage), or that DynamoDB still
  leaves unprocessed after the jittered back-off of `regime_aws.batch_calls`, is reported in
  `batchItemFailures`; Lambda retries from it, and past MaximumRetryAttempts the event source mapping's
  on-failure destination (the same queue) gets the batch's coordinates.

Powertools' BatchProcessor calls a handler once per record; a replay or a simulated session delivers hundreds
of bars per batch and the writes must be batched (25 per call), so the partial batch response is built here.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import statistics
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

from regime.contracts import Bar, BarError, BarSource
from regime.contracts.bar import jump_problem
from regime_aws.batch_calls import REFUSALS, Refused, error_code, get_all, write_all
from regime_aws.clients import client
from regime_aws.dynamodb_items import from_wire, to_wire
from regime_aws.symbols import configured_symbols
from regime_aws.tracing import function_tracer

# Service and namespace: POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE (the template's Globals).
logger = Logger()
metrics = Metrics()
tracer = function_tracer()  # X-Ray, when the template's Tracing parameter is Active

WRITE_CHUNK = 25  # BatchWriteItem's limit
READ_CHUNK = 100  # BatchGetItem's limit
JUMP_MIN_BARS = 3  # bars of a symbol in a batch before its median close judges a jump
QUEUE_CHUNK = 10  # SendMessageBatch's limit
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
    conflicts: int = 0  # duplicates inside the batch with other values (the first kept)


@dataclass(frozen=True, slots=True)
class Written:
    """What a write of the staged bars left: sequence numbers to retry, bars refused for good, conflicts."""

    failed: set[str]
    refused: dict[str, str]  # sequence number -> why the table refused its bar
    conflicts: int
    written: int = 0  # bars written (a duplicate of a stored bar is not)


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
    """Validate every record; a later duplicate of a (symbol, minute) keeps the first (see `_keeps`).

    Any error, whatever its type, rejects that record alone (int(NaN) raises ValueError, int(inf)
    OverflowError: a contract's own checks are not the only ways a payload can be wrong).
    """
    bars: dict[tuple[str, str], tuple[Bar, list[str]]] = {}
    rejected: list[Rejected] = []
    conflicts = 0
    parsed: list[tuple[KinesisStreamRecord, str, Bar]] = []
    for record in records:
        kinesis = record.get("kinesis") or {}
        seq = str(kinesis.get("sequenceNumber", ""))
        try:
            parsed.append((record, seq, parse_record(record, settings, now)))
        except Exception as exc:
            reason = str(exc) if isinstance(exc, BarError) else f"record: {type(exc).__name__}: {exc}"
            rejected.append(
                Rejected(seq, str(kinesis.get("partitionKey", "")), reason, _payload_text(record))
            )
    reference = _reference_closes([bar for _, _, bar in parsed])
    for record, seq, bar in parsed:
        jump = jump_problem(bar, reference.get(bar.symbol))
        if jump:  # a bad print, however valid each number is alone
            partition_key = str((record.get("kinesis") or {}).get("partitionKey", ""))
            rejected.append(Rejected(seq, partition_key, jump, _payload_text(record)))
            continue
        key = (bar.symbol, bar.to_dict()["ts"])
        previous = bars.get(key)
        if previous is None:
            bars[key] = (bar, [seq])
            continue
        kept, conflict = _keeps(previous[0], bar)
        conflicts += conflict
        bars[key] = (kept, [*previous[1], seq])
    return Staged(bars, rejected, conflicts)


def _reference_closes(bars: list[Bar]) -> dict[str, float]:
    """Per symbol, the median close of the batch's bars: the price a bad print is measured against (from
    three bars up, so that one outlier cannot be the reference)."""
    closes: dict[str, list[float]] = {}
    for bar in bars:
        closes.setdefault(bar.symbol, []).append(bar.close)
    return {symbol: statistics.median(c) for symbol, c in closes.items() if len(c) >= JUMP_MIN_BARS}


def _keeps(first: Bar, second: Bar) -> tuple[Bar, bool]:
    """Which of two bars of one (symbol, minute) stays, and whether they conflict (other values).

    The first stays, unless the second comes from IB and the first does not (the authoritative source).
    """
    if dataclasses.replace(second, source=first.source) == first:
        return first, False  # the same values (from another source, or the same bar sent again)
    kept = second if second.source is BarSource.IB and first.source is not BarSource.IB else first
    logger.warning(
        "bar conflicts with the stored one: keeping %s",
        "the new one (IB)" if kept is second else "the first",
        extra={"symbol": first.symbol, "ts": first.to_dict()["ts"], "first": first.to_dict(),
               "duplicate": second.to_dict()},
    )  # fmt: skip
    return kept, True


def _payload_text(record: KinesisStreamRecord) -> str:
    data = str((record.get("kinesis") or {}).get("data", ""))
    try:
        return base64.b64decode(data).decode("utf-8", "replace")[:MAX_PAYLOAD_CHARS]
    except (binascii.Error, ValueError):
        return data[:MAX_PAYLOAD_CHARS]


def bar_item(bar: Bar, ttl_days: int) -> dict[str, Any]:
    """The DynamoDB item: the Bar contract's own fields plus the TTL."""
    return {**bar.to_dict(), "expires_at": int(bar.ts.timestamp()) + ttl_days * 86_400}


def write_bars(staged: Staged, settings: Settings) -> Written:
    """Write the valid bars a stored bar does not already hold; say what failed and what was refused."""
    failed: set[str] = set()
    refused: dict[str, str] = {}
    entries = list(staged.bars.items())
    stored = _stored(settings.bars_table, [key for key, _ in entries])
    if stored is None:  # unreadable: nothing written blind over what may be there; Lambda retries
        return Written({seq for _, (_, seqs) in entries for seq in seqs}, refused, staged.conflicts)
    conflicts = staged.conflicts
    items: list[tuple[tuple[str, str], list[str], dict[str, Any]]] = []
    for key, (bar, seqs) in entries:
        if key in stored:
            kept, conflict = _keeps(stored[key], bar)
            conflicts += conflict
            if kept is not bar:
                continue  # the stored bar stays
        try:
            items.append((key, seqs, to_wire(bar_item(bar, settings.ttl_days))))
        except Exception as exc:  # a value no DynamoDB Number holds, whatever slipped past the contract
            refused.update((seq, f"item: {type(exc).__name__}: {exc}") for seq in seqs)
    for start in range(0, len(items), WRITE_CHUNK):
        chunk = items[start : start + WRITE_CHUNK]
        requests = [{"PutRequest": {"Item": item}} for _, _, item in chunk]
        try:
            left = write_all(_dynamodb(), settings.bars_table, requests)
        except Refused:  # one item spoils the call: find it, write the others
            failed_one, refused_one = _put_each(settings.bars_table, chunk)
            failed |= failed_one
            refused |= refused_one
            continue
        except (ClientError, BotoCoreError) as exc:  # the whole chunk failed, the SDK's retries spent
            logger.error("bars write failed after retries", extra={"error": str(exc), "items": len(chunk)})
            failed.update(seq for _, seqs, _ in chunk for seq in seqs)
            continue
        if left:
            logger.error("bars left unprocessed", extra={"items": len(left)})
        unwritten = {
            (r["PutRequest"]["Item"]["symbol"]["S"], r["PutRequest"]["Item"]["ts"]["S"]) for r in left
        }
        failed.update(seq for key, seqs, _ in chunk if key in unwritten for seq in seqs)
    gone = failed.union(refused)
    return Written(failed, refused, conflicts, sum(1 for _, seqs, _ in items if not gone.intersection(seqs)))


def _stored(table: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Bar] | None:
    """The bars already stored under `keys` (None: the table could not be read)."""
    found: dict[tuple[str, str], Bar] = {}
    for start in range(0, len(keys), READ_CHUNK):
        request = {
            "Keys": [{"symbol": {"S": s}, "ts": {"S": t}} for s, t in keys[start : start + READ_CHUNK]],
            "ConsistentRead": True,
        }
        try:
            items, unread = get_all(_dynamodb(), table, request)
        except Refused:  # a key the table cannot hold: it holds no bar under it
            continue
        except (ClientError, BotoCoreError) as exc:
            logger.error("bars read failed after retries", extra={"error": str(exc)})
            return None
        if unread:
            logger.error("bars left unread", extra={"keys": unread})
            return None
        for item in items:
            try:
                bar = Bar.from_dict(from_wire(item))
            except (BarError, ValueError):
                continue  # a stored item that breaks the contract is replaced
            found[(bar.symbol, bar.to_dict()["ts"])] = bar
    return found


def _put_each(
    table: str, chunk: list[tuple[tuple[str, str], list[str], dict[str, Any]]]
) -> tuple[set[str], dict[str, str]]:
    """Write a refused chunk item by item: the sequence numbers to retry, and those refused with why."""
    failed: set[str] = set()
    refused: dict[str, str] = {}
    for _, seqs, item in chunk:
        try:
            _dynamodb().put_item(TableName=table, Item=item)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) in REFUSALS:
                refused.update((seq, f"write: {exc}") for seq in seqs)
            else:
                failed.update(seqs)
    return failed, refused


def quarantine(rejected: Sequence[Rejected], settings: Settings, kind: str = "malformed_bar") -> set[str]:
    """Send rejects to the failure queue with their reason; return the sequence numbers not sent."""
    failed: set[str] = set()
    for start in range(0, len(rejected), QUEUE_CHUNK):
        chunk = rejected[start : start + QUEUE_CHUNK]
        entries = [
            {
                "Id": str(i),
                "MessageBody": json.dumps(
                    {
                        "kind": kind,
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
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Kinesis batch in; partial batch response out (only records worth retrying are reported)."""
    settings = Settings.from_env()
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        raise EventError(f"Records: expected the list of a Kinesis batch, got {str(event)[:200]!r}")
    records = list(KinesisStreamEvent(event).records)
    staged = stage(records, settings, datetime.now(UTC))
    for r in staged.rejected:
        logger.warning("malformed bar", extra={"reason": r.reason, "sequenceNumber": r.sequence_number})
    written = write_bars(staged, settings)
    order = [str((r.get("kinesis") or {}).get("sequenceNumber", "")) for r in records]
    unwritable = [
        Rejected(
            seq, str((r.get("kinesis") or {}).get("partitionKey", "")), written.refused[seq], _payload_text(r)
        )
        for seq, r in zip(order, records, strict=True)
        if seq in written.refused
    ]
    for r in unwritable:
        logger.error(
            "bar refused by the table", extra={"reason": r.reason, "sequenceNumber": r.sequence_number}
        )
    failed = (
        written.failed
        | quarantine(staged.rejected, settings)
        | quarantine(unwritable, settings, kind="unwritable_bar")
    )
    metrics.add_metric(name="BarsWritten", unit=MetricUnit.Count, value=written.written)
    metrics.add_metric(
        name="BarsRejected", unit=MetricUnit.Count, value=len(staged.rejected) + len(unwritable)
    )
    metrics.add_metric(name="BarsRetried", unit=MetricUnit.Count, value=len(failed))
    metrics.add_metric(name="BarConflicts", unit=MetricUnit.Count, value=written.conflicts)
    # Kinesis checkpoints at the lowest reported sequence number: report in record order.
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in order if seq in failed]}
