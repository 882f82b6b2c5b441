"""The tear sheet: what quantstats, pyfolio and QuantConnect's reports show, from the trade list and the days.

Sharpe and Sortino come from empyrical (the ratios pyfolio uses), on daily net P&L in USD: both are ratios of
a mean to a dispersion of the same series, so no capital figure is needed. Calmar (the annualised net over
the maximum drawdown) and every per-trip figure are computed here, in USD, because empyrical's versions
compound returns on a capital this account does not state.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

TRADING_DAYS = 252  # a year of sessions, for annualising daily figures
ROLLING_DAYS = 20  # the rolling Sharpe's window, about a month of sessions


@dataclass(frozen=True, slots=True)
class Drawdown:
    """One fall from a peak of equity and its recovery (None while still under water), by trip."""

    peak_at: str
    trough_at: str
    recovered_at: str | None
    depth_usd: float
    trips: int


@dataclass(frozen=True, slots=True)
class TearSheet:
    trips: int
    net_usd: float
    sharpe: float  # annualised, daily net P&L
    sortino: float
    calmar: float  # annualised net / maximum drawdown
    profit_factor: float  # gross won / gross lost, per trip net of fees
    expectancy_usd: float  # mean net per trip
    win_rate: float
    exposure: float  # share of the time from the first entry to the last exit spent in a position
    longest_win_streak: int
    longest_loss_streak: int
    max_drawdown_usd: float
    equity: list[float]  # after each trip
    underwater: list[float]  # <= 0, after each trip
    drawdowns: list[Drawdown]  # the worst first
    monthly: dict[tuple[int, int], float]  # (year, month) -> net USD
    rolling_sharpe: list[tuple[str, float]]  # (trading day, annualised Sharpe of the last ROLLING_DAYS)

    def headline(self) -> list[tuple[str, str]]:
        """The figures as (label, text) rows."""
        return [
            ("Round trips", f"{self.trips:,}"),
            ("Net P&L (USD)", f"{self.net_usd:,.2f}"),
            ("Sharpe (annualised, daily)", _ratio(self.sharpe)),
            ("Sortino (annualised, daily)", _ratio(self.sortino)),
            ("Calmar (annual net / max drawdown)", _ratio(self.calmar)),
            ("Profit factor", _ratio(self.profit_factor)),
            ("Expectancy per trip (USD)", f"{self.expectancy_usd:,.2f}"),
            ("Win rate", f"{self.win_rate:.1%}"),
            ("Exposure (time in a position)", f"{self.exposure:.1%}"),
            ("Longest winning streak (trips)", str(self.longest_win_streak)),
            ("Longest losing streak (trips)", str(self.longest_loss_streak)),
            ("Maximum drawdown (USD)", f"{self.max_drawdown_usd:,.2f}"),
        ]


def _ratio(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.2f}"


def tear_sheet(trips: list[dict[str, Any]], daily_net: list[tuple[str, float]]) -> TearSheet:
    """From the trade list (exit order) and the net P&L of each trading day, in day order."""
    import empyrical

    net = np.array([float(t["net_usd"]) for t in trips], dtype=np.float64)
    days = np.array([v for _, v in daily_net], dtype=np.float64)
    equity = np.cumsum(net)
    peak = np.maximum.accumulate(np.concatenate([[0.0], equity]))[1:]
    underwater = equity - peak
    max_dd = float(-underwater.min()) if len(net) else 0.0
    annual = float(days.mean()) * TRADING_DAYS if len(days) else math.nan
    won, lost = float(net[net > 0].sum()), float(-net[net < 0].sum())
    return TearSheet(
        trips=len(net),
        net_usd=float(net.sum()),
        sharpe=float(empyrical.sharpe_ratio(days, period="daily")) if len(days) > 1 else math.nan,
        sortino=float(empyrical.sortino_ratio(days, period="daily")) if len(days) > 1 else math.nan,
        calmar=annual / max_dd if max_dd > 0 else math.nan,
        profit_factor=won / lost if lost > 0 else math.nan,
        expectancy_usd=float(net.mean()) if len(net) else math.nan,
        win_rate=float((net > 0).mean()) if len(net) else math.nan,
        exposure=_exposure(trips),
        longest_win_streak=_streak(net > 0),
        longest_loss_streak=_streak(net < 0),
        max_drawdown_usd=max_dd,
        equity=equity.tolist(),
        underwater=underwater.tolist(),
        drawdowns=_drawdowns(trips, equity),
        monthly=_monthly(daily_net),
        rolling_sharpe=_rolling_sharpe(daily_net),
    )


def _streak(flags: np.ndarray[Any, Any]) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def _exposure(trips: list[dict[str, Any]]) -> float:
    if not trips:
        return math.nan
    entries = [_ts(t["entry_ts"]) for t in trips]
    exits = [_ts(t["exit_ts"]) for t in trips]
    span = max(exits) - min(entries)
    held = sum(float(t["held_s"]) for t in trips)
    return held / span if span > 0 else math.nan


def _ts(text: str) -> float:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


def _drawdowns(trips: list[dict[str, Any]], equity: np.ndarray[Any, Any], worst: int = 5) -> list[Drawdown]:
    """Each fall below the running peak (starting from zero), deepest first."""
    out: list[Drawdown] = []
    peak, peak_at, trough, trough_at, start = 0.0, "start", 0.0, "", -1
    for i, value in enumerate(equity.tolist()):
        if value >= peak:
            if trough < peak:
                out.append(Drawdown(peak_at, trough_at, str(trips[i]["exit_ts"]), peak - trough, i - start))
            peak, peak_at, trough, start = value, str(trips[i]["exit_ts"]), value, i
        elif value < trough:
            trough, trough_at = value, str(trips[i]["exit_ts"])
    if trough < peak:
        out.append(Drawdown(peak_at, trough_at, None, peak - trough, len(equity) - 1 - start))
    return sorted(out, key=lambda d: -d.depth_usd)[:worst]


def _monthly(daily_net: list[tuple[str, float]]) -> dict[tuple[int, int], float]:
    months: dict[tuple[int, int], float] = defaultdict(float)
    for day, value in daily_net:
        months[(int(day[:4]), int(day[5:7]))] += value
    return dict(sorted(months.items()))


def _rolling_sharpe(daily_net: list[tuple[str, float]]) -> list[tuple[str, float]]:
    values = np.array([v for _, v in daily_net], dtype=np.float64)
    out = []
    for i in range(ROLLING_DAYS, len(values) + 1):
        window = values[i - ROLLING_DAYS : i]
        sd = float(window.std(ddof=1))
        if sd > 0:
            out.append((daily_net[i - 1][0], float(window.mean()) / sd * math.sqrt(TRADING_DAYS)))
    return out
