"""Seconds for the whole named-query set over one month and one year of records, DuckDB locally.

The records are synthetic but shaped like a live CL session at the article's pace: 23-hour weekday sessions,
one bar a minute, a decision every 5 minutes, about 8 round trips an hour (two fills each, each fill's order
with its outcome, and a stale entry given up before 30% of the entries), a loss-limit event on 10% of the
days, written as
Firehose lays out the lake (hourly folders of JSON lines), with 1% of the records delivered twice.
Reported apart: writing the lake (not part of a query run), reading, checking and loading it into DuckDB,
and running every query.

Run: `.venv/bin/python -m bench analytics` (a minute or two on 2 cores);
figures in bench/results/analytics.json.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.results import write_results
from regime.contracts import (
    Bar,
    BarSource,
    ExitReason,
    Fill,
    OrderFinalState,
    OrderOutcome,
    Regime,
    RegimeItem,
    RiskEvent,
    RiskEventKind,
    Role,
    RoundTrip,
    Side,
)
from trader_host.analytics.lake import FolderLake
from trader_host.analytics.local_athena import LocalAthena, query_names
from trader_host.analytics.writer import write_records

SESSION_MINUTES = 23 * 60
TRIPS_PER_HOUR = 8
FEE = Decimal("1.42")
TICK = Decimal("0.01")


def _sessions(days: int) -> list[datetime]:
    """Session opens (22:00 UTC) of `days` weekday sessions from 2026-01-04."""
    out: list[datetime] = []
    day = datetime(2026, 1, 4, 22, tzinfo=UTC)
    while len(out) < days:
        if (day + timedelta(hours=2)).weekday() < 5:  # the session belongs to the next morning's weekday
            out.append(day)
        day += timedelta(days=1)
    return out


def generate(days: int, seed: int = 1) -> dict[str, list[Any]]:
    """Bars, decisions, fills and round trips of `days` sessions."""
    rng = random.Random(seed)
    bars: list[Bar] = []
    items: list[RegimeItem] = []
    fills: list[Fill] = []
    trips: list[RoundTrip] = []
    events: list[RiskEvent] = []
    price = 6000  # ticks
    n = 0
    for open_ in _sessions(days):
        if rng.random() < 0.1:
            day = (open_ + timedelta(hours=2)).date()
            stop = open_ + timedelta(hours=12)
            events.append(RiskEvent("CL", stop, RiskEventKind.LOSS_LIMIT, day, Decimal("-301.42"), "bench"))
        for m in range(SESSION_MINUTES):
            ts = open_ + timedelta(minutes=m)
            step = rng.randint(-3, 3)
            hi, lo = (
                max(price, price + step) + rng.randint(0, 2),
                min(price, price + step) - rng.randint(0, 2),
            )
            bars.append(
                Bar("CL", ts, price / 100, hi / 100, lo / 100, (price + step) / 100, 100, BarSource.SIM)
            )
            price += step
            if m % 5 == 4:
                end = ts + timedelta(minutes=1)
                regime = rng.choice(list(Regime))
                items.append(
                    RegimeItem(
                        "CL",
                        regime,
                        end,
                        end,
                        end + timedelta(minutes=5),
                        "v1",
                        regime is Regime.TREND,
                        rng.uniform(1, 3),
                        regime is Regime.RANGE,
                        rng.uniform(1, 3),
                    )
                )
            if rng.random() < TRIPS_PER_HOUR / 60:
                n += 1
                side = rng.choice(list(Side))
                ticks = rng.randint(-6, 6)
                p_in = Decimal(price) * TICK
                p_out = p_in + side.sign * ticks * TICK
                out_ts = ts + timedelta(seconds=rng.randint(5, 50))
                regime_at = rng.choice([Regime.TREND, Regime.RANGE])
                decided = items[-1].window_end if items else None  # the host names the decision it traded on
                fills.append(
                    Fill(
                        f"e{n}a",
                        f"o{n}a",
                        "CL",
                        side,
                        1,
                        p_in,
                        ts,
                        FEE,
                        regime_at,
                        2.2,
                        Role.ENTRY,
                        decision_window_end=decided,
                    )
                )
                fills.append(
                    Fill(
                        f"e{n}b",
                        f"o{n}b",
                        "CL",
                        Side.SELL if side is Side.BUY else Side.BUY,
                        1,
                        p_out,
                        out_ts,
                        FEE,
                        regime_at,
                        0.1,
                        Role.EXIT,
                    )
                )
                trips.append(
                    RoundTrip(
                        f"rt-e{n}a",
                        "CL",
                        side,
                        1,
                        ts,
                        out_ts,
                        p_in,
                        p_out,
                        regime_at,
                        2.2,
                        rng.choice(list(ExitReason)),
                        ticks,
                        Decimal(ticks * 10),
                        FEE * 2,
                        (f"e{n}a",),
                        (f"e{n}b",),
                    )
                )
    return {
        "bars": bars,
        "regimes": items,
        "fills": fills,
        "round_trips": trips,
        "orders": _outcomes(fills, rng),
        "risk_events": events,
    }


def _outcomes(fills: list[Fill], rng: random.Random) -> list[OrderOutcome]:
    """Each fill's order, filled; before 30% of the entries, a stale entry limit that was cancelled."""
    out: list[OrderOutcome] = []
    filled, cancelled = OrderFinalState.FILLED, OrderFinalState.CANCELLED
    for f in fills:
        placed = f.ts - timedelta(seconds=1)
        if f.role is Role.ENTRY and rng.random() < 0.3:
            gone = f.ts - timedelta(seconds=14)
            out.append(
                OrderOutcome(
                    f"{f.order_id}s",
                    "CL",
                    f.role,
                    f.side,
                    1,
                    "limit",
                    f.price,
                    gone - timedelta(seconds=5),
                    gone,
                    cancelled,
                    0,
                    True,
                    "stale timeout",
                    f.regime,
                )
            )
        out.append(
            OrderOutcome(
                f.order_id,
                "CL",
                f.role,
                f.side,
                f.qty,
                "limit",
                f.price,
                placed,
                f.ts,
                filled,
                f.qty,
                False,
                "filled",
                f.regime,
            )
        )
    return out


