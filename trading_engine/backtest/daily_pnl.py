"""A column's P&L as a trader judges it: net USD per trading day, the daily Sharpe ratio, the deflated
Sharpe ratio (the probability that the true Sharpe is above what luck gives), and a bootstrap interval of
the net per round trip.

A trading day ends at a session close (`session_closes`); a round trip counts on the day it closed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from regime.contracts import RoundTrip
from regime.evaluation import block_bootstrap_ci
from trading_engine.sweep.overfitting import deflated_sharpe, sharpe

TRIP_BOOTSTRAP_BLOCK = 1  # round trips of a flat-between-trades strategy: resampled one by one


def day_index(
    closes: npt.NDArray[np.float64], ts: npt.NDArray[np.float64], first: int
) -> npt.NDArray[np.int64]:
    """The trading day (by its session close) of each time, counted from the data's first day."""
    return np.searchsorted(closes, ts, side="right").astype(np.int64) - first


def daily_net_usd(
    closes: npt.NDArray[np.float64],
    exit_ts: npt.NDArray[np.float64],
    net: npt.NDArray[np.float64],
    span: tuple[float, float],
) -> npt.NDArray[np.float64]:
    """Net USD of every trading day from the one holding `span[0]` to the one holding `span[1]` (epoch s),
    zero on days without a round trip."""
    first = int(np.searchsorted(closes, span[0], side="right"))
    n_days = int(day_index(closes, np.array([span[1]]), first)[0]) + 1
    days = day_index(closes, exit_ts, first)
    out = np.zeros(n_days)
    ok = (days >= 0) & (days < n_days)
    np.add.at(out, days[ok], net[ok])
    return out


def trip_arrays(trips: list[RoundTrip]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Exit times (epoch s) and net USD of round-trip records."""
    return (
        np.array([t.exit_ts.timestamp() for t in trips], dtype=np.float64),
        np.array([float(t.net_usd) for t in trips], dtype=np.float64),
    )


def pnl_stats(
    daily: npt.NDArray[np.float64],
    trip_net: npt.NDArray[np.float64],
    *,
    trials: int = 1,
    sr_variance: float = 0.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Daily series, daily Sharpe, deflated Sharpe over `trials` tried, and the net per trip with its 95%
    bootstrap interval (None where there are too few days or trips to say)."""
    dsr = deflated_sharpe(daily, sr_variance, trials) if daily.shape[0] else float("nan")
    ci = block_bootstrap_ci(trip_net, seed, block=TRIP_BOOTSTRAP_BLOCK) if trip_net.size else None
    return {
        "days": int(daily.shape[0]),
        "daily_net_usd": [round(float(x), 2) for x in daily],
        "net_usd": float(daily.sum()),
        "daily_sharpe": float(sharpe(daily)) if daily.shape[0] > 1 else None,
        "deflated_sharpe": None if np.isnan(dsr) else float(dsr),
        "trips": int(trip_net.size),
        "net_usd_per_trip": float(trip_net.mean()) if trip_net.size else None,
        "net_usd_per_trip_ci95": None if ci is None else [float(ci[0]), float(ci[1])],
    }
