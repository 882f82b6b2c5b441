"""Walk-forward folds over trading days, and what each fold selects and earns.

The days are the trading days of the data (a day ends at a session close). A fold trains on some days and
is scored on the days after them: with `folds=K` the days are cut into K+1 equal parts and fold i trains on
parts 0..i-1 (anchored) and is tested on part i; with a split time there is one fold, trained before it and
tested after. A configuration is selected by its Sharpe ratio of daily net P&L on the training days only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trading_engine.sweep.overfitting import sharpe


@dataclass(frozen=True)
class Fold:
    """Day index ranges [train_start, train_end) and [test_start, test_end)."""

    index: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int


def make_folds(n_days: int, folds: int | None, split_day: int | None, min_days: int) -> list[Fold]:
    """The folds; a fold with fewer than `min_days` training or test days is an error naming it."""
    if (folds is None) == (split_day is None):
        raise ValueError("walk-forward: give either a number of folds or a split date")
    if folds is not None:
        if folds < 1:
            raise ValueError(f"walk-forward: folds must be >= 1, got {folds}")
        edges = np.linspace(0, n_days, folds + 2).astype(int)
        out = [Fold(i, 0, int(edges[i + 1]), int(edges[i + 1]), int(edges[i + 2])) for i in range(folds)]
    else:
        assert split_day is not None
        if not 0 < split_day < n_days:  # else "-6 test day(s)"
            where = "after the data's last" if split_day >= n_days else "on or before the data's first"
            raise ValueError(f"walk-forward: the split is {where} day ({n_days} day(s) of data)")
        out = [Fold(0, 0, split_day, split_day, n_days)]
    for f in out:
        train, test = f.train_end - f.train_start, f.test_end - f.test_start
        if train < min_days or test < min_days:
            raise ValueError(
                f"walk-forward fold {f.index}: {train} training and {test} test day(s); "
                f"each needs at least {min_days} (fewer folds, a later split or more data)"
            )
    return out


def daily_matrix(
    day_of_exit: list[npt.NDArray[np.int64]], nets: list[npt.NDArray[np.float64]], n_days: int
) -> npt.NDArray[np.float64]:
    """Days x configurations of net USD, each round trip counted on the day it closed."""
    out = np.zeros((n_days, len(nets)))
    for j, (days, net) in enumerate(zip(day_of_exit, nets, strict=True)):
        ok = (days >= 0) & (days < n_days)
        np.add.at(out[:, j], days[ok], net[ok])
    return out


def select(daily: npt.NDArray[np.float64], fold: Fold) -> int:
    """The configuration with the best training Sharpe (the first of equals)."""
    return int(np.argmax(sharpe(daily[fold.train_start : fold.train_end])))