def _write(root: Path, records: dict[str, list[Any]], name: str) -> None:
    write_records(
        root,
        fills=records["fills"],
        round_trips=records["round_trips"],
        regimes=records["regimes"],
        bars=records["bars"],
        orders=records["orders"],
        risk_events=records["risk_events"],
        name=name,
    )


def measure(days: int) -> dict[str, Any]:
    records = generate(days)
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        _write(root, records, "part-0")
        _write(root, {k: v[::100] for k, v in records.items()}, "redelivered")  # 1% delivered twice
        t1 = time.perf_counter()
        athena = LocalAthena(FolderLake(root))
        t3 = time.perf_counter()
        per_query = {}
        for name in query_names():
            start = time.perf_counter()
            athena.run(name)
            per_query[name] = round(time.perf_counter() - start, 3)
        t4 = time.perf_counter()
    return {
        "sessions": days,
        "records": {k: len(v) for k, v in records.items()},
        "write_lake_s": round(t1 - t0, 2),
        "read_check_load_s": round(t3 - t1, 2),
        "all_queries_s": round(t4 - t3, 2),
        "end_to_end_s": round(t4 - t1, 2),
        "per_query_s": per_query,
    }


def main() -> None:
    figures = {"month": measure(21), "year": measure(252)}
    for label, f in figures.items():
        print(
            f"{label}: {f['records']} -> read, check and load {f['read_check_load_s']}s, "
            f"all {len(f['per_query_s'])} queries {f['all_queries_s']}s (end to end {f['end_to_end_s']}s)"
        )
    print(f"written to {write_results('analytics', figures)}")


if __name__ == "__main__":
    main()
