"""The regime function on the local endpoint: bars ingested through ingest_bars, the sample schedule event."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest

from devkit.local_cloud.handlers import BoundFunction
from devkit.local_cloud.stack import LocalStack
from functions.regime import app
from regime.bar_series import BarSeries
from regime.contracts import Bar, Regime, RegimeItem
from regime.inference import RegimeModel
from regime.synthetic import synthetic_days
from regime_aws.clients import client
from tests.functions.bar_events import kinesis_event
from tests.functions.conftest import SDK_ATTEMPTS
from tests.functions.endpoint_faults import EVENTS, server_errors

pytestmark = pytest.mark.integration
THROTTLE = "ProvisionedThroughputExceededException"


@cache
def session_bars(symbol: str) -> tuple[Bar, ...]:
    return tuple(synthetic_days(1, seed=11, symbol=symbol).bars.to_bars())


def boundary_after(bars: tuple[Bar, ...], count: int) -> datetime:
    """The first 5-minute boundary with at least `count` bars before it."""
    end = bars[count - 1].ts + timedelta(minutes=1)
    return end + timedelta(minutes=(-end.minute) % 5)


def ingest(functions: dict[str, BoundFunction], bars: list[Bar]) -> None:
    """Bars in through ingest_bars, configured for exactly their symbols."""
    fn = functions["IngestBarsFunction"]
    fn = dataclasses.replace(fn, env={**fn.env, "SYMBOLS": ",".join(sorted({b.symbol for b in bars}))})
    assert fn.invoke(kinesis_event(bars)) == {"batchItemFailures": []}


def regime_fn(
    functions: dict[str, BoundFunction], small_model: Path, symbol: str, **env: str
) -> BoundFunction:
    fn = functions["RegimeFunction"]
    extra = {
        "SYMBOLS": symbol,
        "LAYER_MODEL_PATH": str(small_model),
        "POINTER_MAX_AGE_SECONDS": "0",
        "BAR_WAIT_SECONDS": "0",
        **env,
    }
    return dataclasses.replace(fn, env={**fn.env, **extra})


@contextmanager
def model_pointer(stack: LocalStack, value: str) -> Iterator[None]:
    """The SSM model pointer holds `value` inside the block, and no model after it."""
    pointer, ssm = stack.physical["ModelPointerParameter"], boto3.client("ssm")
    ssm.put_parameter(Name=pointer, Value=value, Overwrite=True)
    try:
        yield
    finally:
        ssm.put_parameter(Name=pointer, Value="{}", Overwrite=True)


class KeptRecords(logging.Handler):
    """The log records of a logger, kept for the test to read."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def schedule_event(boundary: datetime) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "regime.json").read_text())
    event["time"] = boundary.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def stored(stack: LocalStack, table: str, symbol: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        boto3.resource("dynamodb")
        .Table(stack.physical[table])
        .query(KeyConditionExpression="symbol = :s", ExpressionAttributeValues={":s": symbol})["Items"]
    )
    return items


def archived(stack: LocalStack, symbol: str) -> list[dict[str, Any]]:
    s3 = boto3.client("s3")
    bucket = stack.physical["DataLakeBucket"]
    lines: list[dict[str, Any]] = []
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix="regimes/").get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
        lines.extend(json.loads(line) for line in body.splitlines() if line)
    return [x for x in lines if x["symbol"] == symbol]


@pytest.fixture(autouse=True)
def fresh_model_cache() -> None:
    app.MODELS.clear()
    app.RECENT_BARS.clear()


