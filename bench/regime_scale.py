"""Scale of the regime function: 1, 10 and 100 symbols decided in one scheduled invocation.

For each size, a fresh stack on the local endpoint is configured with that many symbols, 100 minutes of bars
per symbol go in through Kinesis and ingest_bars, and the regime function is invoked once at the next
5-minute boundary (BarWaitSeconds 0: every bar is already there). Measured: the time from the boundary (the
invocation's start) until the last regime item is written (the newest `computed_at`, which precedes its
write by one call), and the whole invocation (history and archive included); beside them, the endpoint's
own cost per call (a GetItem, median), since the local endpoint (moto on loopback) is slower than DynamoDB
in-region. Goal: under 10 s for 100 symbols. Run: `.venv/bin/python -m bench regime_scale` (a few minutes).

Fan-out: the same decision one boundary later, one invocation per shard of BENCH_SHARD symbols, each in its
own warm process (a Lambda container each), all started at once: the time until the last shard's last item.
And the endpoint itself: one window Query, and 100 of them one after another and 8 at a time, on the
100-symbol table. moto answers a Query by walking every item of the table (moto/dynamodb/models/table.py,
`Table.query` over `all_items()`), in one process: its cost grows with the table, not the partition, and
concurrency does not divide it; DynamoDB reads only the partition.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bench._pipeline import schedule_event
from bench.results import RESULTS, write_results
from devkit.local_cloud.cloud import LocalCloud
from devkit.local_cloud.endpoint import MotoServer, use_endpoint
from devkit.local_cloud.handlers import BoundFunction
from infra.layer_model import DEFAULT_OUT, train_layer_model
from regime.bar_series import BarSeries
from regime.contracts import Bar, RegimeItem
from regime.contracts.timestamps import format_minute
from regime.inference import RegimeModel
from regime.synthetic import synthetic_days

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "1,10,100").split(","))
MINUTES = 100
GOAL_SECONDS = 10.0
SHARD = int(os.environ.get("BENCH_SHARD", "25"))


def _warm(fn: BoundFunction, event: dict[str, Any]) -> None:
    """A shard's process: imports, loads the model, decides once (a warm container at the next boundary)."""
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    with contextlib.redirect_stdout(io.StringIO()):
        fn.invoke(event)


def _invoke_shard(fn: BoundFunction, event: dict[str, Any]) -> float:
    with contextlib.redirect_stdout(io.StringIO()):
        fn.invoke(event)
    return time.time()


def fan_out(regime: BoundFunction, names: list[str], boundary: datetime, table: Any) -> dict[str, Any]:
    """One invocation per shard of SHARD symbols, each in its own warm process, all at the same boundary."""
    for s in names:  # the single invocation's decisions go, so that the shards write theirs anew
        table.delete_item(Key={"symbol": s})
    shards = [names[i : i + SHARD] for i in range(0, len(names), SHARD)]
    fns = [dataclasses.replace(regime, env={**regime.env, "SYMBOLS": ",".join(s)}) for s in shards]
    warm_event = schedule_event(boundary - timedelta(minutes=5))
    context = multiprocessing.get_context("spawn")  # a fresh interpreter per shard, as a container
    pools = [ProcessPoolExecutor(1, mp_context=context) for _ in fns]
    try:
        for pool, fn in zip(pools, fns, strict=True):
            pool.submit(_warm, fn, warm_event).result()
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        futures = [
            pool.submit(_invoke_shard, fn, schedule_event(boundary))
            for pool, fn in zip(pools, fns, strict=True)
        ]
        [f.result() for f in futures]
        elapsed = time.perf_counter() - t0
    finally:
        for pool in pools:
            pool.shutdown()
    items = [RegimeItem.from_dict(table.get_item(Key={"symbol": s})["Item"]) for s in names]
    last = max(i.computed_at for i in items if i.window_end == boundary)
    return {
        "shards": len(shards),
        "shard_size": SHARD,
        "boundary_to_last_item_s": round((last - started).total_seconds(), 3),
        "slowest_shard_s": round(elapsed, 3),
    }


def endpoint_queries(table: str, names: list[str], first: str, last: str) -> dict[str, float]:
    """The endpoint's own cost of the window reads: one Query, all of them in a row, and 8 at a time."""
    client = boto3.client("dynamodb")

    def query(symbol: str) -> float:
        t0 = time.perf_counter()
        client.query(
            TableName=table,
            KeyConditionExpression="symbol = :s AND ts BETWEEN :a AND :b",
            ExpressionAttributeValues={":s": {"S": symbol}, ":a": {"S": first}, ":b": {"S": last}},
        )
        return time.perf_counter() - t0

    single = statistics.median(query(s) for s in names[:5])
    t0 = time.perf_counter()
    for s in names:
        query(s)
    in_a_row = time.perf_counter() - t0
    with ThreadPoolExecutor(8) as pool:
        t0 = time.perf_counter()
        list(pool.map(query, names))
        concurrent = time.perf_counter() - t0
    return {
        "query_ms": round(single * 1000, 1),
        "all_queries_in_a_row_s": round(in_a_row, 2),
        "all_queries_8_at_a_time_s": round(concurrent, 2),
    }


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
    fanned = fan_out(regime, names, boundary, table) if n > SHARD else None
    endpoint = endpoint_queries(cloud.stack.outputs["BarsTableName"], names, first, last)
    return {
        "fan_out": fanned,
        "endpoint_queries": endpoint,
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
        e = r["endpoint_queries"]
        print(
            f"      endpoint: {r['symbols']} window queries {e['all_queries_in_a_row_s']:.2f} s in a row, "
            f"{e['all_queries_8_at_a_time_s']:.2f} s 8 at a time ({e['query_ms']:.0f} ms each alone)"
        )
        if r["fan_out"]:
            f = r["fan_out"]
            print(
                f"      fan-out: {f['shards']} invocations of {f['shard_size']} symbols at once: "
                f"boundary -> last item {f['boundary_to_last_item_s']:.2f} s"
            )
    hundred = rows[-1]
    figures = {
        "sizes": rows,
        "goal_s": GOAL_SECONDS,
        "goal_met_at_100": hundred["invocation_s"] < GOAL_SECONDS,
        "goal_met_at_100_fanned_out": bool(
            hundred["fan_out"] and hundred["fan_out"]["boundary_to_last_item_s"] < GOAL_SECONDS
        ),
        "endpoint": "moto server on loopback",
    }
    write_results("regime_scale", figures)


if __name__ == "__main__":
    main()
