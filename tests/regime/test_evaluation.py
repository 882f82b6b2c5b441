"""Walk-forward evaluation: time order, gaps, baselines, bootstrap, and the truth on synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from regime.dataset import Dataset, future_truth
from regime.evaluation import block_bootstrap_ci, score, walk_forward_blocks
from regime.training import TrainedEnsemble
from regime.vote import NOTHING, RANGE, TREND


def test_blocks_are_in_time_order_with_a_gap() -> None:
    minutes = np.arange(0, 5000, 5, dtype=np.int64)
    blocks = walk_forward_blocks(minutes, folds=4, gap_minutes=70)
    assert len(blocks) == 4
    previous_stop = 0
    for train_stop, start, stop in blocks:
        assert minutes[train_stop - 1] < minutes[start] - 70 + 5  # last training sample before the gap
        assert minutes[start] - minutes[train_stop - 1] >= 70
        assert start == previous_stop or previous_stop == 0
        previous_stop = stop
    assert blocks[-1][2] == len(minutes)


def test_bootstrap_interval_brackets_the_mean() -> None:
    rng = np.random.default_rng(1)
    correct = rng.random(3000) < 0.6
    lo, hi = block_bootstrap_ci(correct)
    assert lo < correct.mean() < hi and hi - lo < 0.08


def _dataset(trend: list[bool], rng_: list[bool], truth: list[int] | None = None) -> Dataset:
    n = len(trend)
    truth_codes = None if truth is None else np.array(truth, np.int8)
    return Dataset(
        np.zeros((n, 50), np.float32), np.array(trend), np.array(rng_), np.arange(n) * 5, truth_codes
    )


def test_scores_against_labels_baseline_and_truth() -> None:
    # Four windows: trend-only, range-only, neither, both.
    ds = _dataset([True, False, False, True], [False, True, False, True], [TREND, RANGE, NOTHING, RANGE])
    hi, lo = 0.9, 0.1
    probs = np.array([
        [hi, hi, hi, lo, lo, lo],  # -> trend (right)
        [lo, lo, lo, hi, hi, hi],  # -> range (right)
        [hi, hi, lo, lo, lo, lo],  # -> trend (wrong: neither)
        [lo, lo, lo, hi, hi, lo],  # -> range (right: both labels)
    ])  # fmt: skip
    rep = score(ds, probs)
    assert rep["vote"]["accuracy"] == pytest.approx(0.75)
    assert rep["vote"]["baseline"] == pytest.approx(0.5)  # always 'trend' or always 'range': 2 of 4
    assert rep["models"]["trend_mlp"]["accuracy"] == pytest.approx(0.5)  # wrong on windows 3 and 4
    assert rep["hemispheres"]["range"]["accuracy"] == pytest.approx(1.0)
    assert rep["truth"]["accuracy"] == pytest.approx(0.75)
    assert sum(map(sum, rep["vote"]["confusion"]["counts"])) == 4


def test_future_truth_is_the_majority_of_the_next_window() -> None:
    truth = np.array([0, 1, 1, 2, 2, 2, 0, 0], np.int8)
    assert future_truth(truth, 3)[0] == TREND and future_truth(truth, 3)[2] == RANGE


def test_the_small_ensemble_beats_its_baselines(small_ensemble: TrainedEnsemble) -> None:
    ev = small_ensemble.evaluation
    assert ev["hemispheres"]["range"]["accuracy"] > ev["hemispheres"]["range"]["baseline"]
    assert ev["truth"]["accuracy"] > ev["truth"]["baseline"] + 0.05
    assert len(ev["folds"]) == 2 and all(f["train_samples"] > 0 for f in ev["folds"])
