"""Folds are checked before any work, and selection reads the training days only."""

from __future__ import annotations

import numpy as np
import pytest

from trading_engine.sweep.walk_forward import daily_matrix, make_folds, select


def test_anchored_folds_train_on_everything_before_their_test() -> None:
    folds = make_folds(40, folds=3, split_day=None, min_days=5)
    assert [(f.train_start, f.train_end, f.test_start, f.test_end) for f in folds] == [
        (0, 10, 10, 20),
        (0, 20, 20, 30),
        (0, 30, 30, 40),
    ]
    (one,) = make_folds(40, folds=None, split_day=30, min_days=5)
    assert (one.train_end, one.test_start, one.test_end) == (30, 30, 40)


def test_a_fold_with_too_little_data_is_named() -> None:
    with pytest.raises(ValueError, match=r"fold 0: 2 training and 2 test day\(s\)"):
        make_folds(8, folds=3, split_day=None, min_days=5)
    with pytest.raises(ValueError, match="fold 0: 38 training and 2 test"):
        make_folds(40, folds=None, split_day=38, min_days=5)
    with pytest.raises(ValueError, match=r"the split is after the data's last day \(40 day"):
        make_folds(40, folds=None, split_day=46, min_days=5)  # said "-6 test day(s)"
    with pytest.raises(ValueError, match="either"):
        make_folds(40, folds=2, split_day=10, min_days=5)


def test_selection_never_looks_at_the_test_days() -> None:
    daily = np.zeros((20, 2))
    daily[:10, 0] = [1.0, 1.2] * 5  # config 0: best on the training days
    daily[10:, 1] = [5.0, 6.0] * 5  # config 1: far better on the test days only
    (fold,) = make_folds(20, folds=None, split_day=10, min_days=5)
    assert select(daily, fold) == 0


def test_round_trips_count_on_the_day_they_closed() -> None:
    m = daily_matrix(
        [np.array([0, 0, 2, 9]), np.array([1])], [np.array([1.0, 2.0, -1.0, 5.0]), np.array([4.0])], 3
    )
    assert m.tolist() == [[3.0, 0.0], [0.0, 4.0], [-1.0, 0.0]]  # day 9 is outside the data: not counted
