"""The report's equity curve: by trading day, or by round trip through the day when there is one day only
(a daily curve of one day is a lone dot)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime
from typing import Any

from trader_host.analytics.local_athena import QueryResult
from trader_host.analytics.svg import PALETTE, Plot, clock, time_ticks
from trader_host.analytics.tables import as_float


def equity_section(daily: QueryResult, trades: QueryResult | None) -> str:
    """Equity by day; with fewer than two days (one day is one dot), by round trip through the day."""
    if len({str(r["trading_day"]) for r in daily.records()}) >= 2:
        return equity_chart(daily)
    if trades is None or trades.empty:
        return '<p class="note">one trading day and no trade list: no equity curve to draw</p>'
    return equity_by_trip_chart(trades)


def equity_by_trip_chart(trades: QueryResult) -> str:
    """Equity from zero at the first entry to each round trip's exit, and the drawdown below the peak, per
    symbol, on the clock."""
    by_symbol: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in trades.records():  # the trade list is in exit order per symbol
        by_symbol[str(r["symbol"])].append(r)
    curves = {}
    for symbol, trips in by_symbol.items():
        xs = [_epoch(trips[0]["entry_ts"]), *(_epoch(t["exit_ts"]) for t in trips)]
        equity = list(itertools.accumulate((as_float(t["net_usd"]) for t in trips), initial=0.0))
        peaks = itertools.accumulate(equity, max)
        curves[symbol] = (trips, xs, equity, [e - p for e, p in zip(equity, peaks, strict=True)])
    times = [x for _, xs, _, _ in curves.values() for x in xs]
    values = [v for _, _, equity, under in curves.values() for v in (*equity, *under)]
    plot = Plot(
        "Equity and drawdown (USD) by round trip, exit time UTC (one day: no daily curve)",
        (min(times), max(times)),
        (min(0.0, *values), max(0.0, *values)),
        x_ticks=[(x, clock(x)) for x in time_ticks(min(times), max(times))],
    )
    for symbol, (trips, xs, equity, under) in curves.items():
        plot.band(xs, under, [0.0] * len(xs), PALETTE["drawdown"], f"{symbol} drawdown")
        plot.line(xs, equity, PALETTE["equity"], f"{symbol} equity", width=2)
        exits = [
            (x, e, f"{t['trip_id']} exit {clock(x)}: net {as_float(t['net_usd']):+,.2f}, equity {e:,.2f}")
            for t, x, e in zip(trips, xs[1:], equity[1:], strict=True)
        ]
        plot.markers(exits, PALETTE["equity"], "circle", f"{symbol} round trip's exit")
    plot.hline(0.0, PALETTE["zero"], name="zero")
    return plot.render()


def _epoch(iso: object) -> float:
    """'2026-01-05T14:20:00Z' (the lake's UTC timestamps) as epoch seconds."""
    return datetime.fromisoformat(str(iso).replace("Z", "+00:00")).timestamp()


def equity_chart(daily: QueryResult) -> str:
    """Equity after each day and the drawdown below its peak, per symbol."""
    recs = daily.records()
    days = sorted({str(r["trading_day"]) for r in recs})
    index = {d: i for i, d in enumerate(days)}
    equity = [as_float(r["equity_usd"]) for r in recs]
    dd = [-as_float(r["drawdown_usd"]) for r in recs]
    lo, hi = min([0.0, *equity, *dd]), max([0.0, *equity])
    step = max(1, len(days) // 8)
    plot = Plot(
        "Equity (cumulative net, USD) and drawdown from the peak, per trading day",
        (-0.5, len(days) - 0.5),
        (lo, hi),
        x_ticks=[(i, d[5:]) for i, d in enumerate(days) if i % step == 0],
        y_unit="",
    )
    by_symbol: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        by_symbol[str(r["symbol"])].append(r)
    for symbol, rows in by_symbol.items():
        xs = [float(index[str(r["trading_day"])]) for r in rows]
        plot.band(
            xs,
            [-as_float(r["drawdown_usd"]) for r in rows],
            [0.0] * len(rows),
            PALETTE["drawdown"],
            f"{symbol} drawdown",
        )
        plot.line(
            xs, [as_float(r["equity_usd"]) for r in rows], PALETTE["equity"], f"{symbol} equity", width=2
        )
        stops = [
            (x, as_float(r["equity_usd"]), f"{r['trading_day']}: daily loss limit stopped trading")
            for x, r in zip(xs, rows, strict=True)
            if r.get("loss_limit_stop")
        ]
        plot.markers(stops, PALETTE["loss"], "circle", "loss-limit day")
    plot.hline(0.0, PALETTE["zero"], name="zero")
    return plot.render()
