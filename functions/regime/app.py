"""regime: at each 5-minute boundary, decide the regime of every configured symbol and publish it.

Per symbol: read the last WINDOW_MINUTES of bars; if the last minute's bar is still in flight, wait up to
BAR_WAIT_SECONDS and read the tail again; features + one ONNX run + the vote (`regime.inference`); write the
item only if its window_end is newer than the stored one; keep a history record and send it to Firehose.
The boundary is the schedule event's `time` (EventBridge sets it to the scheduled minute), so a virtual
clock drives this handler the same way the real one does; a `time` ahead of the real clock is refused.

Isolation: one symbol's failure (its bars, its model, its writes) is logged and counted (`SymbolFailures`)
and never stops another symbol; the invocation then fails at the end, so that the errors alarm fires and
Lambda's one retry (EventInvokeConfig) completes what is missing.

Models: the pointer (`regime.contracts.ModelPointer`, read through one Powertools SSM provider) names an S3
key per symbol. A model is loaded once per container and per key; one that fails to load or to run is
remembered as bad for that key, and the model packaged in the layer serves instead (`ModelFallback`).

Writes, so that a retry completes what a failed attempt left undone (item, history and archive each once):
1. the item, only if its window_end is newer; if the stored one has the same window_end, this is a retry or a
   duplicate: the stored decision is the one to complete;
2. the history record (symbol, window_end), only if absent, marked `archived: false`;
3. one Firehose batch of every record not yet archived, then the history records marked `archived: true`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

import regime
from regime.bar_series import BarSeries
from regime.contracts import Bar, BarError, ModelPointer, PointerError, Regime, RegimeItem
from regime.contracts.cadence import DECISION_INTERVAL, DECISION_VALIDITY
from regime.contracts.numbers import exact_decimals, json_number
from regime.contracts.timestamps import format_minute as _iso
from regime.inference import ModelError, RegimeModel
from regime.recent_bars import RecentBars

# Service and namespace: POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE (the template's Globals).
logger = Logger()
metrics = Metrics()

STALE_AFTER = DECISION_INTERVAL  # a window ending earlier than this before the boundary is no decision
DEFAULT_LAYER_MODEL = Path(regime.__file__).parent / "model" / "ensemble.onnx"
WRITE_CHUNK = 25  # BatchWriteItem's limit
FIREHOSE_CHUNK = 500  # PutRecordBatch's limit


class DecisionWriteError(RuntimeError):
    """Some decisions could not be made or stored (the message names each symbol and what failed)."""


class EventError(ValueError):
    """The invocation event breaks its schema (the message names the field)."""


@dataclass(frozen=True, slots=True)
class Settings:
    symbols: tuple[str, ...]
    bars_table: str
    regime_table: str
    history_table: str
    delivery_stream: str
    models_bucket: str
    pointer_parameter: str
    window_minutes: int
    bar_wait_seconds: float
    bar_poll_seconds: float
    history_ttl_days: int
    pointer_max_age: int
    max_event_ahead: timedelta
    read_threads: int
    layer_model: Path

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            symbols=tuple(s.strip() for s in env["SYMBOLS"].split(",") if s.strip()),
            bars_table=env["BARS_TABLE"],
            regime_table=env["REGIME_TABLE"],
            history_table=env["REGIME_HISTORY_TABLE"],
            delivery_stream=env["REGIMES_DELIVERY_STREAM"],
            models_bucket=env["MODELS_BUCKET"],
            pointer_parameter=env["MODEL_POINTER_PARAMETER"],
            window_minutes=int(env.get("WINDOW_MINUTES", "80")),
            bar_wait_seconds=float(env.get("BAR_WAIT_SECONDS", "20")),
            bar_poll_seconds=float(env.get("BAR_POLL_SECONDS", "1")),
            history_ttl_days=int(env.get("HISTORY_TTL_DAYS", "400")),
            pointer_max_age=int(env.get("POINTER_MAX_AGE_SECONDS", "300")),
            max_event_ahead=timedelta(seconds=float(env.get("MAX_EVENT_AHEAD_SECONDS", "60"))),
            read_threads=int(env.get("READ_THREADS", "8")),
            layer_model=Path(env.get("LAYER_MODEL_PATH", str(DEFAULT_LAYER_MODEL))),
        )


# ---------------------------------------------------------------- AWS: one client per service, one serializer
@cache
def _client(service: str) -> Any:
    # No Config object: retry mode, attempts and timeouts come from AWS_DEFAULTS_MODE / AWS_MAX_ATTEMPTS,
    # set once in the template's Globals for every function (and for Powertools' own clients).
    return boto3.client(service)  # type: ignore[call-overload]


@cache
def pointer_provider() -> SSMProvider:
    """The one Parameters provider that reads the model pointer (cached for POINTER_MAX_AGE_SECONDS)."""
    return SSMProvider(boto3_client=_client("ssm"))


_SER = TypeSerializer()
_DESER = TypeDeserializer()


def to_wire(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready record as a DynamoDB item (floats as exact Decimals, as DynamoDB wants them)."""
    return {k: _SER.serialize(v) for k, v in exact_decimals(record).items()}


