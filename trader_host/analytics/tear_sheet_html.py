"""The tear sheet as HTML: the headline ratios, monthly returns, equity and underwater by trip, rolling
Sharpe, the worst drawdowns and the trade list (from the `trade_list` and `daily_pnl` query results)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from trader_host.analytics.local_athena import QueryResult
from trader_host.analytics.svg import PALETTE, Plot
from trader_host.analytics.tear_sheet import ROLLING_DAYS, TearSheet, tear_sheet

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TRADE_COLUMNS = (  # column -> header a trader reads
    ("entry_ts", "Entry (UTC)"),
    ("exit_ts", "Exit (UTC)"),
    ("held_s", "Held"),
    ("side", "Side"),
    ("regime", "Regime at entry"),
    ("exit_reason", "Exit reason"),
    ("pnl_ticks", "Ticks"),
    ("net_usd", "Net (USD)"),
)


def tear_sheet_section(trades: QueryResult | None, daily: QueryResult | None) -> str:
    """The section's HTML; says what is missing when the trade list is."""
    if trades is None or trades.empty:
        why = trades.message if trades is not None else "no trade_list result in this source"
        return f'<p class="empty">{escape(why)}</p>'
    recs = trades.records()
    days = [] if daily is None or daily.empty else daily.records()
    sheet = tear_sheet(recs, [(str(r["trading_day"]), float(r["net_usd"])) for r in days])
    parts = [
        _table(("Figure", "Value"), sheet.headline(), "tear-sheet"),
        '<p class="note">Sharpe and Sortino: empyrical (as pyfolio), on daily net P&amp;L, 252 sessions a '
        "year; Calmar, profit factor and expectancy per round trip net of fees, computed here.</p>",
        "<h3>Monthly net P&amp;L (USD)</h3>",
        _monthly(sheet),
        _equity_chart(sheet),
        _rolling_chart(sheet),
        "<h3>Worst drawdowns</h3>",
        _table(
            ("Peak (exit)", "Trough (exit)", "Recovered", "Depth (USD)", "Trips"),
            [
                (
                    _when(d.peak_at),
                    _when(d.trough_at),
                    _when(d.recovered_at) if d.recovered_at else "not yet",
                    f"{d.depth_usd:,.2f}",
                    str(d.trips),
                )
                for d in sheet.drawdowns
            ],
            "drawdowns",
        ),
        f"<h3>Trade list ({len(recs):,} round trips)</h3>",
        _table(
            [h for _, h in TRADE_COLUMNS],
            [tuple(_trade_cell(r.get(c), c) for c, _ in TRADE_COLUMNS) for r in recs],
            "trade-list",
        ),
    ]
    return "".join(parts)


def _trade_cell(value: object, column: str) -> str:
    if value is None:
        return ""
    if column == "held_s":
        seconds = int(float(str(value)))
        return (
            f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
            if seconds >= 3600
            else f"{seconds // 60}m{seconds % 60:02d}s"
        )
    if column.endswith("_ts"):
        return _when(str(value))
    if column == "net_usd":
        return f"{float(str(value)):,.2f}"
    return str(value)


def _when(ts: str) -> str:
    """'2026-01-07T17:06:52.379603Z' -> '2026-01-07 17:06:52' (UTC, as the headers say)."""
    return ts.replace("T", " ").removesuffix("Z")[:19]


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], name: str) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    scroll = " scroll" if len(rows) > 20 else ""
    return f'<div class="wide{scroll}"><table class="{name}"><tr>{header}</tr>{body}</table></div>'


def _monthly(sheet: TearSheet) -> str:
    years = sorted({y for y, _ in sheet.monthly})
    if not years:
        return '<p class="empty">no daily P&amp;L: no monthly table</p>'
    rows = []
    for year in years:
        cells = [sheet.monthly.get((year, m)) for m in range(1, 13)]
        total = sum(v for v in cells if v is not None)
        rows.append((str(year), *("" if v is None else f"{v:,.0f}" for v in cells), f"{total:,.0f}"))
    return _table(("Year", *MONTHS, "Total"), rows, "monthly")


def _equity_chart(sheet: TearSheet) -> str:
    xs = [float(i + 1) for i in range(len(sheet.equity))]
    lo, hi = min([0.0, *sheet.underwater]), max([0.0, *sheet.equity])
    plot = Plot(
        "Equity after each round trip, and under water (below the peak), USD", (0.0, len(xs)), (lo, hi)
    )
    plot.band(xs, sheet.underwater, [0.0] * len(xs), PALETTE["drawdown"], "under water (USD below the peak)")
    plot.line(xs, sheet.equity, PALETTE["equity"], "equity (cumulative net, USD)", width=2)
    plot.hline(0.0, PALETTE["zero"], name="zero")
    return plot.render()


def _rolling_chart(sheet: TearSheet) -> str:
    points = [(d, v) for d, v in sheet.rolling_sharpe if math.isfinite(v)]
    if len(points) < 2:
        return f'<p class="note">rolling Sharpe: fewer than {ROLLING_DAYS + 1} trading days, none drawn</p>'
    xs = [float(i) for i in range(len(points))]
    values = [v for _, v in points]
    step = max(1, len(points) // 8)
    plot = Plot(
        f"Rolling Sharpe ({ROLLING_DAYS} trading days, annualised)",
        (-0.5, len(points) - 0.5),
        (min(0.0, *values), max(0.0, *values)),
        x_ticks=[(i, d[5:]) for i, (d, _) in enumerate(points) if i % step == 0],
    )
    plot.line(xs, values, PALETTE["equity"], f"Sharpe of the last {ROLLING_DAYS} days")
    plot.hline(0.0, PALETTE["zero"], name="zero")
    return plot.render()
