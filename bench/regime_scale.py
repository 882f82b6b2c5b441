"""Scale of the regime function: 1, 10 and 100 symbols decided in one scheduled invocation.

For each size, a fresh stack on the local endpoint is configured with that many symbols, 100 minutes of bars
per symbol go in through Kinesis and ingest_bars, and the regime function is invoked once at the next
5-minute boundary (BarWaitSeconds 0: every bar is already there). Measured: the time from the boundary (the
invocation's start) until the last regime item is written (the newest `computed_at`, which precedes its
write by one call), and the whole invocation (history and archive included); beside them, the endpoint's
own cost per call (a GetItem, median), since the local endpoint (moto on loopback) is slower than DynamoDB
in-region. Goal: under 10 s for 100 symbols. Run: `.venv/bin/python -m bench regime_scale` (a few minutes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bench._pipeline import schedule_event
from bench.results import RESULTS, write_results
from infra.layer_model import DEFAULT_OUT, train_layer_model
from infra.local_cloud.cloud import LocalCloud
from infra.local_cloud.endpoint import MotoServer, use_endpoint
from regime.bar_series import BarSeries
from regime.contracts import Bar, RegimeItem
from regime.contracts.timestamps import format_minute
from regime.inference import RegimeModel
from regime.synthetic import synthetic_days

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "1,10,100").split(","))
MINUTES = 100
GOAL_SECONDS = 10.0


def symbols(n: int) -> list[str]:
    return [f"S{i:03d}" for i in range(n)]


def bars_for(names: list[str]) -> tuple[list[Bar], datetime]:
    """MINUTES bars per symbol (one synthetic path, relabelled) and the boundary after them."""
    path = synthetic_days(1, seed=17, symbol="S000").bars.to_bars()[:MINUTES]
    end = path[-1].ts + timedelta(minutes=1)
    boundary = end + timedelta(minutes=(-end.minute) % 5)
    return [dataclasses.replace(b, symbol=s) for s in names for b in path], boundary


def endpoint_call_seconds(table: str) -> float:
    client = boto3.client("dynamodb")
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        client.get_item(TableName=table, Key={"symbol": {"S": "S000"}})
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def one_size(n: int, model_path: str) -> dict[str, Any]:
    names = symbols(n)
    params = {"Symbols": ",".join(names), "Stage": f"scale-{n}"}  # a stage per stack: names are per stage
    cloud = LocalCloud.deploy(stack_name=f"scale-{n}", parameters=params, include=set())
    bars, boundary = bars_for(names)
    kinesis = boto3.client("kinesis")
    for start in range(0, len(bars), 500):
        chunk = bars[start : start + 500]
        kinesis.put_records(
            StreamName=cloud.stack.outputs["BarStreamName"],
            Records=[{"Data": b.to_json().encode(), "PartitionKey": b.symbol} for b in chunk],
        )
    with contextlib.redirect_stdout(io.StringIO()):
        cloud.pump()
    fn = cloud.functions["RegimeFunction"]
    regime = dataclasses.replace(fn, env={**fn.env, "LAYER_MODEL_PATH": model_path, "BAR_WAIT_SECONDS": "0"})
    with contextlib.redirect_stdout(io.StringIO()):  # a warm container, as at every boundary but the first
        regime.invoke(schedule_event(boundary - timedelta(minutes=5)))
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        result = regime.invoke(schedule_event(boundary))
    invocation = time.perf_counter() - t0
    written = [d for d in result["decisions"].values() if d["written"]]
    table = boto3.resource("dynamodb").Table(cloud.stack.outputs["RegimeTableName"])
    items = [RegimeItem.from_dict(table.get_item(Key={"symbol": s})["Item"]) for s in names]
    last_written = max(i.computed_at for i in items if i.window_end == boundary)
    # Where the time goes, per symbol: the window query on this endpoint, and the decision without I/O.
    from functions.regime import app

    first, last = format_minute(boundary - timedelta(minutes=80)), format_minute(boundary)
    query_s = []
    for s in names[:5]:
        t0 = time.perf_counter()
        window = app.read_bars(cloud.stack.outputs["BarsTableName"], s, first, last)
        query_s.append(time.perf_counter() - t0)
    model = RegimeModel.load(model_path)
    series = BarSeries.from_bars(window)
    compute_s = []
    for _ in range(20):
        t0 = time.perf_counter()
        model.decide(series, now=datetime.now(UTC))
        compute_s.append(time.perf_counter() - t0)
    return {
        "symbols": n,
        "decisions_written": len(written),
        "boundary_to_last_item_s": round((last_written - started).total_seconds(), 3),
        "invocation_s": round(invocation, 3),
        "endpoint_call_ms": round(endpoint_call_seconds(cloud.stack.outputs["RegimeTableName"]) * 1000, 2),
        "window_query_ms": round(statistics.median(query_s) * 1000, 1),
        "decide_ms": round(statistics.median(compute_s) * 1000, 2),
    }


def main() -> None:
    server = MotoServer.start()
    use_endpoint(server.url)
    try:
        model_path = DEFAULT_OUT
        if not model_path.exists():  # the build step has not run: a quick model stands in
            model_path = RESULTS / "quick-ensemble.onnx"
            model_path.parent.mkdir(parents=True, exist_ok=True)
            model_path.write_bytes(train_layer_model(days=2, seed=3, quick=True)[0])
        rows = [one_size(n, str(model_path)) for n in SIZES]
    finally:
        server.stop()
    for r in rows:
        print(
            f"{r['symbols']:>4} symbols: boundary -> last item {r['boundary_to_last_item_s']:6.2f} s, "
            f"invocation {r['invocation_s']:6.2f} s, endpoint {r['endpoint_call_ms']:.1f} ms/call, "
            f"window query {r['window_query_ms']:.0f} ms, decide {r['decide_ms']:.1f} ms"
        )
    hundred = rows[-1]
    figures = {
        "sizes": rows,
        "goal_s": GOAL_SECONDS,
        "goal_met_at_100": hundred["invocation_s"] < GOAL_SECONDS,
        "endpoint": "moto server on loopback",
    }
    write_results("regime_scale", figures)


if __name__ == "__main__":
    main()
