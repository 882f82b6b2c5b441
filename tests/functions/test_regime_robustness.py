"""The regime function under broken models, failing writes and bad events: each failure stays with its symbol.

Every test reproduces a failure seen when the function was tried as a new user would (issue 13).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import onnx
import pytest

from devkit.local_cloud.handlers import BoundFunction
from devkit.local_cloud.stack import LocalStack
from functions.regime import app
from regime.contracts.model_metadata import METADATA_KEY
from regime.inference import RegimeModel
from regime_aws.clients import client
from tests.functions.endpoint_faults import server_errors
from tests.functions.test_regime_handler import (
    archived,
    boundary_after,
    ingest,
    model_pointer,
    regime_fn,
    schedule_event,
    session_bars,
    stored,
)

pytestmark = pytest.mark.integration
THROTTLE = "ProvisionedThroughputExceededException"


@pytest.fixture(autouse=True)
def fresh_model_cache() -> None:
    app.MODELS.clear()
    app.RECENT_BARS.clear()


def ready(functions: dict[str, BoundFunction], *symbols: str) -> datetime:
    """Bars of every symbol ingested up to a boundary and 10 minutes past it; returns the boundary."""
    boundary = boundary_after(session_bars(symbols[0]), 100)
    for s in symbols:
        ingest(functions, [b for b in session_bars(s) if b.ts < boundary + timedelta(minutes=10)])
    return boundary


def put_model(stack: LocalStack, key: str, body: bytes) -> str:
    boto3.client("s3").put_object(Bucket=stack.physical["ModelsBucket"], Key=key, Body=body)
    return f"s3://{stack.physical['ModelsBucket']}/{key}"


def mismatched(model_path: Path) -> bytes:
    """A real ensemble whose metadata asks for one lag fewer: it loads, then onnxruntime refuses the input."""
    proto = onnx.load_model_from_string(model_path.read_bytes())
    for prop in proto.metadata_props:
        if prop.key == METADATA_KEY:
            meta = json.loads(prop.value)
            meta["feature_spec"]["lags"] -= 1
            meta["version"] = "mismatched"
            prop.value = json.dumps(meta)
    return bytes(proto.SerializeToString())


def emf(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("truncated", lambda p: p.read_bytes()[:5000]),
        ("garbage", lambda p: b"not an onnx file"),
        ("mismatched", mismatched),  # fails to run, not to load
    ],
)
def test_a_broken_model_falls_back_once_and_is_remembered_as_bad(
    local_stack: LocalStack,
    functions: dict[str, BoundFunction],
    small_model: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    body: Callable[[Path], bytes],
) -> None:
    a, b = f"RBA{name[:3].upper()}", f"RBB{name[:3].upper()}"
    boundary = ready(functions, a, b)
    key = f"models/{a}/ensemble-{name}.onnx"
    source = put_model(local_stack, key, body(small_model))
    layer_version = RegimeModel.load(small_model).version
    with model_pointer(local_stack, json.dumps({a: {"key": key, "version": name}})):
        fn = regime_fn(functions, small_model, f"{a},{b}")
        first = fn.invoke(schedule_event(boundary))["decisions"]
        # Both symbols decided: the broken one by the layer's model, the other untouched by it.
        assert first[a]["written"] and first[a]["model_version"] == layer_version
        assert first[b]["written"] and first[b]["model_version"] == layer_version
        assert source in app.MODELS.bad
        assert any(m.get("ModelFallback") == [1.0] for m in emf(capsys))
        # Remembered: the next boundary does not read the broken object again.
        s3 = client("s3")
        with server_errors(s3, "GetObject", "InternalError", 100) as refused:
            again = fn.invoke(schedule_event(boundary + timedelta(minutes=5)))["decisions"]
        assert refused == [] and again[a]["written"] and again[a]["model_version"] == layer_version


def test_a_broken_layer_model_too_gives_nothing_with_both_reasons(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path, tmp_path: Path
) -> None:
    boundary = ready(functions, "RBL")
    put_model(local_stack, "models/RBL/bad.onnx", b"junk")
    layer = tmp_path / "ensemble.onnx"
    layer.write_bytes(mismatched(small_model))
    with model_pointer(local_stack, json.dumps({"RBL": {"key": "models/RBL/bad.onnx"}})):
        fn = regime_fn(functions, small_model, "RBL", LAYER_MODEL_PATH=str(layer))
        decision = fn.invoke(schedule_event(boundary))["decisions"]["RBL"]
    assert decision["regime"] == "nothing" and decision["model_version"] == "none"
    assert "models/RBL/bad.onnx unusable" in decision["reason"]
    # The feature count is checked when the model loads (it was onnxruntime's InvalidArgument at inference).
    assert "layer model unusable" in decision["reason"]
    assert "the model takes 50 features, its feature spec makes 40" in decision["reason"]


def _for(*needles: str) -> Callable[[bytes], bool]:
    return lambda body: all(n.encode() in body for n in needles)


def test_one_symbols_failed_write_never_stops_another(
    local_stack: LocalStack,
    functions: dict[str, BoundFunction],
    small_model: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    boundary = ready(functions, "RIA", "RIB")
    fn = regime_fn(functions, small_model, "RIA,RIB")
    with (
        server_errors(client("dynamodb"), "PutItem", THROTTLE, 100, when=_for('"RIA"')),
        pytest.raises(app.DecisionWriteError) as err,
    ):
        fn.invoke(schedule_event(boundary))
    assert "RIA: PutItem" in str(err.value) and "RIB" not in str(err.value)
    assert stored(local_stack, "RegimeTable", "RIA") == []
    assert len(stored(local_stack, "RegimeTable", "RIB")) == 1
    assert len(archived(local_stack, "RIB")) == 1
    assert any(m.get("SymbolFailures") == [1.0] for m in emf(capsys))


def test_one_symbols_unreadable_bars_never_stop_another(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path
) -> None:
    boundary = ready(functions, "RQA", "RQB")
    fn = regime_fn(functions, small_model, "RQA,RQB")
    with (
        server_errors(client("dynamodb"), "Query", THROTTLE, 100, when=_for('"RQA"')),
        pytest.raises(app.DecisionWriteError, match="RQA: Query"),
    ):
        fn.invoke(schedule_event(boundary))
    assert stored(local_stack, "RegimeTable", "RQA") == []
    assert len(stored(local_stack, "RegimeTable", "RQB")) == 1


@pytest.mark.parametrize(
    ("operation", "needles", "code"),
    [
        ("PutItem", ("RegimeTable",), THROTTLE),  # the item itself
        ("PutItem", ("RegimeHistoryTable",), THROTTLE),  # the history, after the item was written
        ("PutRecordBatch", (), "ServiceUnavailableException"),  # the archive, after both
        ("BatchWriteItem", ("RegimeHistoryTable",), THROTTLE),  # the archived mark, after the archive
    ],
)
def test_after_one_failed_write_the_retry_leaves_item_history_and_archive_once(
    local_stack: LocalStack,
    functions: dict[str, BoundFunction],
    small_model: Path,
    operation: str,
    needles: tuple[str, ...],
    code: str,
) -> None:
    symbol = f"RW{operation[:3].upper()}{needles[0][6:9].upper() if needles else 'FH'}"
    boundary = ready(functions, symbol)
    fn = regime_fn(functions, small_model, symbol)
    physical = tuple(local_stack.physical[n] for n in needles)
    faulty = client("firehose" if operation == "PutRecordBatch" else "dynamodb")
    with (
        server_errors(faulty, operation, code, 100, when=_for(*physical)),
        pytest.raises(app.DecisionWriteError),
    ):
        fn.invoke(schedule_event(boundary))
    retry = fn.invoke(schedule_event(boundary))["decisions"][symbol]  # Lambda's one retry: the same event

    window = boundary.strftime("%Y-%m-%dT%H:%M:00Z")
    (item,) = stored(local_stack, "RegimeTable", symbol)
    (history,) = stored(local_stack, "RegimeHistoryTable", symbol)
    lines = archived(local_stack, symbol)
    assert item["window_end"] == history["window_end"] == window and history["archived"] is True
    assert {k: history[k] for k in item} == item  # the history keeps exactly the stored decision
    if operation == "BatchWriteItem":
        # Delivered, then the acknowledgement failed: the retry delivers again (the query dedupes on the key).
        assert [x["window_end"] for x in lines] == [window, window] and lines[0] == lines[1]
    else:
        assert [x["window_end"] for x in lines] == [window]
    assert retry["outcome"] == (
        "written" if operation == "PutItem" and needles == ("RegimeTable",) else "completed"
    )


def test_a_retry_that_decides_a_later_window_still_keeps_the_first_attempts_decision(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path
) -> None:
    # The red team (22.5): the first attempt wrote the item of a window one minute short (its last bar was
    # late), its history write failed; the retry, after the bar arrived, decided the full window, and the
    # first decision (which hosts could trade on) was in neither the history table nor the archive.
    symbol = "RLATE"
    bars = session_bars(symbol)
    boundary = boundary_after(bars, 100)
    ingest(functions, [b for b in bars if b.ts < boundary - timedelta(minutes=1)])
    fn = regime_fn(functions, small_model, symbol)
    history = local_stack.physical["RegimeHistoryTable"]
    with (
        server_errors(client("dynamodb"), "PutItem", THROTTLE, 100, when=_for(history)),
        pytest.raises(app.DecisionWriteError),
    ):
        fn.invoke(schedule_event(boundary))
    short = (boundary - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:00Z")
    assert [i["window_end"] for i in stored(local_stack, "RegimeTable", symbol)] == [short]
    ingest(functions, [b for b in bars if boundary - timedelta(minutes=1) <= b.ts < boundary])
    retry = fn.invoke(schedule_event(boundary))["decisions"][symbol]

    full = boundary.strftime("%Y-%m-%dT%H:%M:00Z")
    assert retry["window_end"] == full and retry["outcome"] == "written"
    kept = stored(local_stack, "RegimeHistoryTable", symbol)
    assert [h["window_end"] for h in kept] == [short, full] and all(h["archived"] is True for h in kept)
    assert sorted(x["window_end"] for x in archived(local_stack, symbol)) == [short, full]


def test_a_duplicate_invocation_rewrites_nothing(
    local_stack: LocalStack, functions: dict[str, BoundFunction], small_model: Path
) -> None:
    boundary = ready(functions, "RDUP")
    fn = regime_fn(functions, small_model, "RDUP")
    assert fn.invoke(schedule_event(boundary))["decisions"]["RDUP"]["outcome"] == "written"
    assert fn.invoke(schedule_event(boundary))["decisions"]["RDUP"]["outcome"] == "already"
    assert len(archived(local_stack, "RDUP")) == 1


@pytest.mark.parametrize(
    ("time", "message"),
    [
        (
            (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:00Z"),
            "time: .* ahead of the clock",
        ),
        (1768507500, "time: Input should be a valid datetime"),
        ("20 past 5", "time: Input should be a valid datetime"),
        ("2026-01-15T20:05:00", "time: Input should have timezone info"),
    ],
)
def test_a_bad_schedule_event_is_refused_naming_the_field(
    local_stack: LocalStack,
    functions: dict[str, BoundFunction],
    small_model: Path,
    time: object,
    message: str,
) -> None:
    fn = regime_fn(functions, small_model, "REVT")
    event = {**schedule_event(datetime(2026, 1, 15, 20, 5, tzinfo=UTC)), "time": time}
    with pytest.raises(app.EventError, match=message):
        fn.invoke(event)
    assert stored(local_stack, "RegimeTable", "REVT") == []


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("detail-type", "detail-type: Field required"),
        ("time", "time: Field required"),
        ("resources", "resources: Field required"),
    ],
)
def test_a_schedule_event_missing_a_field_of_eventbridge_is_refused_naming_it(
    local_stack: LocalStack,
    functions: dict[str, BoundFunction],
    small_model: Path,
    field: str,
    message: str,
) -> None:
    # The event is Powertools' EventBridge model: every field a scheduled event carries is required.
    fn = regime_fn(functions, small_model, "REVF")
    event = schedule_event(datetime(2026, 1, 15, 20, 5, tzinfo=UTC))
    del event[field]
    with pytest.raises(app.EventError, match=message):
        fn.invoke(event)
    assert stored(local_stack, "RegimeTable", "REVF") == []
