"""The HTML report: one self-contained page (inline CSS and SVG, no script, no network).

Sections: the article's statistics table beside ours; price with mean, z-score bands, entries, exits and
regime shading (the article's figure 2); the equity curve with drawdown; the distribution of trade outcomes;
P&L by regime and by hour; the model's out-of-sample scores per model, per hemisphere and for the vote beside
the base rate (the article's figure 4, made honest) and its live accuracy; daily P&L with loss-limit days;
exits and execution quality. Every section works from query results alone (the lake, or Athena's CSVs);
a section whose data is missing says so instead of drawing an empty chart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from typing import Any

from trader_host.analytics.equity_charts import equity_section
from trader_host.analytics.local_athena import QueryResult
from trader_host.analytics.price_panel import PricePanel
from trader_host.analytics.svg import PALETTE, Plot, clock, time_ticks
from trader_host.analytics.tables import as_float, cell
from trader_host.analytics.tear_sheet_html import tear_sheet_section

# Entries are triangles pointing the trade's way; exits a square (a buy closing a short) or a diamond (a sell
# closing a long): told apart by shape as well as by the side's colour.
FILL_MARKERS = (("entry", "BUY", "up"), ("entry", "SELL", "down"), ("exit", "BUY", "square"),
                ("exit", "SELL", "diamond"))  # fmt: skip

# The article's own statistics (its "How did the project go?"), for the side-by-side table.
ARTICLE: dict[str, str] = {
    "win_share": "45%",
    "avg_win_ticks": "about 1.8",
    "loss_share": "29%",
    "avg_loss_ticks": "about -1.7",
    "scratch_share": "26%",
    "ticks_per_trip": "about 0.32",
    "round_turns_per_hour": "7 to 8",
    "nominal_usd_per_day": "about 16,500,000",
    "margin_usd": "about 5,000",
    "return_on_margin": "20% to 30% a month (theoretical)",
}

_CSS = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 960px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ddd; }
h3 { font-size: 14px; margin: 16px 0 4px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.wide { overflow-x: auto; } .scroll { max-height: 480px; overflow-y: auto; }
.note { color: #666; font-size: 13px; } .empty { color: #a33; font-style: italic; }
svg.chart { display: block; margin: 8px 0; max-width: 100%; height: auto; }
svg .title { font-size: 14px; font-weight: 600; } svg .tick, svg .legend { font-size: 11px; fill: #444; }
"""


def html_table(result: QueryResult, columns: list[str] | None = None) -> str:
    """A result as an HTML table, or its empty message."""
    if result.empty:
        return f'<p class="empty">{escape(result.message)}</p>'
    cols = columns or list(result.columns)
    head = "".join(f"<th>{escape(human(c))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell(rec.get(c), c))}</td>" for c in cols) + "</tr>"
        for rec in result.records()
    )
    return (
        f'<div class="wide"><table class="result" data-query="{escape(result.name)}">'
        f"<tr>{head}</tr>{body}</table></div>"
    )


def statistics_section(result: QueryResult | None) -> str:
    if result is None or result.empty:
        return _missing(result, "trade_statistics")
    recs = result.records()
    head = (
        "<th>Figure</th>" + "".join(f"<th>{escape(str(r['symbol']))}</th>" for r in recs) + "<th>Article</th>"
    )
    rows = []
    for col in result.columns[1:]:
        cells = "".join(f"<td>{escape(_statistic(r[col], col))}</td>" for r in recs)
        rows.append(f"<tr><td>{escape(human(col))}</td>{cells}<td>{escape(ARTICLE.get(col, ''))}</td></tr>")
    return f'<table class="result" data-query="trade_statistics"><tr>{head}</tr>{"".join(rows)}</table>'


def human(column: str) -> str:
    """A column name as a header: 'avg_win_ticks' -> 'Avg win ticks', 'net_usd' -> 'Net (USD)'."""
    words = column.replace("_usd", " (USD)").replace("_", " ")
    return words[:1].upper() + words[1:]


def _statistic(value: Any, column: str) -> str:
    """Shares as percentages (0.1667 -> 16.7%), the rest as the tables print them."""
    if column.endswith("_share") and value is not None:
        return f"{float(value):.1%}"
    return cell(value, column)


def _missing(result: QueryResult | None, name: str) -> str:
    if result is None:
        return f'<p class="empty">{escape(name)}: not in this result set</p>'
    return f'<p class="empty">{escape(result.message)}</p>'


