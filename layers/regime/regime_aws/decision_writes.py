"""The regime function's writes, so that a retry completes what a failed attempt left undone.

1. the item, only if its window_end is newer; if the stored one has the same window_end, this is a retry or a
   duplicate: the stored decision is the one to complete;
2. the history record (symbol, window_end), only if absent, marked `archived: false`; and the same for the
   decision the item replaced, unless its history is kept and archived: a retry can decide a later window
   than the failed attempt did (its last bar arrived meanwhile), and whatever the `regime` item held, hosts
   could trade on, so it reaches the history and the archive whatever the retry decides;
3. one Firehose batch of every record not yet archived, then the history records marked `archived: true`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from regime.contracts import RegimeItem
from regime_aws import SERVICE
from regime_aws.batch_calls import Refused, write_all
from regime_aws.clients import client
from regime_aws.decision_settings import Settings
from regime_aws.dynamodb_items import from_wire, to_wire

logger = Logger(child=True, service=SERVICE)
metrics = Metrics()  # Powertools' metric set is shared: the handler's log_metrics flushes these

WRITE_CHUNK = 25  # BatchWriteItem's limit
FIREHOSE_CHUNK = 500  # PutRecordBatch's limit


class DecisionWriteError(RuntimeError):
    """Some decisions could not be made or stored (the message names each symbol and what failed)."""


class Outcome(StrEnum):
    WRITTEN = "written"  # a new decision
    COMPLETED = "completed"  # the stored decision for this window, its history or archive completed
    ALREADY = "already"  # this window was decided, kept and archived before
    SUPERSEDED = "superseded"  # a newer window is stored: this one is late and dropped


@dataclass(frozen=True, slots=True)
class Stored:
    outcome: Outcome
    item: RegimeItem
    to_archive: bool
    replaced: RegimeItem | None = None  # the decision the item replaced, when its history was not complete


def _put(table: str, item: dict[str, Any], symbol: str, **condition: Any) -> bool:
    """A conditional PutItem; False when the condition failed, DecisionWriteError for anything else."""
    return _put_returning(table, item, symbol, **condition) is not False


def _put_returning(table: str, item: dict[str, Any], symbol: str, **condition: Any) -> dict[str, Any] | bool:
    """A conditional PutItem returning the item it replaced (True: none); False when the condition failed."""
    try:
        response = client("dynamodb").put_item(TableName=table, Item=to_wire(item), **condition)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise DecisionWriteError(f"{symbol}: PutItem {table} failed: {exc}") from exc
    except BotoCoreError as exc:
        raise DecisionWriteError(f"{symbol}: PutItem {table} failed: {exc}") from exc
    old = response.get("Attributes")
    return from_wire(old) if old else True


def _get(table: str, key: dict[str, str], symbol: str) -> dict[str, Any] | None:
    try:
        response = client("dynamodb").get_item(
            TableName=table, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True
        )
    except (ClientError, BotoCoreError) as exc:
        raise DecisionWriteError(f"{symbol}: GetItem {table} failed: {exc}") from exc
    item = response.get("Item")
    return from_wire(item) if item else None


def history_record(item: RegimeItem, settings: Settings, archived: bool) -> dict[str, Any]:
    expires = int(item.window_end.timestamp()) + settings.history_ttl_days * 86_400
    return {**item.to_dict(), "expires_at": expires, "archived": archived}


def store(item: RegimeItem, settings: Settings) -> Stored:
    """Write the item (if newer) and its history record (if absent); say whether it still needs archiving."""
    record = item.to_dict()
    outcome = Outcome.WRITTEN
    written = _put_returning(
        settings.regime_table,
        record,
        item.symbol,
        ConditionExpression="attribute_not_exists(window_end) OR window_end < :w",
        ExpressionAttributeValues={":w": {"S": record["window_end"]}},
        ReturnValues="ALL_OLD",
    )
    replaced = _unkept(RegimeItem.from_dict(written), settings) if isinstance(written, dict) else None
    if written is False:
        current = _get(settings.regime_table, {"symbol": item.symbol}, item.symbol)
        if current is None or current["window_end"] != record["window_end"]:
            return Stored(Outcome.SUPERSEDED, item, False)
        item = RegimeItem.from_dict(current)  # the decision already stored is the one to keep and archive
        outcome = Outcome.ALREADY
    if _put(
        settings.history_table,
        history_record(item, settings, archived=False),
        item.symbol,
        ConditionExpression="attribute_not_exists(window_end)",
    ):
        return Stored(Outcome.COMPLETED if outcome is Outcome.ALREADY else outcome, item, True, replaced)
    kept = _get(
        settings.history_table, {"symbol": item.symbol, "window_end": record["window_end"]}, item.symbol
    )
    if kept is not None and kept.get("archived") is True:
        return Stored(outcome, item, False, replaced)
    return Stored(Outcome.COMPLETED if outcome is Outcome.ALREADY else outcome, item, True, replaced)


def _unkept(old: RegimeItem, settings: Settings) -> RegimeItem | None:
    """The replaced decision, with its history record written, when that record was missing or not archived
    (it then needs archiving); None when its history is complete (one conditional write, usually refused)."""
    if _put(
        settings.history_table,
        history_record(old, settings, archived=False),
        old.symbol,
        ConditionExpression="attribute_not_exists(window_end) OR archived = :f",
        ExpressionAttributeValues={":f": {"BOOL": False}},
    ):
        logger.warning(
            "the replaced decision had no complete history: kept now",
            extra={"symbol": old.symbol, "window_end": old.to_dict()["window_end"]},
        )
        return old
    return None


def archive(items: list[RegimeItem], settings: Settings) -> dict[str, str]:
    """Send the decisions to Firehose, then mark their history archived; returns failures by symbol.

    A line whose acknowledgement (the history mark) fails is sent again by the retry: the archive's
    (symbol, window_end) key is the dedupe key of every query on it.
    """
    failures: dict[str, str] = {}
    sent: list[RegimeItem] = []
    for start in range(0, len(items), FIREHOSE_CHUNK):
        chunk = items[start : start + FIREHOSE_CHUNK]
        records = [{"Data": (json.dumps(i.to_dict(), separators=(",", ":")) + "\n").encode()} for i in chunk]
        try:
            response = client("firehose").put_record_batch(
                DeliveryStreamName=settings.delivery_stream, Records=records
            )
        except (ClientError, BotoCoreError) as exc:
            failures.update(
                {
                    i.symbol: f"{i.symbol}: PutRecordBatch {settings.delivery_stream} failed: {exc}"
                    for i in chunk
                }
            )
            continue
        for i, answer in zip(chunk, response.get("RequestResponses", []), strict=False):
            if answer.get("ErrorCode"):
                failures[i.symbol] = f"{i.symbol}: Firehose refused the record: {answer['ErrorCode']}"
            else:
                sent.append(i)
    for start in range(0, len(sent), WRITE_CHUNK):
        chunk = sent[start : start + WRITE_CHUNK]
        requests = [
            {"PutRequest": {"Item": to_wire(history_record(i, settings, archived=True))}} for i in chunk
        ]
        try:
            left = write_all(client("dynamodb"), settings.history_table, requests)  # jittered retries
            unmarked = {r["PutRequest"]["Item"]["symbol"]["S"] for r in left}
        except (Refused, ClientError, BotoCoreError) as exc:
            unmarked = {i.symbol for i in chunk}
            logger.error("archived mark not written", extra={"error": str(exc)})
        for symbol in unmarked:
            failures[symbol] = f"{symbol}: archived but not marked in {settings.history_table}"
    if failures:
        metrics.add_metric(name="HistoryNotArchived", unit=MetricUnit.Count, value=len(failures))
    return failures
