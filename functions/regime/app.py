"""regime: at each 5-minute boundary, decide the regime of every configured symbol and publish it.

Per symbol: read the last WINDOW_MINUTES of bars; if the last minute's bar is still in flight, wait up to
BAR_WAIT_SECONDS and read the tail again; features + one ONNX run + the vote (`regime.inference`); write the
item only if its window_end is newer than the stored one; keep a history record and send it to Firehose.
The boundary is the schedule event's `time` (EventBridge sets it to the scheduled minute), so a virtual
clock drives this handler the same way the real one does.

The model is loaded once per container and per version: the SSM pointer names an S3 key per symbol; with no
pointer entry, or when the pointed object cannot be read, the copy packaged in the layer is used.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities import parameters
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

import regime
from regime.bar_series import BarSeries
from regime.contracts import Bar, BarError, Regime, RegimeItem
from regime.contracts.cadence import DECISION_INTERVAL
from regime.contracts.cadence import DECISION_VALIDITY as DEFAULT_VALIDITY
from regime.contracts.numbers import exact_decimals, json_number
from regime.contracts.timestamps import format_minute as _iso
from regime.inference import RegimeModel

SERVICE = "regime"
logger = Logger(service=SERVICE)
NAMESPACE = "RegimeTrader"
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

SDK_MAX_ATTEMPTS = int(os.environ.get("SDK_MAX_ATTEMPTS", "4"))
_SDK_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": SDK_MAX_ATTEMPTS}, connect_timeout=2, read_timeout=5
)
STALE_AFTER = DECISION_INTERVAL  # a window ending earlier than this before the boundary is no decision
DEFAULT_LAYER_MODEL = Path(regime.__file__).parent / "model" / "ensemble.onnx"
_SER = TypeSerializer()
_DESER = TypeDeserializer()


class DecisionWriteError(RuntimeError):
    """A decision could not be stored after the SDK's retries (the message names symbol and table)."""


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
            layer_model=Path(env.get("LAYER_MODEL_PATH", str(DEFAULT_LAYER_MODEL))),
        )


@cache
def _client(service: str) -> Any:
    return boto3.client(service, config=_SDK_CONFIG)  # type: ignore[call-overload]


# ---------------------------------------------------------------- the model, once per container and version
class ModelStore:
    """Models by source (S3 key or layer path); what each symbol uses comes from the pointer."""

    def __init__(self) -> None:
        self._loaded: dict[str, RegimeModel] = {}

    def clear(self) -> None:
        self._loaded.clear()

    def for_symbol(self, symbol: str, settings: Settings) -> tuple[RegimeModel | None, str]:
        """The model to use and where it came from; (None, why) when there is none at all."""
        problem = ""
        try:
            pointer = parameters.get_parameter(
                settings.pointer_parameter, transform="json", max_age=settings.pointer_max_age
            )
            entry = pointer.get(symbol) if isinstance(pointer, dict) else None
        except (
            parameters.exceptions.GetParameterError,
            parameters.exceptions.TransformParameterError,
        ) as exc:
            entry, problem = None, f"pointer unreadable: {exc}"
        if entry is not None and not (isinstance(entry, dict) and isinstance(entry.get("key"), str)):
            entry, problem = None, f"pointer entry for {symbol} has no S3 key: {entry!r}"
        if entry:
            key = str(entry["key"])
            if key in self._loaded:
                return self._loaded[key], f"s3://{settings.models_bucket}/{key}"
            try:
                body = _client("s3").get_object(Bucket=settings.models_bucket, Key=key)["Body"].read()
                self._loaded[key] = RegimeModel.load(body)
                return self._loaded[key], f"s3://{settings.models_bucket}/{key}"
            except (ClientError, BotoCoreError, ValueError) as exc:
                problem = f"model s3://{settings.models_bucket}/{key} unusable: {exc}"
        if problem:
            logger.warning("falling back to the layer model", extra={"symbol": symbol, "problem": problem})
            metrics.add_metric(name="ModelFallback", unit=MetricUnit.Count, value=1)
        layer_key = str(settings.layer_model)
        if layer_key not in self._loaded:
            if not settings.layer_model.exists():
                return None, f"{problem + '; ' if problem else ''}no layer model at {layer_key}"
            self._loaded[layer_key] = RegimeModel.load(settings.layer_model)
        return self._loaded[layer_key], f"layer:{layer_key}"