def test_decides_writes_keeps_history_and_archives(
    local_stack: LocalStack,
    functions: dict[str, BoundFunction],
    small_model: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bars = session_bars("RGA")
    boundary = boundary_after(bars, 100)
    ingest(functions, [b for b in bars if b.ts < boundary])
    model = RegimeModel.load(small_model)

    lines = KeptRecords()
    logging.getLogger(app.logger.name).addHandler(lines)
    try:
        result = regime_fn(functions, small_model, "RGA").invoke(schedule_event(boundary))
    finally:
        logging.getLogger(app.logger.name).removeHandler(lines)

    decision = result["decisions"]["RGA"]
    assert decision["written"] and decision["window_end"] == boundary.strftime("%Y-%m-%dT%H:%M:00Z")
    assert decision["model_version"] == model.version and decision["reason"] == ""
    (item,) = stored(local_stack, "RegimeTable", "RGA")
    parsed = RegimeItem.from_dict(item)
    assert parsed.window_end == boundary and parsed.valid_until == boundary + timedelta(minutes=6)
    assert set(parsed.probabilities) == set(model.metadata.model_names)
    assert parsed.regime.value == decision["regime"]
    assert len(stored(local_stack, "RegimeHistoryTable", "RGA")) == 1
    assert [a["window_end"] for a in archived(local_stack, "RGA")] == [decision["window_end"]]
    out = capsys.readouterr().out.splitlines()
    emf = [json.loads(line) for line in out if line.startswith('{"_aws"')]
    # One metric set for the whole stack: no metric is per symbol (a custom metric each), the regimes counted.
    assert all(m["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]] for m in emf)
    assert not any("symbol" in m for m in emf)
    (run,) = [m for m in emf if "DecisionsWritten" in m]
    assert run["DecisionsWritten"] == [1.0] and run[f"Regime{decision['regime'].capitalize()}"] == [1.0]
    assert sum(run[f"Regime{r.value.capitalize()}"][0] for r in Regime) == 1.0
    # the symbol's regime and confidences are in its decision line, for Logs Insights
    (line,) = [
        r.__dict__ for r in lines.records if r.getMessage() == "decision" and r.__dict__["symbol"] == "RGA"
    ]
    assert line["regime"] == decision["regime"] and line["trend_confidence"] == parsed.trend_confidence
    assert line["range_confidence"] == parsed.range_confidence


def test_two_invocations_for_one_window_write_once(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path
) -> None:
    bars = session_bars("RGB")
    boundary = boundary_after(bars, 100)
    ingest(functions, [b for b in bars if b.ts < boundary])
    fn = regime_fn(functions, small_model, "RGB")
    first = fn.invoke(schedule_event(boundary))["decisions"]["RGB"]
    second = fn.invoke(schedule_event(boundary))["decisions"]["RGB"]
    assert first["written"] and not second["written"]
    # An older window arriving late must not overwrite the newer decision either.
    older = fn.invoke(schedule_event(boundary - timedelta(minutes=5)))["decisions"]["RGB"]
    assert not older["written"]
    (item,) = stored(local_stack, "RegimeTable", "RGB")
    assert item["window_end"] == first["window_end"]
    assert len(stored(local_stack, "RegimeHistoryTable", "RGB")) == 1
    assert len(archived(local_stack, "RGB")) == 1


def test_a_warm_container_reads_only_the_tail_and_decides_as_a_cold_one(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path
) -> None:
    bars = session_bars("RGW")
    first = boundary_after(bars, 100)
    later = first + timedelta(minutes=5)
    ingest(functions, [b for b in bars if b.ts < first])
    fn = regime_fn(functions, small_model, "RGW")
    fn.invoke(schedule_event(first))  # cold: the whole window
    ingest(functions, [b for b in bars if first <= b.ts < later])
    returned: list[int] = []
    dynamodb = client("dynamodb")
    count = lambda parsed, **_: returned.append(len(parsed.get("Items", [])))  # noqa: E731
    dynamodb.meta.events.register("after-call.dynamodb.Query", count)
    try:
        warm = fn.invoke(schedule_event(later))["decisions"]["RGW"]
    finally:
        dynamodb.meta.events.unregister("after-call.dynamodb.Query", count)
    # The 5 new bars and the 10 minutes of overlap before them (BETWEEN returns the re-read point too),
    # not the 80-minute window.
    assert sum(returned) == 16
    window = [b for b in bars if later - timedelta(minutes=80) < b.ts < later]
    from_full_window = RegimeModel.load(small_model).decide(BarSeries.from_bars(window), now=later)
    (stored_warm,) = stored(local_stack, "RegimeTable", "RGW")
    assert warm["written"] and warm["window_end"] == later.strftime("%Y-%m-%dT%H:%M:00Z")
    assert RegimeItem.from_dict(stored_warm).probabilities == pytest.approx(
        from_full_window.probabilities, abs=1e-6
    )


def test_waits_for_a_late_last_bar(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path
) -> None:
    bars = session_bars("RGC")
    boundary = boundary_after(bars, 100)
    window = [b for b in bars if b.ts < boundary]
    ingest(functions, window[:-1])
    late = threading.Timer(0.4, ingest, args=(functions, window[-1:]))
    fn = regime_fn(functions, small_model, "RGC", BAR_WAIT_SECONDS="5", BAR_POLL_SECONDS="0.1")
    started = time.monotonic()
    late.start()
    decision = fn.invoke(schedule_event(boundary))["decisions"]["RGC"]
    late.join()
    assert 0.4 <= time.monotonic() - started < 4
    assert decision["window_end"] == boundary.strftime("%Y-%m-%dT%H:%M:00Z")


def test_a_bar_that_never_comes_costs_one_minute_after_a_bounded_wait(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path
) -> None:
    bars = session_bars("RGD")
    boundary = boundary_after(bars, 100)
    ingest(functions, [b for b in bars if b.ts < boundary - timedelta(minutes=1)])
    fn = regime_fn(functions, small_model, "RGD", BAR_WAIT_SECONDS="0.3", BAR_POLL_SECONDS="0.1")
    started = time.monotonic()
    decision = fn.invoke(schedule_event(boundary))["decisions"]["RGD"]
    assert 0.3 <= time.monotonic() - started < 3
    assert decision["window_end"] == (boundary - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:00Z")


@pytest.mark.parametrize(
    ("count", "reason"), [(0, "no bars in the 80 minutes before"), (10, "insufficient history")]
)
def test_too_little_data_writes_nothing_with_the_reason(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path, count: int, reason: str
) -> None:
    symbol = f"RGE{count}"
    bars = session_bars(symbol)
    boundary = boundary_after(bars, 200)
    if count:
        ingest(functions, [b for b in bars if b.ts < boundary][-count:])
    decision = regime_fn(functions, small_model, symbol).invoke(schedule_event(boundary))["decisions"][symbol]
    assert decision["written"] and decision["regime"] == "nothing"
    assert reason in decision["reason"]
    (item,) = stored(local_stack, "RegimeTable", symbol)
    assert item["regime"] == "nothing" and reason in item["reason"]


def test_pointer_to_s3_model_is_used_once_per_container(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path
) -> None:
    bars = session_bars("RGF")
    boundary = boundary_after(bars, 100)
    ingest(functions, [b for b in bars if b.ts < boundary + timedelta(minutes=5)])
    key = "models/RGF/ensemble-test.onnx"
    boto3.client("s3").put_object(
        Bucket=local_stack.physical["ModelsBucket"], Key=key, Body=small_model.read_bytes()
    )
    with model_pointer(local_stack, json.dumps({"RGF": {"key": key, "version": "x"}})):
        # The layer copy is gone: only the S3 model can serve.
        fn = regime_fn(functions, small_model, "RGF", LAYER_MODEL_PATH="/nonexistent/ensemble.onnx")
        assert fn.invoke(schedule_event(boundary))["decisions"]["RGF"]["reason"] == ""
        loaded = dict(app.MODELS._loaded)
        assert fn.invoke(schedule_event(boundary + timedelta(minutes=5)))["decisions"]["RGF"]["written"]
        source = f"s3://{local_stack.physical['ModelsBucket']}/{key}"
        assert list(loaded) == [source] and app.MODELS._loaded[source] is loaded[source]  # not loaded twice


def test_missing_model_falls_back_to_the_layer_then_says_so(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path
) -> None:
    bars = session_bars("RGG")
    boundary = boundary_after(bars, 100)
    ingest(functions, [b for b in bars if b.ts < boundary + timedelta(minutes=5)])
    with model_pointer(local_stack, json.dumps({"RGG": {"key": "models/RGG/gone.onnx"}})):
        fallback = regime_fn(functions, small_model, "RGG").invoke(schedule_event(boundary))["decisions"][
            "RGG"
        ]
        assert fallback["model_version"] == RegimeModel.load(small_model).version and fallback["reason"] == ""
        app.MODELS.clear()
        none = regime_fn(functions, small_model, "RGG", LAYER_MODEL_PATH="/nonexistent/ensemble.onnx").invoke(
            schedule_event(boundary + timedelta(minutes=5))
        )["decisions"]["RGG"]
        assert none["regime"] == "nothing" and none["model_version"] == "none"
        assert "models/RGG/gone.onnx unusable" in none["reason"] and "no layer model" in none["reason"]


def test_throttled_write_is_retried_then_fails_clearly(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path
) -> None:
    bars = session_bars("RGH")
    boundary = boundary_after(bars, 100)
    ingest(functions, [b for b in bars if b.ts < boundary + timedelta(minutes=5)])
    fn = regime_fn(functions, small_model, "RGH")
    dynamodb = client("dynamodb")
    with server_errors(dynamodb, "PutItem", THROTTLE, 1) as refused:
        assert fn.invoke(schedule_event(boundary))["decisions"]["RGH"]["written"]
    assert len(refused) == 1
    with (
        server_errors(dynamodb, "PutItem", THROTTLE, 100) as refused,
        pytest.raises(app.DecisionWriteError) as err,
    ):
        fn.invoke(schedule_event(boundary + timedelta(minutes=5)))
    assert len(refused) == SDK_ATTEMPTS
    assert "RGH: PutItem" in str(err.value) and THROTTLE in str(err.value)
    (item,) = stored(local_stack, "RegimeTable", "RGH")
    assert item["window_end"] == boundary.strftime("%Y-%m-%dT%H:%M:00Z")  # the failed window left no trace


@pytest.mark.parametrize(
    "pointer_value", ["not json", '{"RGI": {"version": "no key"}}', '{"RGI": "models/x"}']
)
def test_a_broken_pointer_falls_back_to_the_layer(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path, pointer_value: str
) -> None:
    bars = session_bars("RGI")
    boundary = boundary_after(bars, 100)
    ingest(functions, [b for b in bars if b.ts < boundary])
    with model_pointer(local_stack, pointer_value):
        fn = regime_fn(functions, small_model, "RGI")
        decision = fn.invoke(schedule_event(boundary))["decisions"]["RGI"]
        assert decision["model_version"] == RegimeModel.load(small_model).version and decision["reason"] == ""
