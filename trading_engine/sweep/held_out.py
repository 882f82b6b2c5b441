"""The held-out test of a sweep: the configuration selected on the selection data, run once on test data
it never saw, beside the baselines, in sample and out of sample side by side.

The baselines trade the selected configuration under a fixed, hindsight or random regime; random is run
over many seeds and given as a mean with a 95% interval, so a column "beats random" only when it earns more
than 97.5% of chance draws would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from trading_engine.backtest.daily_pnl import daily_net_usd, pnl_stats
from trading_engine.backtest.regime_choices import regime_source
from trading_engine.config import HostConfig
from trading_engine.regime_source import RegimeSource
from trading_engine.sweep.grid import Candidate
from trading_engine.sweep.overfitting import sharpe
from trading_engine.sweep.sweep_run import SweepSetup

FIXED_BASELINES = ("range", "trend", "hindsight")
RANDOM_SEEDS = 20


@dataclass(frozen=True)
class Column:
    """One row of the side-by-side table: in-sample and out-of-sample P&L statistics."""

    name: str
    in_sample: dict[str, Any]
    out_of_sample: dict[str, Any]


def select_on_all(daily: npt.NDArray[np.float64]) -> int:
    """The configuration with the best daily Sharpe over every selection day (the first of equals)."""
    return int(np.argmax(sharpe(daily)))


def grid_edges(grid: dict[str, list[Any]], params: dict[str, Any]) -> list[str]:
    """The keys on which `params` sits at the smallest or largest value tried (grids of 3+ values)."""
    out = []
    for key, values in grid.items():
        if not all(isinstance(v, int | float) for v in values):
            continue  # entry windows: no order, no edge
        ordered = sorted(values)
        if len(ordered) >= 3 and params[key] in (ordered[0], ordered[-1]):
            out.append(f"{key}={params[key]} ({'lowest' if params[key] == ordered[0] else 'highest'})")
    return out


def _pnl(setup: SweepSetup, config: HostConfig, source: RegimeSource, seed: int) -> dict[str, Any]:
    run = setup.engine.run(config, source)
    exit_ts, net = setup.engine.trips(run)
    span = (float(setup.series.minute[0]) * 60.0, float(setup.series.minute[-1]) * 60.0)
    return pnl_stats(daily_net_usd(setup.engine.closes, exit_ts, net, span), net, seed=seed)


def _random(setup: SweepSetup, c: Candidate, seeds: int) -> dict[str, Any]:
    """The selected configuration under `seeds` random regimes: mean net, its 95% interval, mean Sharpe."""
    runs = [_pnl(setup, c.config, regime_source("random", setup.series, seed=s), s) for s in range(seeds)]
    nets = np.array([r["net_usd"] for r in runs])
    lo, hi = np.quantile(nets, [0.025, 0.975])
    sharpes = [r["daily_sharpe"] for r in runs if r["daily_sharpe"] is not None]
    return {
        "seeds": seeds,
        "net_usd": float(nets.mean()),
        "net_usd_ci95": [float(lo), float(hi)],
        "trips": int(np.mean([r["trips"] for r in runs])),
        "daily_sharpe": float(np.mean(sharpes)) if sharpes else None,
        "days": runs[0]["days"],
    }


def held_out_test(
    selection: SweepSetup,
    test: SweepSetup,
    chosen: Candidate,
    *,
    seeds: int = RANDOM_SEEDS,
) -> dict[str, Any]:
    """The selected configuration and the baselines on the selection data and, once, on the test data."""
    columns = [
        Column(
            f"selected ({selection.regime})",
            _pnl(selection, chosen.config, selection.source(selection.regime, chosen.labels), 0),
            _pnl(test, chosen.config, test.source(test.regime, chosen.labels), 0),
        )
    ]
    for name in FIXED_BASELINES:
        columns.append(
            Column(
                name,
                _pnl(selection, chosen.config, selection.source(name, chosen.labels), 0),
                _pnl(test, chosen.config, test.source(name, chosen.labels), 0),
            )
        )
    random_in, random_out = _random(selection, chosen, seeds), _random(test, chosen, seeds)
    beat = [c.name for c in columns if c.out_of_sample["net_usd"] > random_out["net_usd_ci95"][1]]
    earn = [c.name for c in columns if c.out_of_sample["net_usd"] > 0]
    return {
        "selected": chosen.params,
        "columns": [
            {"name": c.name, "in_sample": c.in_sample, "out_of_sample": c.out_of_sample} for c in columns
        ],
        "random": {"in_sample": random_in, "out_of_sample": random_out},
        "beat_random_95": beat,
        "net_positive": earn,
        "summary": (
            f"Out of sample: {', '.join(beat) if beat else 'no column'} beat random at 95% "
            f"(net above {random_out['net_usd_ci95'][1]:,.2f} USD); "
            + (f"{', '.join(earn)} net more than zero." if earn else "no column nets more than zero.")
        ),
    }