MODELS = ModelStore()


# ---------------------------------------------------------------- bars
def _number(value: Any) -> Any:
    return json_number(value) if isinstance(value, Decimal) else value


def bar_of_item(item: dict[str, Any]) -> Bar:
    """A bars-table item (DynamoDB wire format) back into the Bar contract."""
    plain = {k: _number(_DESER.deserialize(v)) for k, v in item.items() if k != "expires_at"}
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
            except BarError as exc:  # a bad stored item must not cost the decision
                logger.warning("unreadable bar item", extra={"symbol": symbol, "error": str(exc)})
                continue
            if after < item["ts"]["S"] < before:
                bars.append(bar)
        if "LastEvaluatedKey" not in page:
            return bars
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def collect_windows(settings: Settings, boundary: datetime) -> dict[str, list[Bar]]:
    """Bars before `boundary` per symbol, waiting (bounded) for late last bars and reading only the tail."""
    start = _iso(boundary - timedelta(minutes=settings.window_minutes))
    end = _iso(boundary)
    last_needed = _iso(boundary - timedelta(minutes=1))
    bars = {s: read_bars(settings.bars_table, s, start, end) for s in settings.symbols}
    deadline = time.monotonic() + settings.bar_wait_seconds

    def late() -> list[str]:
        return [s for s, b in bars.items() if not b or _iso(b[-1].ts) < last_needed]

    while (waiting := late()) and time.monotonic() < deadline:
        time.sleep(min(settings.bar_poll_seconds, max(0.0, deadline - time.monotonic())))
        for s in waiting:
            newest = _iso(bars[s][-1].ts) if bars[s] else start
            bars[s].extend(read_bars(settings.bars_table, s, newest, end))
    for s in late():
        logger.info(
            "last bar missing after waiting", extra={"symbol": s, "waited_s": settings.bar_wait_seconds}
        )
    return bars


# ---------------------------------------------------------------- the decision
def decide(symbol: str, bars: list[Bar], boundary: datetime, now: datetime, settings: Settings) -> RegimeItem:
    """The regime for the window ending at `boundary`; `nothing` with the reason when it cannot be decided."""
    model, origin = MODELS.for_symbol(symbol, settings)

    def nothing(reason: str, version: str) -> RegimeItem:
        return RegimeItem(
            symbol=symbol,
            regime=Regime.NOTHING,
            window_end=boundary,
            computed_at=now,
            valid_until=boundary + DEFAULT_VALIDITY,
            model_version=version,
            reason=reason,
        )

    if model is None:
        logger.error("no model available", extra={"symbol": symbol, "problem": origin})
        return nothing(f"no model: {origin}", "none")
    if not bars:
        return nothing(
            f"no bars in the {settings.window_minutes} minutes before {_iso(boundary)}", model.version
        )
    item = model.decide(BarSeries.from_bars(bars), now=now)
    if item.window_end < boundary - STALE_AFTER:
        return nothing(f"stale: the last bar ends at {_iso(item.window_end)}", model.version)
    return item