def price_chart(panel: PricePanel) -> str:
    """Price, mean and z-bands, entries and exits, regime shading."""
    up = panel.z_thresh
    top = panel.z_thresh + panel.z_thresh_up
    lows = [m - top * s for m, s in zip(panel.means, panel.sds, strict=True)]
    highs = [m + top * s for m, s in zip(panel.means, panel.sds, strict=True)]
    ys = [y for y in (*panel.closes, *lows, *highs, *(f[1] for f in panel.fills)) if math.isfinite(y)]
    plot = Plot(
        f"{panel.symbol}: price, mean and z-score bands ({up:g} to {top:g} sd), entries and exits (UTC)",
        (panel.times[0], panel.times[-1]),
        (min(ys), max(ys)),
        height=380,
        x_ticks=[(x, clock(x)) for x in time_ticks(panel.times[0], panel.times[-1])],
    )
    for start, end, regime in panel.regimes:
        plot.span(
            start, end, PALETTE.get(regime, PALETTE["nothing"]), f"{regime} {clock(start)}-{clock(end)}"
        )
    for regime in sorted({r for _, _, r in panel.regimes}):
        plot.key(f"{regime} regime", PALETTE[regime])
    t = panel.times
    plot.band(
        t,
        lows,
        [m - up * s for m, s in zip(panel.means, panel.sds, strict=True)],
        PALETTE["band"],
        "entry band",
    )
    plot.band(t, [m + up * s for m, s in zip(panel.means, panel.sds, strict=True)], highs, PALETTE["band"])
    plot.line(t, panel.means, PALETTE["mean"], "mean", dash="4 3")
    plot.line(t, panel.closes, PALETTE["price"], "close")
    for role, side, shape in FILL_MARKERS:  # a shape per role and side, and the side's colour
        pts = [(x, y, tip) for x, y, s, r, tip in panel.fills if s == side and r == role]
        plot.markers(pts, PALETTE[side.lower()], shape, f"{role} {side.lower()}")
    return plot.render()


def outcomes_chart(outcomes: QueryResult) -> str:
    """Round trips per whole ticks per contract, one bar colour per regime at entry."""
    recs = outcomes.records()
    regimes = sorted({str(r["regime"]) for r in recs})
    counts = [int(r["round_trips"]) for r in recs]
    ticks = [int(r["ticks"]) for r in recs]
    plot = Plot(
        "Distribution of trade outcomes: round trips per ticks per contract, by regime at entry",
        (min(ticks) - 1, max(ticks) + 1),
        (0.0, float(max(counts))),
    )
    width = 0.8 / max(len(regimes), 1)
    for k, regime in enumerate(regimes):
        rows = [r for r in recs if r["regime"] == regime]
        plot.bars(
            [float(r["ticks"]) for r in rows],
            [float(r["round_trips"]) for r in rows],
            width,
            [PALETTE.get(regime, PALETTE["neutral"])] * len(rows),
            [f"{regime}: {r['round_trips']} trips at {r['ticks']:+d} ticks" for r in rows],
            offset=(k - (len(regimes) - 1) / 2) * width,
        )
        plot.key(regime, PALETTE.get(regime, PALETTE["neutral"]))
    return plot.render()


def category_chart(title: str, labels: list[str], values: list[float], tips: list[str]) -> str:
    """Signed bars, one per category (P&L by regime, by hour)."""
    plot = Plot(
        title,
        (-0.5, len(labels) - 0.5),
        (min(0.0, *values), max(0.0, *values)),
        x_ticks=list(enumerate(labels)),
    )
    colors = [PALETTE["gain"] if v >= 0 else PALETTE["loss"] for v in values]
    plot.bars([float(i) for i in range(len(labels))], values, 0.7, colors, tips)
    for sign, name in ((1, "net gain"), (-1, "net loss")):
        if any(v * sign > 0 for v in values):
            plot.key(name, PALETTE["gain" if sign > 0 else "loss"])
    plot.hline(0.0, PALETTE["zero"], dash="", name="zero")
    return plot.render()


def scores_chart(title: str, rows: list[tuple[str, float, float]]) -> str:
    """Accuracy bars with the baseline (majority class) drawn over each as a dark tick."""
    plot = Plot(title, (-0.5, len(rows) - 0.5), (0.0, 1.0), x_ticks=[(i, r[0]) for i, r in enumerate(rows)])
    plot.bars(
        [float(i) for i in range(len(rows))],
        [r[1] for r in rows],
        0.6,
        [PALETTE["range"]] * len(rows),
        [f"{name}: accuracy {acc:.3f}, baseline {base:.3f}" for name, acc, base in rows],
    )
    for i, (_, _, base) in enumerate(rows):
        if math.isfinite(base):
            plot.tick(float(i), base, 0.75, PALETTE["baseline"], f"baseline {base:.3f}")
    plot.key("accuracy", PALETTE["range"])
    plot.key("baseline (majority class)", PALETTE["baseline"], "line")
    return plot.render()


def model_scores_rows(oos: Mapping[str, Any]) -> list[tuple[str, float, float]]:
    """(name, accuracy, baseline) per model, hemisphere and the vote, from a model's `oos_scores`."""
    rows: list[tuple[str, float, float]] = []
    hemis = oos.get("hemispheres", {})
    for name, scores in sorted(oos.get("models", {}).items()):
        hemi = next((h for h in hemis if name.startswith(h)), None)
        base = as_float(hemis[hemi]["baseline"]) if hemi else math.nan
        rows.append((name, as_float(scores.get("accuracy")), base))
    for name, scores in sorted(hemis.items()):
        rows.append((f"{name} vote", as_float(scores.get("accuracy")), as_float(scores.get("baseline"))))
    if "vote_accuracy" in oos:
        rows.append(("regime vote", as_float(oos["vote_accuracy"]), as_float(oos.get("vote_baseline"))))
    return rows


