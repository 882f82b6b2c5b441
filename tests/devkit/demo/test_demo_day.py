"""End to end: a shortened demo day through the real path on the demo's own moto server.

The host `run` assembles trades what the regime function decided from the bars the host published; every
fill the simulated broker made lands in S3 once after deduplication; the Athena SQL agrees with the host's
ledger; the regime changes during the session; and the moto server the demo started is stopped after.
"""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from devkit.demo.analytics import query_lake
from devkit.demo.cloud import DemoCloud
from devkit.demo.day import METRIC_LINES, DayResult, Market, build_host, run_day
from regime.contracts import Regime, RegimeItem, Role
from regime.contracts.timestamps import format_minute
from trader_host.cloud.aws import client
from trading_engine.broker.sim.sim_book import SimBook

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MINUTES = 240  # 80 minutes of history before the first real vote, then enough decisions to change regime
BOOK_ID = "synthetic: 1 sessions, seed 8 (CL)"


def lake_lines(bucket: str, prefix: str) -> list[dict[str, Any]]:
    s3 = client("s3")
    lines: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
            lines += [json.loads(line) for line in body.splitlines() if line.strip()]
    return lines


def test_a_demo_day_flows_through_the_real_path_and_leaves_nothing_running(
    small_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    with DemoCloud.start(tmp_path / "cloud") as cloud:
        host, clock = build_host(cloud, state, Market(1, 8), minutes=MINUTES)
        cloud.publish_model("CL", small_model_path)
        day: DayResult = run_day(host, clock)
        assert host.session.failure is None
        fills_in_s3 = lake_lines(cloud.bucket, "fills/")
        orders_in_s3 = lake_lines(cloud.bucket, "orders/")
        bars_in_s3 = lake_lines(cloud.bucket, "bars/")
        decisions = [RegimeItem.from_dict(r) for r in lake_lines(cloud.bucket, "regimes/")]
        lake = query_lake(cloud.bucket)
        server = cloud.server
    assert server.process.poll() is not None  # the moto server the demo started is gone
    # The host's EMF metric lines go to the state folder, not into the demo's output.
    assert '"_aws"' not in capsys.readouterr().out
    emf = [json.loads(line) for line in (state / METRIC_LINES).read_text().splitlines()]
    assert emf and all(line["symbol"] == "CL" for line in emf)

    booked = host.session.trader.fills()
    book = SimBook(state / "sim-broker" / "CL.book", BOOK_ID)
    executions = {ex.execution_id for o in book.account.orders.values() for ex in o.executions}
    book.close()
    assert executions and {f.execution_id for f in booked} == executions
    landed = [r["execution_id"] for r in fills_in_s3]
    assert set(landed) == executions  # every broker fill in S3, exactly once after deduplication
    # Every order the host placed reached S3 with its one final state, exactly once after deduplication.
    orders = {o.order_id: o for o in host.session.trader.recent_orders()}
    outcomes = {r["order_id"]: r for r in orders_in_s3}
    assert set(outcomes) == set(orders) and all(o.is_final for o in orders.values())
    assert all(outcomes[i]["final_state"] == o.state.value for i, o in orders.items())
    assert {f.order_id for f in booked} <= {i for i, r in outcomes.items() if r["filled_qty"] > 0}
    quality = lake.results["execution_quality"].records()
    assert sum(r["orders"] for r in quality) == len(orders)  # the query counts each order once

    stats = lake.results["trade_statistics"].records()
    trader = host.session.trader
    assert len(stats) == 1 and stats[0]["round_trips"] == len(trader.round_trips())
    assert Decimal(str(stats[0]["net_usd"])).quantize(Decimal("0.01")) == trader.realised_net_usd()

    regimes = [d.regime for d in sorted(decisions, key=lambda d: d.window_end)]
    assert len(set(regimes)) >= 2 and any(a != b for a, b in itertools.pairwise(regimes))
    assert Regime.NOTHING in regimes and {Regime.TREND, Regime.RANGE} & set(regimes)

    published = {r["ts"] for r in bars_in_s3 if r["source"] == "sim"}
    assert len(published) == len(bars_in_s3)  # only the host's bars came through the stream
    entries = [f for f in booked if f.role is Role.ENTRY]
    assert entries
    by_key = {d.window_end: d for d in decisions}
    for fill in entries:
        # The decision the host traded on: it names it on the entry fill, and the lake holds it.
        signalled = fill.signal_ts or fill.ts
        assert fill.decision_window_end is not None, fill
        decision = by_key[fill.decision_window_end]
        assert fill.regime is decision.regime is not Regime.NOTHING, fill
        in_force = decision.window_end - timedelta(minutes=1) <= signalled < decision.valid_until
        assert in_force, fill
        assert format_minute(decision.window_end - timedelta(minutes=1)) in published  # from our bars
        # At most one decision behind the newest whose window had ended (a new one is read soon after).
        newest = max(d.window_end for d in decisions if d.window_end <= signalled)
        assert newest - decision.window_end <= timedelta(minutes=5), fill
    # So P&L by regime finds every trade's decision, although the regime function's clock (the wall clock)
    # is not the market's (a virtual day).
    by_regime = lake.results["pnl_by_regime"].records()
    assert by_regime and all(r["confidence_bucket"] != "none" for r in by_regime), by_regime
    assert day.wall_s > 0  # its speed is bench/demo_day.py's business, not a timed assertion's
