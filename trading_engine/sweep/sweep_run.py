"""One sweep: every configuration of the grid over the whole data (fast engine), then walk-forward
selection on training days only, out-of-sample scores, baselines, PBO and the deflated Sharpe ratio.

Each configuration is backtested once over all the data; a fold then reads the round trips that closed in
its training days (to select) and in its test days (to score). The position and the day's risk state run on
across fold edges as they would live.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries
from regime.features import FeatureSpec
from regime.labels import LabelSpec
from trading_engine.backtest.daily_pnl import day_index
from trading_engine.backtest.fast.fast_engine import FastEngine
from trading_engine.backtest.fast.kernel_aot import simulate_function
from trading_engine.backtest.regime_choices import hindsight_timeline, regime_source
from trading_engine.config import HostConfig
from trading_engine.regime_source import RegimeSource
from trading_engine.sweep.grid import Candidate
from trading_engine.sweep.overfitting import deflated_sharpe, pbo_cscv, sharpe
from trading_engine.sweep.sweep_executor import ResultStore, SweepExecutor, TaskResult
from trading_engine.sweep.walk_forward import Fold, daily_matrix, select

BASELINES = ("range", "trend", "random", "hindsight")
SURVIVES_DSR = 0.95  # the deflated Sharpe ratio a selection must reach (a 95% confidence)
SURVIVES_PBO = 0.5


# A task: a candidate's index (under the sweep's regime), or (index, regime choice) for a baseline.
Task = int | tuple[int, str]


@dataclass
class SweepSetup:
    """What every task needs; built once in the parent (workers inherit it)."""

    engine: FastEngine
    series: BarSeries
    candidates: list[Candidate]
    regime: str
    seed: int
    model_path: Any = None
    threads: int | None = None  # numba threads for the batches (default: every core)
    # Each task on the ahead-of-time compiled loop, one after the other (worker processes, one per core,
    # share the work), instead of numba batches across the cores.
    single_loop: bool = False
    _sources: dict[Any, RegimeSource] | None = None

    def source(self, choice: str, labels: LabelSpec) -> RegimeSource:
        if self._sources is None:
            self._sources = {}
        key = (choice, labels if choice == "hindsight" else None)
        if key not in self._sources:
            if choice == "hindsight":
                tick = float(self.engine.spec.tick_size)
                self._sources[key] = hindsight_timeline(self.series, labels, FeatureSpec(tick_size=tick))
            else:
                self._sources[key] = regime_source(
                    choice, self.series, model_path=self.model_path, seed=self.seed
                )
        return self._sources[key]

    def job(self, task: Task) -> tuple[HostConfig, RegimeSource]:
        """The configuration and regime source a task runs."""
        index, choice = (task, self.regime) if isinstance(task, int) else task
        c = self.candidates[index]
        return c.config, self.source(choice, c.labels)

    def prepare(self, tasks: list[Task]) -> None:
        """What the tasks read, computed here once (regime sources, the engine's input arrays), so that
        worker processes forked after it inherit it instead of each computing it again."""
        for task in tasks:
            self.engine.inputs(*self.job(task))
        if self.single_loop:
            simulate_function()  # the compiled module loaded once here, not in every worker

    def prepare_sources(self, choices: tuple[str, ...]) -> None:
        """The regime sources `choices` for every candidate's labels, with their regime at every tick."""
        for labels in dict.fromkeys(c.labels for c in self.candidates):
            for choice in choices:
                self.engine.regimes(self.source(choice, labels))

    def evaluate(self, tasks: list[Task]) -> list[TaskResult]:
        """The tasks' results, on the compiled single loop one by one (`single_loop`), else in one batch of
        the fast engine across this machine's cores (`threads` of them when set); each exactly what the
        configuration gives run alone."""
        jobs = [self.job(t) for t in tasks]
        if self.single_loop:
            runs = [self.engine.run(config, source) for config, source in jobs]
        else:
            if self.threads:
                from numba import config, set_num_threads

                cores: int = config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # set at import, from the machine
                set_num_threads(min(self.threads, cores))
            runs = self.engine.run_many(jobs)
        return [TaskResult(*self.engine.trips(run)) for run in runs]


def run_all(
    setup: SweepSetup, executor: SweepExecutor, store: ResultStore, progress: Callable[[int], Any]
) -> list[TaskResult]:
    """Every candidate's result: from the store when already done (a resumed sweep), else computed."""
    keys = [c.key for c in setup.candidates]
    done = store.done(keys)
    todo = [c.index for c in setup.candidates if c.key not in done]
    bar: Any = progress(len(todo))
    results: Iterator[tuple[Any, TaskResult]] = executor.map(setup.evaluate, todo)
    computed: dict[int, TaskResult] = {}
    for index, result in results:
        store.put(keys[index], result)
        computed[index] = result
        bar.update(1)
    bar.close()
    return [computed[i] if i in computed else store.get(k) for i, k in enumerate(keys)]


def daily_pnl(
    setup: SweepSetup, results: list[TaskResult], first_day: int, n_days: int
) -> tuple[list[npt.NDArray[np.int64]], npt.NDArray[np.float64]]:
    """Each configuration's trading day of every round trip, and the days x configurations net USD."""
    days = [day_index(setup.engine.closes, r.exit_ts, first_day) for r in results]
    return days, daily_matrix(days, [r.net_usd for r in results], n_days)


def report(
    setup: SweepSetup,
    results: list[TaskResult],
    folds: list[Fold],
    first_day: int,
    n_days: int,
    executor: SweepExecutor | None = None,
) -> dict[str, Any]:
    """Per fold: the selection, its out-of-sample net and the baselines (run by `executor`, else here);
    then PBO, DSR and a verdict."""
    days, daily = daily_pnl(setup, results, first_day, n_days)
    fold_rows = []
    oos: list[npt.NDArray[np.float64]] = []
    selected = [select(daily, fold) for fold in folds]
    baselines = _baselines(setup, results, list(zip(selected, folds, strict=True)), first_day, executor)
    for fold, best, baseline in zip(folds, selected, baselines, strict=True):
        c = setup.candidates[best]
        test = daily[fold.test_start : fold.test_end, best]
        oos.append(test)
        row: dict[str, Any] = {
            "fold": fold.index,
            "train_days": fold.train_end - fold.train_start,
            "test_days": fold.test_end - fold.test_start,
            "selected": c.params,
            "train_sharpe_daily": float(sharpe(daily[fold.train_start : fold.train_end, best])),
            "train_net_usd": float(daily[fold.train_start : fold.train_end, best].sum()),
            "oos_net_usd": float(test.sum()),
            "oos_trips": int(((days[best] >= fold.test_start) & (days[best] < fold.test_end)).sum()),
            "baselines_oos_net_usd": baseline,
        }
        fold_rows.append(row)
    stitched = np.concatenate(oos)
    full_sr = sharpe(daily)
    blocks = min(16, n_days - n_days % 2)
    pbo = pbo_cscv(daily, blocks) if len(results) >= 2 and blocks >= 2 else float("nan")
    dsr = deflated_sharpe(stitched, float(np.var(full_sr, ddof=1)) if len(results) > 1 else 0.0, len(results))
    oos_net = float(stitched.sum())
    best_oos = int(np.argmax(daily[folds[0].test_start :].sum(axis=0)))
    reasons = []
    if oos_net <= 0:
        reasons.append(f"the selections lose {oos_net:,.2f} USD out of sample")
    if not dsr >= SURVIVES_DSR:
        reasons.append(f"deflated Sharpe {dsr:.2f} < {SURVIVES_DSR}")
    if not pbo < SURVIVES_PBO:
        reasons.append(f"probability of backtest overfitting {pbo:.2f} >= {SURVIVES_PBO}")
    verdict = (
        "Nothing survives: " + "; ".join(reasons) + "."
        if reasons
        else "The selection survives: positive out of sample, deflated Sharpe and PBO within bounds."
    )
    return {
        "configurations": len(results),
        "days": n_days,
        "folds": fold_rows,
        "oos_net_usd": oos_net,
        "oos_sharpe_daily": float(sharpe(stitched)),
        "pbo": pbo,
        "pbo_blocks": blocks,
        "deflated_sharpe": dsr,
        "best_configuration_out_of_sample": {
            "params": setup.candidates[best_oos].params,
            "oos_net_usd": float(daily[folds[0].test_start :, best_oos].sum()),
            "note": "chosen by looking at the test days: for reference only, not a selection",
        },
        "survives": not reasons,
        "verdict": verdict,
    }


def _baselines(
    setup: SweepSetup,
    results: list[TaskResult],
    selections: list[tuple[int, Fold]],
    first_day: int,
    executor: SweepExecutor | None,
) -> list[dict[str, float]]:
    """Each fold's selected configuration under each baseline regime, net over the fold's test days. Under
    the sweep's own regime it is the sweep's result (the same configuration and source); every other one
    runs once however many folds selected it, all of them as one map of the executor (else one batch)."""
    tasks: list[Task] = sorted({(i, c) for i, _ in selections for c in BASELINES if c != setup.regime})
    if executor is None:
        done = dict(zip(tasks, setup.evaluate(tasks), strict=True))
    else:
        done = dict(executor.map(setup.evaluate, tasks))
    out = []
    for best, fold in selections:
        nets = {}
        for choice in BASELINES:
            r = results[best] if choice == setup.regime else done[(best, choice)]
            d = day_index(setup.engine.closes, r.exit_ts, first_day)
            inside = (d >= fold.test_start) & (d < fold.test_end)
            nets[choice] = float(r.net_usd[inside].sum())
        out.append(nets)
    return out


def finite(value: float) -> float | None:
    """NaN as None for JSON."""
    return None if math.isnan(value) else value