def live_scores_rows(live: QueryResult) -> list[tuple[str, float, float]]:
    rows: list[tuple[str, float, float]] = []
    for r in live.records():
        tag = f"{r['symbol']} {r['model_version']}"
        rows.append((f"{tag} trend", as_float(r["trend_accuracy"]), as_float(r["trend_baseline"])))
        rows.append((f"{tag} range", as_float(r["range_accuracy"]), as_float(r["range_baseline"])))
    return rows


def render_report(
    results: Mapping[str, QueryResult],
    *,
    title: str = "regime-trader: trade analytics",
    source: str = "",
    panel: PricePanel | None = None,
    model_scores: Mapping[str, Any] | None = None,
    notes: list[str] | None = None,
) -> str:
    """The whole page."""
    parts = [f"<h1>{escape(title)}</h1>", f'<p class="note">{escape(source)}</p>']
    parts += [f'<p class="note">{escape(n)}</p>' for n in notes or []]

    def section(heading: str, body: str) -> None:
        parts.append(f"<h2>{escape(heading)}</h2>{body}")

    section(
        "Statistics beside the article's (Fages and Derek, \"Development Of Cloud-Based Automated Trading "
        'System With Machine Learning", QuantInsti EPAT: its "How did the project go?")',
        statistics_section(results.get("trade_statistics")),
    )
    section(
        "Tear sheet: ratios, months, drawdowns and every trade",
        tear_sheet_section(results.get("trade_list"), results.get("daily_pnl")),
    )
    section(
        "Price, bands, trades and regime",
        price_chart(panel)
        if panel is not None and len(panel.times) > 1
        else '<p class="empty">no bars for a price chart in this source (an Athena CSV set has none)</p>',
    )
    daily = results.get("daily_pnl")
    section(
        "Equity and drawdown",
        equity_section(daily, results.get("trade_list"))
        if daily is not None and not daily.empty
        else _missing(daily, "daily_pnl"),
    )
    outcomes = results.get("trade_outcomes")
    section(
        "Trade outcomes",
        outcomes_chart(outcomes)
        if outcomes is not None and not outcomes.empty
        else _missing(outcomes, "trade_outcomes"),
    )
    by_regime = results.get("pnl_by_regime")
    if by_regime is not None and not by_regime.empty:
        recs = by_regime.records()
        labels = [f"{r['regime']} {r['confidence_bucket']}" for r in recs]
        chart = category_chart(
            "Net P&L (USD) by regime at entry and decision confidence",
            labels,
            [as_float(r["net_usd"]) for r in recs],
            [
                f"{lab}: {r['round_trips']} trips, gross {cell(r['gross_usd'], 'gross_usd')}, "
                f"fees {cell(r['fees_usd'], 'fees_usd')}, net {cell(r['net_usd'], 'net_usd')}"
                for lab, r in zip(labels, recs, strict=True)
            ],
        )
        section("P&L by regime", chart + html_table(by_regime))
    else:
        section("P&L by regime", _missing(by_regime, "pnl_by_regime"))
    by_hour = results.get("pnl_by_hour")
    if by_hour is not None and not by_hour.empty:
        recs = by_hour.records()
        chart = category_chart(
            "Net P&L (USD) by hour of entry (UTC)",
            [f"{r['entry_hour_utc']:02d}" for r in recs],
            [as_float(r["net_usd"]) for r in recs],
            [
                f"{r['entry_hour_utc']:02d}h: {r['round_trips']} trips, net {cell(r['net_usd'], 'net_usd')}"
                for r in recs
            ],
        )
        section("P&L by hour of day", chart)
    else:
        section("P&L by hour of day", _missing(by_hour, "pnl_by_hour"))
    model_body = ""
    if model_scores:
        rows = model_scores_rows(model_scores)
        if rows:
            model_body += scores_chart(
                "Out-of-sample accuracy per model, hemisphere and vote, beside the baseline", rows
            )
    live = results.get("live_accuracy")
    if live is not None and not live.empty:
        model_body += scores_chart(
            "Live accuracy per model version and hemisphere, beside the baseline", live_scores_rows(live)
        )
        model_body += html_table(live)
    section("The regime model", model_body or _missing(live, "live_accuracy"))
    for name, heading in (
        ("daily_pnl", "Daily P&L (loss-limit days marked)"),
        ("exit_reasons", "How trades ended"),
        ("execution_quality", "Execution quality"),
        ("daily_fills", "Fills per day"),
    ):
        result = results.get(name)
        section(heading, html_table(result) if result is not None else _missing(None, name))
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )
