"""The columns of a backtest: one run per regime source, each with its daily P&L statistics, and the random
baseline over many seeds (a mean and a 95% interval: one draw says little)."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries
from trading_engine.backtest.backtest_results import BacktestResult
from trading_engine.backtest.daily_pnl import daily_net_usd, pnl_stats, trip_arrays
from trading_engine.backtest.fast.inputs import session_closes
from trading_engine.backtest.regime_choices import regime_source
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import HostConfig
from trading_engine.fees import FeeSchedule
from trading_engine.instruments import ContractSpec
from trading_engine.regime_source import RegimeSource

log = logging.getLogger(__name__)
RANDOM_SEEDS = 20
# Closed round trips as arrays: exit time (epoch s) and net USD.
TripTimes = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]


@dataclass(frozen=True)
class Market:
    """What every column runs on: the bars, the tape, the contract, fees, config, and the fast engine."""

    series: BarSeries
    truth: npt.NDArray[np.int8] | None
    tape: MarketTape
    spec: ContractSpec
    config: HostConfig
    fees: FeeSchedule
    fast: Any  # FastEngine | None (numba: imported only when used)

    @property
    def span(self) -> tuple[float, float]:
        """First and last bar start (epoch s): the trading days the daily P&L covers."""
        return float(self.series.minute[0]) * 60.0, float(self.series.minute[-1]) * 60.0


def run_column(name: str, market: Market, source: RegimeSource) -> tuple[BacktestResult, TripTimes]:
    """One column and its trips' exit times and net USD, on the fast engine when there is one (the reference
    when it meets what the fast one does not model, which it says), labelled with the daily loss limit it
    traded under."""
    found: tuple[BacktestResult, TripTimes] | None = None
    if market.fast is not None:
        from trading_engine.backtest.fast.fast_engine import run_fast_column
        from trading_engine.backtest.fast.fast_run import FastEngineUnsupported

        try:
            result, run = run_fast_column(name, market.fast, market.config, source)
            found = result, market.fast.trips(run)
        except FastEngineUnsupported as exc:
            log.warning("backtest %s: %s; running the reference engine instead", name, exc)
    if found is None:
        from trading_engine.backtest.runner import run_backtest  # the reference engine: imported when used

        result, trader = run_backtest(name, market.tape, market.spec, market.config, market.fees, source)
        found = result, trip_arrays(trader.round_trips())
    limit = market.config.risk.daily_loss_limit_usd(market.spec.tick_value_usd)
    labelled = dataclasses.replace(
        found[0], risk_caps_lifted=not math.isfinite(limit), daily_loss_limit_usd=limit
    )
    return labelled, found[1]


def run_columns(
    market: Market,
    choices: list[str],
    *,
    model_path: Path | None,
    seed: int,
    step: Callable[[str], None],
) -> list[tuple[BacktestResult, dict[str, Any]]]:
    """Every column with its P&L statistics (daily series, Sharpe, net per trip with its interval)."""
    closes = session_closes(market.spec.session, *market.span)
    out = []
    for choice in choices:
        step(f"column {choice}")
        source = regime_source(
            choice, market.series, model_path=model_path, truth=market.truth, seed=seed,
            tick_size=float(market.spec.tick_size),
        )  # fmt: skip
        result, (exit_ts, net) = run_column(choice, market, source)
        out.append((result, pnl_stats(daily_net_usd(closes, exit_ts, net, market.span), net, seed=seed)))
    return out


def random_band(market: Market, seeds: int, step: Callable[[str], None]) -> dict[str, Any] | None:
    """Net USD of the random regime over `seeds` seeds: mean and 95% interval (fast engine only: None on
    the reference, where it would cost `seeds` full replays)."""
    if market.fast is None or seeds < 1:
        return None
    step(f"random over {seeds} seeds")
    nets = np.array(
        [
            float(run_column("random", market, regime_source("random", market.series, seed=s))[0].net_usd)
            for s in range(seeds)
        ]
    )
    lo, hi = np.quantile(nets, [0.025, 0.975])
    return {"seeds": seeds, "net_usd": float(nets.mean()), "net_usd_ci95": [float(lo), float(hi)]}


def pnl_lines(columns: list[tuple[BacktestResult, dict[str, Any]]], band: dict[str, Any] | None) -> str:
    """Per column: days, net, daily Sharpe, deflated Sharpe, net per trip with its interval; then the
    random band and one plain line: which columns beat random at 95%, and whether any nets above zero."""
    lines = [
        "",
        f"{'column':<12}{'days':>6}{'net USD':>12}{'daily Sharpe':>14}{'deflated':>10}"
        f"{'net USD/trip':>14}{'95% interval':>22}",
    ]
    for result, p in columns:
        ci = p["net_usd_per_trip_ci95"]
        lines.append(
            f"{result.name:<12}{p['days']:>6}{p['net_usd']:>12,.2f}{_opt(p['daily_sharpe']):>14}"
            f"{_opt(p['deflated_sharpe'], '.2f'):>10}{_opt(p['net_usd_per_trip'], '+.2f'):>14}"
            f"{'n/a' if ci is None else f'[{ci[0]:+.2f}, {ci[1]:+.2f}]':>22}"
        )
    earn = [r.name for r, p in columns if p["net_usd"] > 0]
    summary = f"{', '.join(earn)} net more than zero" if earn else "no column nets more than zero"
    if band is not None:
        lo, hi = band["net_usd_ci95"]
        lines.append(
            f"random over {band['seeds']} seeds: net {band['net_usd']:,.2f} USD on average, "
            f"95% interval [{lo:,.2f}, {hi:,.2f}]"
        )
        beat = [r.name for r, p in columns if r.name != "random" and p["net_usd"] > hi]
        summary = f"{', '.join(beat) if beat else 'no column'} beat random at 95%; " + summary
    lines.append(summary + " (net of fees).")
    return "\n".join(lines)


def _opt(x: float | None, fmt: str = ".3f") -> str:
    return "n/a" if x is None else format(x, fmt)