def from_wire(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item back to plain JSON-ready values (whole Decimals as int, others as float)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return json_number(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {k: plain(_DESER.deserialize(v)) for k, v in item.items()}


# ---------------------------------------------------------------- the event
class ScheduleEvent(BaseModel):
    """The parts of an EventBridge scheduled event this function reads (others are ignored)."""

    model_config = ConfigDict(strict=True, extra="ignore")
    time: AwareDatetime | None = None


def explain(exc: ValidationError) -> str:
    """One line per wrong field: 'field: what is wrong (got value)'."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']} (got {e.get('input')!r})"
        for e in exc.errors()
    )


def boundary_of(event: object, now: datetime, settings: Settings) -> datetime:
    """The 5-minute boundary the event asks for; EventError for a wrong type or a time ahead of the clock."""
    if not isinstance(event, dict):
        raise EventError(f"event: expected a JSON object, got {type(event).__name__}")
    try:
        # Strict JSON validation: a string is a datetime only if ISO-8601, a number is never one.
        parsed = ScheduleEvent.model_validate_json(json.dumps(event, default=str))
    except ValidationError as exc:
        raise EventError(explain(exc)) from exc
    ts = (parsed.time or now).astimezone(UTC).replace(second=0, microsecond=0)
    if ts > now + settings.max_event_ahead:
        # Such a decision would be valid until then, and the conditional write would refuse every real one.
        raise EventError(
            f"time: {ts.isoformat()} is ahead of the clock ({now.isoformat()}) by more than "
            f"{settings.max_event_ahead.total_seconds():.0f} s"
        )
    return ts


# ---------------------------------------------------------------- the model, once per container and version
def _model_fault(exc: BaseException) -> bool:
    """Errors that say the model itself is unusable (onnxruntime's own types are not ValueError)."""
    return isinstance(exc, ModelError) or type(exc).__module__.startswith("onnxruntime")


class ModelStore:
    """Models by source (S3 key or layer path), and sources found unusable, with why."""

    def __init__(self) -> None:
        self._loaded: dict[str, RegimeModel] = {}
        self.bad: dict[str, str] = {}
        self.problem = ""

    def clear(self) -> None:
        self._loaded.clear()
        self.bad.clear()

    def mark_bad(self, source: str, exc: BaseException) -> None:
        """Remember `source` as unusable for the life of the container (a new version gets a new key)."""
        self.bad[source] = f"{type(exc).__name__}: {exc}"
        self._loaded.pop(source, None)
        logger.error("model unusable, remembered as bad", extra={"source": source, "error": self.bad[source]})

    def candidates(self, symbol: str, settings: Settings) -> Iterator[tuple[RegimeModel, str]]:
        """The pointed model, then the layer's: (model, source) for each that loads; bad ones are skipped.

        Once the caller stops iterating, `self.problem` says why the pointed model did not serve (if so).
        """
        self.problem = ""
        key = self._pointed_key(symbol, settings)
        if key is not None:
            source = f"s3://{settings.models_bucket}/{key}"
            loaded = self._load(source, lambda: _s3_bytes(settings.models_bucket, key))
            if isinstance(loaded, RegimeModel):
                yield loaded, source
                loaded = self.bad.get(source, "failed to run")
            self.problem = f"model {source} unusable: {loaded}"
        if self.problem:
            metrics.add_metric(name="ModelFallback", unit=MetricUnit.Count, value=1)
            logger.warning(
                "falling back to the layer model", extra={"symbol": symbol, "problem": self.problem}
            )
        layer = settings.layer_model
        if not layer.exists():
            self.problem = f"{self.problem + '; ' if self.problem else ''}no layer model at {layer}"
            return
        loaded = self._load(str(layer), layer.read_bytes)
        if isinstance(loaded, str):
            self.problem = f"{self.problem + '; ' if self.problem else ''}layer model unusable: {loaded}"
            return
        yield loaded, str(layer)
        # Reached only when the layer's model failed to run too.
        self.problem = (
            f"{self.problem + '; ' if self.problem else ''}layer model unusable: {self.bad.get(str(layer))}"
        )

    def _pointed_key(self, symbol: str, settings: Settings) -> str | None:
        try:
            value = pointer_provider().get(settings.pointer_parameter, max_age=settings.pointer_max_age)
            entry = ModelPointer.from_json(str(value)).entry(symbol)
        except (GetParameterError, PointerError) as exc:
            self.problem = f"pointer unusable: {exc}"
            return None
        return entry.key if entry else None

    def _load(self, source: str, read: Callable[[], bytes]) -> RegimeModel | str:
        """The model of `source` (loaded once), or why there is none."""
        if source in self.bad:
            return self.bad[source]
        if source not in self._loaded:
            try:
                data = read()
            except (
                ClientError,
                BotoCoreError,
                OSError,
            ) as exc:  # unreachable: not the model's fault, retry later
                return f"unreadable: {exc}"
            try:
                self._loaded[source] = RegimeModel.load(data)
            except Exception as exc:  # truncated, corrupt, not an ensemble: onnxruntime raises its own types
                self.mark_bad(source, exc)
                return self.bad[source]
        return self._loaded[source]


def _s3_bytes(bucket: str, key: str) -> bytes:
    body = _client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    try:
        data: bytes = body.read()
    finally:
        body.close()
    return data


MODELS = ModelStore()
RECENT_BARS = RecentBars()  # per container, as the models: a warm invocation reads only the window's tail


# ---------------------------------------------------------------- bars
def bar_of_item(item: dict[str, Any]) -> Bar:
    """A bars-table item (DynamoDB wire format) back into the Bar contract."""
    plain = from_wire(item)
    plain.pop("expires_at", None)
    return Bar.from_dict(plain)


def read_bars(table: str, symbol: str, after: str, before: str) -> list[Bar]:
    """Bars of `symbol` with after < ts < before (ISO minute strings sort in time order)."""
    bars: list[Bar] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "symbol = :s AND ts BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":s": {"S": symbol}, ":a": {"S": after}, ":b": {"S": before}},
    }
    while True:
        page = _client("dynamodb").query(**kwargs)
        for item in page["Items"]:
            try:
                bar = bar_of_item(item)
            except (
                BarError,
                ValueError,
                OverflowError,
            ) as exc:  # a bad stored item must not cost the decision
                logger.warning("unreadable bar item", extra={"symbol": symbol, "error": str(exc)})
                continue
            if after < item["ts"]["S"] < before:
                bars.append(bar)
        if "LastEvaluatedKey" not in page:
            return bars
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def collect_windows(settings: Settings, boundary: datetime, failures: dict[str, str]) -> dict[str, list[Bar]]:
    """Bars before `boundary` per symbol, waiting (bounded) for late last bars and reading only the tail.

    A symbol whose bars cannot be read is left out and its reason put in `failures`.
    """
    window = timedelta(minutes=settings.window_minutes)
    start = _iso(boundary - window)
    end = _iso(boundary)
    last_needed = _iso(boundary - timedelta(minutes=1))
    bars: dict[str, list[Bar]] = {}

    def read(symbol: str, after: str) -> None:
        try:
            bars.setdefault(symbol, []).extend(read_bars(settings.bars_table, symbol, after, end))
        except (ClientError, BotoCoreError) as exc:
            failures[symbol] = f"{symbol}: Query {settings.bars_table} failed: {exc}"
            bars.pop(symbol, None)
            RECENT_BARS.forget(settings.bars_table, symbol)

    def read_window(symbol: str) -> None:
        # What a previous boundary read is kept: only the tail (and a few minutes before it) is read again.
        kept, read_after = RECENT_BARS.split(settings.bars_table, symbol, boundary - window, boundary)
        bars[symbol] = kept
        read(symbol, _iso(read_after))

    _client("dynamodb")  # made once before the threads share it (making a client is not thread-safe)
    # The queries are I/O: a few in flight at once keep 100 symbols' windows within the boundary's seconds.
    with ThreadPoolExecutor(max_workers=max(1, min(settings.read_threads, len(settings.symbols)))) as pool:
        list(pool.map(read_window, settings.symbols))
    deadline = time.monotonic() + settings.bar_wait_seconds

    def late() -> list[str]:
        return [s for s, b in bars.items() if not b or _iso(b[-1].ts) < last_needed]

    while (waiting := late()) and time.monotonic() < deadline:
        time.sleep(min(settings.bar_poll_seconds, max(0.0, deadline - time.monotonic())))
        for s in waiting:
            read(s, _iso(bars[s][-1].ts) if bars[s] else start)
    for s in late():
        logger.info(
            "last bar missing after waiting", extra={"symbol": s, "waited_s": settings.bar_wait_seconds}
        )
    for s, window_bars in bars.items():
        RECENT_BARS.keep(settings.bars_table, s, window_bars)
    return bars


# ---------------------------------------------------------------- the decision
def decide(symbol: str, bars: list[Bar], boundary: datetime, now: datetime, settings: Settings) -> RegimeItem:
    """The regime for the window ending at `boundary`; `nothing` with the reason when it cannot be decided.

    A model that fails to run is remembered as bad and the next candidate (the layer's) decides instead.
    """

    def nothing(reason: str, version: str) -> RegimeItem:
        return RegimeItem(
            symbol=symbol,
            regime=Regime.NOTHING,
            window_end=boundary,
            computed_at=now,
            valid_until=boundary + DECISION_VALIDITY,
            model_version=version,
            reason=reason,
        )

    series = BarSeries.from_bars(bars) if bars else None
    for model, source in MODELS.candidates(symbol, settings):
        if series is None:
            return nothing(
                f"no bars in the {settings.window_minutes} minutes before {_iso(boundary)}", model.version
            )
        try:
            item = model.decide(series, now=now)
        except Exception as exc:
            if not _model_fault(exc):
                raise  # the data's fault, not the model's: this symbol fails, the model stays
            MODELS.mark_bad(source, exc)
            continue
        if item.window_end < boundary - STALE_AFTER:
            return nothing(f"stale: the last bar ends at {_iso(item.window_end)}", model.version)
        return item
    logger.error("no model available", extra={"symbol": symbol, "problem": MODELS.problem})
    return nothing(f"no model: {MODELS.problem}", "none")


# ---------------------------------------------------------------- the writes
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


def _put(table: str, item: dict[str, Any], symbol: str, **condition: Any) -> bool:
    """A conditional PutItem; False when the condition failed, DecisionWriteError for anything else."""
    try:
        _client("dynamodb").put_item(TableName=table, Item=to_wire(item), **condition)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise DecisionWriteError(f"{symbol}: PutItem {table} failed: {exc}") from exc
    except BotoCoreError as exc:
        raise DecisionWriteError(f"{symbol}: PutItem {table} failed: {exc}") from exc
    return True


def _get(table: str, key: dict[str, str], symbol: str) -> dict[str, Any] | None:
    try:
        response = _client("dynamodb").get_item(
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
    if not _put(
        settings.regime_table,
        record,
        item.symbol,
        ConditionExpression="attribute_not_exists(window_end) OR window_end < :w",
        ExpressionAttributeValues={":w": {"S": record["window_end"]}},
    ):
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
        return Stored(Outcome.COMPLETED if outcome is Outcome.ALREADY else outcome, item, True)
    kept = _get(
        settings.history_table, {"symbol": item.symbol, "window_end": record["window_end"]}, item.symbol
    )
    if kept is not None and kept.get("archived") is True:
        return Stored(outcome, item, False)
    return Stored(Outcome.COMPLETED if outcome is Outcome.ALREADY else outcome, item, True)


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
            response = _client("firehose").put_record_batch(
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
            left = _client("dynamodb").batch_write_item(RequestItems={settings.history_table: requests})
            unmarked = {
                r["PutRequest"]["Item"]["symbol"]["S"]
                for r in left.get("UnprocessedItems", {}).get(settings.history_table, [])
            }
        except (ClientError, BotoCoreError) as exc:
            unmarked = {i.symbol for i in chunk}
            logger.error("archived mark not written", extra={"error": str(exc)})
        for symbol in unmarked:
            failures[symbol] = f"{symbol}: archived but not marked in {settings.history_table}"
    if failures:
        metrics.add_metric(name="HistoryNotArchived", unit=MetricUnit.Count, value=len(failures))
    return failures


def _record_metrics(item: RegimeItem) -> None:
    """Per symbol (a dimension): which regime, and each hemisphere's confidence."""
    name = {Regime.TREND: "RegimeTrend", Regime.RANGE: "RegimeRange", Regime.NOTHING: "RegimeNothing"}
    dims = {"service": metrics.service or "", "symbol": item.symbol}
    for metric, unit, value in (
        (name[item.regime], MetricUnit.Count, 1.0),
        ("TrendConfidence", MetricUnit.NoUnit, item.trend_confidence),
        ("RangeConfidence", MetricUnit.NoUnit, item.range_confidence),
    ):
        with single_metric(
            name=metric, unit=unit, value=value, namespace=metrics.namespace, default_dimensions=dims
        ):
            pass


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Scheduled event in; one decision per configured symbol out (stored, history kept, archived)."""
    started = time.perf_counter()
    settings = Settings.from_env()
    boundary = boundary_of(event, datetime.now(UTC), settings)
    failures: dict[str, str] = {}
    windows = collect_windows(settings, boundary, failures)
    now = datetime.now(UTC)
    summary: dict[str, Any] = {}
    to_archive: list[RegimeItem] = []
    for symbol in settings.symbols:
        if symbol in failures:
            continue
        try:
            stored = store(decide(symbol, windows[symbol], boundary, now, settings), settings)
        except Exception as exc:  # one symbol's failure must never cost another symbol its decision
            failures[symbol] = (
                str(exc) if isinstance(exc, DecisionWriteError) else f"{symbol}: {type(exc).__name__}: {exc}"
            )
            logger.exception("symbol failed", extra={"symbol": symbol})
            continue
        item = stored.item
        if stored.to_archive:
            to_archive.append(item)
        if stored.outcome is Outcome.WRITTEN:
            _record_metrics(item)
        summary[symbol] = {
            "regime": item.regime.value,
            "window_end": _iso(item.window_end),
            "written": stored.outcome is Outcome.WRITTEN,
            "outcome": stored.outcome.value,
            "model_version": item.model_version,
            "reason": item.reason,
        }
        logger.info("decision", extra={"symbol": symbol, **summary[symbol]})
    failures.update(archive(to_archive, settings))
    written = sum(1 for d in summary.values() if d["written"])
    metrics.add_metric(name="DecisionsWritten", unit=MetricUnit.Count, value=written)
    metrics.add_metric(name="SymbolFailures", unit=MetricUnit.Count, value=len(failures))
    metrics.add_metric(
        name="DecisionLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000
    )
    if failures:  # a failed invocation: the errors alarm fires and Lambda's one retry completes the rest
        raise DecisionWriteError("; ".join(failures[s] for s in sorted(failures)))
    return {"boundary": _iso(boundary), "decisions": summary}