def _wire(record: dict[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(v) for k, v in exact_decimals(record).items()}


def store(item: RegimeItem, settings: Settings) -> bool:
    """Conditional write (only a newer window_end wins) and its history record; False if already decided."""
    record = item.to_dict()
    try:
        _client("dynamodb").put_item(
            TableName=settings.regime_table,
            Item=_wire(record),
            ConditionExpression="attribute_not_exists(window_end) OR window_end < :w",
            ExpressionAttributeValues={":w": {"S": record["window_end"]}},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise DecisionWriteError(f"{item.symbol}: PutItem {settings.regime_table} failed: {exc}") from exc
    except BotoCoreError as exc:
        raise DecisionWriteError(f"{item.symbol}: PutItem {settings.regime_table} failed: {exc}") from exc
    expires = int(item.window_end.timestamp()) + settings.history_ttl_days * 86_400
    try:
        _client("dynamodb").put_item(
            TableName=settings.history_table,
            Item=_wire({**record, "expires_at": expires}),
            ConditionExpression="attribute_not_exists(window_end)",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise DecisionWriteError(
                f"{item.symbol}: PutItem {settings.history_table} failed: {exc}"
            ) from exc
    return True


def publish(items: list[RegimeItem], settings: Settings) -> None:
    """Send the written decisions to Firehose (one JSON line each); a failure here is logged, not fatal."""
    if not items:
        return
    records = [{"Data": (json.dumps(i.to_dict(), separators=(",", ":")) + "\n").encode()} for i in items]
    try:
        response = _client("firehose").put_record_batch(
            DeliveryStreamName=settings.delivery_stream, Records=records
        )
        failed = int(response.get("FailedPutCount", 0))
    except (ClientError, BotoCoreError) as exc:
        logger.error("regime history not sent to Firehose", extra={"error": str(exc)})
        failed = len(records)
    if failed:
        metrics.add_metric(name="HistoryNotArchived", unit=MetricUnit.Count, value=failed)


def _boundary(event: dict[str, Any]) -> datetime:
    raw = event.get("time")
    ts = datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else datetime.now(UTC)
    return ts.astimezone(UTC).replace(second=0, microsecond=0)


def _record_metrics(item: RegimeItem) -> None:
    """Per symbol (a dimension): which regime, and each hemisphere's confidence."""
    name = {Regime.TREND: "RegimeTrend", Regime.RANGE: "RegimeRange", Regime.NOTHING: "RegimeNothing"}
    dims = {"service": SERVICE, "symbol": item.symbol}
    for metric, unit, value in (
        (name[item.regime], MetricUnit.Count, 1.0),
        ("TrendConfidence", MetricUnit.NoUnit, item.trend_confidence),
        ("RangeConfidence", MetricUnit.NoUnit, item.range_confidence),
    ):
        with single_metric(name=metric, unit=unit, value=value, namespace=NAMESPACE, default_dimensions=dims):
            pass


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled event in; one decision per configured symbol out (stored, history kept, archived)."""
    started = time.perf_counter()
    settings = Settings.from_env()
    boundary = _boundary(event)
    windows = collect_windows(settings, boundary)
    now = datetime.now(UTC)
    written: list[RegimeItem] = []
    summary: dict[str, Any] = {}
    errors: list[str] = []
    for symbol in settings.symbols:
        item = decide(symbol, windows[symbol], boundary, now, settings)
        try:
            fresh = store(item, settings)
        except DecisionWriteError as exc:
            logger.error("decision not stored", extra={"symbol": symbol, "error": str(exc)})
            errors.append(str(exc))
            continue
        if fresh:
            written.append(item)
            _record_metrics(item)
        summary[symbol] = {
            "regime": item.regime.value,
            "window_end": _iso(item.window_end),
            "written": fresh,
            "model_version": item.model_version,
            "reason": item.reason,
        }
        logger.info("decision", extra={"symbol": symbol, **summary[symbol]})
    publish(written, settings)
    metrics.add_metric(name="DecisionsWritten", unit=MetricUnit.Count, value=len(written))
    metrics.add_metric(
        name="DecisionLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000
    )
    if errors:  # a failed invocation: the errors alarm fires and the event goes to the dead-letter queue
        raise DecisionWriteError("; ".join(errors))
    return {"boundary": _iso(boundary), "decisions": summary}
