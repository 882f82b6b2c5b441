"""regime: at each 5-minute boundary, decide the regime of every configured symbol and publish it.

Per symbol: read the last WINDOW_MINUTES of bars; if the last minute's bar is still in flight, wait up to
BAR_WAIT_SECONDS and read the tail again; features + one ONNX run + the vote (`regime.inference`); write the
item only if its window_end is newer than the stored one; keep a history record and send it to Firehose.
The boundary is the schedule event's `time` (EventBridge sets it to the scheduled minute), so a virtual
clock drives this handler the same way the real one does; a `time` ahead of the real clock is refused. The
event is read by Powertools' Parser as its EventBridge model (every field of a scheduled event required,
`time` with its zone); a malformed one is refused with a line naming each wrong field.

Isolation: one symbol's failure (its bars, its model, its writes) is logged and counted (`SymbolFailures`)
and never stops another symbol; the invocation then fails at the end, so that the errors alarm fires and
Lambda's one retry (EventInvokeConfig) completes what is missing.

The parts shared through the layer (`regime_aws`): settings, the model store (pointer, S3, bad models
remembered, the layer's fallback), the bar windows, and the writes (item, history, archive: each completed
by a retry).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AwareDatetime, ConfigDict, ValidationError

from regime.bar_series import BarSeries
from regime.contracts import Bar, Regime, RegimeItem
from regime.contracts.cadence import DECISION_INTERVAL, DECISION_VALIDITY
from regime.contracts.timestamps import format_minute as _iso
from regime_aws.bar_windows import RECENT_BARS, collect_windows, read_bars
from regime_aws.decision_settings import Settings
from regime_aws.decision_writes import DecisionWriteError, Outcome, archive, store
from regime_aws.events import explain
from regime_aws.model_store import MODELS, model_fault
from regime_aws.tracing import function_tracer

# Service and namespace: POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE (the template's Globals).
logger = Logger()
metrics = Metrics()
tracer = function_tracer()  # X-Ray, when the template's Tracing parameter is Active

STALE_AFTER = DECISION_INTERVAL  # a window ending earlier than this before the boundary is no decision
__all__ = [
    "MODELS",
    "RECENT_BARS",
    "DecisionWriteError",
    "EventError",
    "Settings",
    "lambda_handler",
    "read_bars",
]


class EventError(ValueError):
    """The invocation event breaks its schema (the message names the field)."""


# ---------------------------------------------------------------- the event
class ScheduleEvent(EventBridgeModel):
    """An EventBridge scheduled event, strictly: `time` must carry its zone (a naive one is ambiguous)."""

    model_config = ConfigDict(populate_by_name=True, strict=True)
    time: AwareDatetime


def boundary_of(event: object, now: datetime, settings: Settings) -> datetime:
    """The 5-minute boundary the event asks for; EventError for a wrong type or a time ahead of the clock."""
    if not isinstance(event, dict):
        raise EventError(f"event: expected a JSON object, got {type(event).__name__}")
    try:
        # Parsed as JSON, strictly: a string is a datetime only if ISO-8601, a number is never one.
        # (Powertools' parse takes the JSON text too: its stubs say only a dict)
        parsed = parse(event=json.dumps(event, default=str), model=ScheduleEvent)  # type: ignore[call-overload]
    except ValidationError as exc:
        raise EventError(explain(exc)) from exc
    ts: datetime = parsed.time.astimezone(UTC).replace(second=0, microsecond=0)
    if ts > now + settings.max_event_ahead:
        # Such a decision would be valid until then, and the conditional write would refuse every real one.
        raise EventError(
            f"time: {ts.isoformat()} is ahead of the clock ({now.isoformat()}) by more than "
            f"{settings.max_event_ahead.total_seconds():.0f} s"
        )
    return ts


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
            if not model_fault(exc):
                raise  # the data's fault, not the model's: this symbol fails, the model stays
            MODELS.mark_bad(source, exc)
            continue
        if item.window_end < boundary - STALE_AFTER:
            return nothing(f"stale: the last bar ends at {_iso(item.window_end)}", model.version)
        return item
    logger.error("no model available", extra={"symbol": symbol, "problem": MODELS.problem})
    return nothing(f"no model: {MODELS.problem}", "none")


def _record_metrics(written: list[RegimeItem]) -> None:
    """How many decisions of each regime this run wrote, for the whole stack (the service dimension only).

    No alarm reads a symbol's regime or confidences: a `symbol` dimension would make them five custom
    metrics a symbol (0.30 USD a month each). The `decision` log line carries them per symbol, for Logs
    Insights and the dashboard's table."""
    counts = Counter(item.regime for item in written)
    for regime in Regime:
        metrics.add_metric(
            name=f"Regime{regime.value.capitalize()}", unit=MetricUnit.Count, value=counts[regime]
        )


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
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
    written_items: list[RegimeItem] = []
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
        if stored.replaced is not None:  # what the item held before, hosts could trade on: archive it too
            to_archive.append(stored.replaced)
        if stored.to_archive:
            to_archive.append(item)
        if stored.outcome is Outcome.WRITTEN:
            written_items.append(item)
        summary[symbol] = {
            "regime": item.regime.value,
            "window_end": _iso(item.window_end),
            "written": stored.outcome is Outcome.WRITTEN,
            "outcome": stored.outcome.value,
            "model_version": item.model_version,
            "reason": item.reason,
        }
        confidences = {"trend_confidence": item.trend_confidence, "range_confidence": item.range_confidence}
        logger.info("decision", extra={"symbol": symbol, **summary[symbol], **confidences})
    failures.update(archive(to_archive, settings))
    _record_metrics(written_items)
    metrics.add_metric(name="DecisionsWritten", unit=MetricUnit.Count, value=len(written_items))
    metrics.add_metric(name="SymbolFailures", unit=MetricUnit.Count, value=len(failures))
    metrics.add_metric(
        name="DecisionLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000
    )
    if failures:  # a failed invocation: the errors alarm fires and Lambda's one retry completes the rest
        raise DecisionWriteError("; ".join(failures[s] for s in sorted(failures)))
    return {"boundary": _iso(boundary), "decisions": summary}
