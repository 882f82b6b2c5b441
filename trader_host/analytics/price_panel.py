"""The data of the report's price chart (the article's figure 2): one symbol's bars over a window, the
rolling mean and z-score bands the strategy saw, its entries and exits, and the regime in force.

Read from the lake's tables (deduplicated here as in the named queries) in the local DuckDB; an Athena CSV
download has no bars, so a report from CSV has no price chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from regime.contracts.cadence import DECISION_INTERVAL
from trader_host.analytics.local_athena import LocalAthena


@dataclass(frozen=True, slots=True)
class PricePanel:
    """Everything the price chart draws; times are epoch seconds."""

    symbol: str
    times: list[float]
    closes: list[float]
    means: list[float]
    sds: list[float]
    fills: list[tuple[float, float, str, str, str]]  # time, price, side, role, tooltip
    regimes: list[tuple[float, float, str]]  # start, end, regime (trend/range only)
    z_thresh: float
    z_thresh_up: float


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def rolling(closes: list[float], lookback: int) -> tuple[list[float], list[float]]:
    """Mean and unbiased sd of the previous `lookback` closes at each bar, NaN until there are enough."""
    means, sds = [], []
    for i in range(len(closes)):
        window = closes[max(0, i - lookback + 1) : i + 1]
        if len(window) < lookback:
            means.append(math.nan)
            sds.append(math.nan)
            continue
        m = sum(window) / lookback
        means.append(m)
        sds.append(math.sqrt(sum((c - m) ** 2 for c in window) / (lookback - 1)))
    return means, sds


def _rows(athena: LocalAthena, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in athena.con.execute(sql, list(params)).fetchall()]


def price_panel(
    athena: LocalAthena,
    *,
    symbol: str | None = None,
    hours: float = 6.0,
    lookback: int = 20,
    z_thresh: float = 2.0,
    z_thresh_up: float = 0.5,
) -> PricePanel | None:
    """The last `hours` of bars up to the last fill of `symbol` (default: the symbol with most fills);
    None when the lake has no bars."""
    if symbol is None:
        top = _rows(athena, "SELECT symbol FROM fills GROUP BY symbol ORDER BY count(*) DESC LIMIT 1")
        top = top or _rows(athena, "SELECT symbol FROM bars GROUP BY symbol ORDER BY count(*) DESC LIMIT 1")
        if not top:
            return None
        symbol = str(top[0][0])
    # The window ends at the last fill, or at the last bar when the archive stops earlier.
    last_bar = _rows(athena, "SELECT max(ts) FROM bars WHERE symbol = ?", symbol)[0][0]
    last_fill = _rows(athena, "SELECT max(ts) FROM fills WHERE symbol = ?", symbol)[0][0]
    if last_bar is None:
        return None
    last = min(str(last_bar), str(last_fill)) if last_fill is not None else str(last_bar)
    end = datetime.fromisoformat(last.replace("Z", "+00:00")) + timedelta(minutes=30)
    start = end - timedelta(hours=hours)
    # Warm-up bars before the window so that the mean exists from its first minute.
    warm = start - timedelta(minutes=lookback)
    bars = _rows(
        athena,
        "SELECT DISTINCT ts, close FROM bars WHERE symbol = ? AND CAST(ts AS TIMESTAMPTZ) >= ? "
        "AND CAST(ts AS TIMESTAMPTZ) < ? ORDER BY ts",
        symbol,
        warm,
        end,
    )
    if not bars:
        return None
    times = [_epoch(str(ts)) + 60.0 for ts, _ in bars]  # a bar's close is known at the end of its minute
    closes = [float(c) for _, c in bars]
    means, sds = rolling(closes, lookback)
    keep = [i for i, t in enumerate(times) if t >= start.timestamp()]
    fills = [
        (
            _epoch(str(ts)),
            float(price),
            str(side),
            str(role),
            f"{role} {side} {qty} @ {price} ({regime}) {ts}",
        )
        for ts, price, side, role, qty, regime in _rows(
            athena,
            "SELECT ts, price, side, role, qty, regime FROM ("
            " SELECT *, row_number() OVER (PARTITION BY execution_id ORDER BY hour) AS copy_no FROM fills"
            ") WHERE copy_no = 1 AND symbol = ? "
            "AND CAST(ts AS TIMESTAMPTZ) >= ? AND CAST(ts AS TIMESTAMPTZ) < ? "
            "ORDER BY ts",
            symbol,
            start,
            end,
        )
    ]
    # A decision governs the market's next interval after its window's end: placed by `window_end` (market
    # time), never by `computed_at`, the function's wall clock (a replay's or the demo's virtual days).
    interval = DECISION_INTERVAL.total_seconds()
    regimes = [
        (max(_epoch(str(w)), start.timestamp()), min(_epoch(str(w)) + interval, end.timestamp()), str(r))
        for w, r in _rows(
            athena,
            "SELECT DISTINCT window_end, regime FROM regimes WHERE symbol = ? "
            "AND regime <> 'nothing' AND CAST(window_end AS TIMESTAMPTZ) > ? "
            "AND CAST(window_end AS TIMESTAMPTZ) < ? ORDER BY window_end",
            symbol,
            start - DECISION_INTERVAL,
            end,
        )
    ]
    return PricePanel(
        symbol=symbol,
        times=[times[i] for i in keep],
        closes=[closes[i] for i in keep],
        means=[means[i] for i in keep],
        sds=[sds[i] for i in keep],
        fills=fills,
        regimes=regimes,
        z_thresh=z_thresh,
        z_thresh_up=z_thresh_up,
    )
