"""Walk-forward, out-of-sample evaluation: time-ordered folds, never shuffled, with a gap before each test
block so that no training label window reaches into it.

Scores every model, each hemisphere's majority and the final vote against the labels (and, on synthetic
markets, against the true regime), each beside the best constant guess (the majority-class baseline), with
ROC AUC per model, confusion matrices and a block-bootstrap confidence interval on the vote accuracy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from regime.dataset import Dataset
from regime.models import HEMISPHERES, MODEL_NAMES, Progress, TrainConfig, fit_models, predict_positive
from regime.scores import auc, base_rate_log_loss, calibration, log_loss
from regime.vote import NOTHING, RANGE, REGIMES, TREND, RegimeVote, poll

BOOTSTRAP_BLOCK = 12  # samples: one hour at a 5-minute stride, longer than the label autocorrelation
BOOTSTRAP_REPS = 1000
_REPS_AT_ONCE = 100


def walk_forward_blocks(
    minutes: npt.NDArray[np.int64], folds: int, gap_minutes: int
) -> list[tuple[int, int, int]]:
    """(train_stop, test_start, test_stop) sample indices: fold k trains on everything at least
    `gap_minutes` before test block k (expanding window) and tests on block k of `folds + 1` equal blocks."""
    n = minutes.shape[0]
    edges = np.linspace(0, n, folds + 2).astype(np.int64)
    out = []
    for k in range(1, folds + 1):
        start, stop = int(edges[k]), int(edges[k + 1])
        train_stop = int(np.searchsorted(minutes, minutes[start] - gap_minutes, side="left"))
        out.append((train_stop, start, stop))
    return out


def _best_constant(correct_by_choice: dict[str, npt.NDArray[np.bool_]]) -> tuple[str, float]:
    name = max(correct_by_choice, key=lambda k: float(correct_by_choice[k].mean()))
    return name, float(correct_by_choice[name].mean())


def block_bootstrap_ci(
    correct: npt.NDArray[np.bool_] | npt.NDArray[np.float64],
    seed: int = 0,
    level: float = 0.95,
    block: int = BOOTSTRAP_BLOCK,
) -> tuple[float, float]:
    """Confidence interval of a mean (an accuracy, a P&L per trip), resampling contiguous blocks of `block`
    samples (samples are autocorrelated; block 1 is the ordinary bootstrap)."""
    n = correct.shape[0]
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    block = min(block, n)
    n_blocks = int(np.ceil(n / block))
    starts = rng.integers(0, n - block + 1, size=(BOOTSTRAP_REPS, n_blocks))
    means = np.empty(BOOTSTRAP_REPS)
    for lo in range(0, BOOTSTRAP_REPS, _REPS_AT_ONCE):  # all at once, a year of trips took 60 MB of indices
        part = starts[lo : lo + _REPS_AT_ONCE]
        idx = (part[:, :, None] + np.arange(block)).reshape(part.shape[0], -1)[:, :n]
        means[lo : lo + part.shape[0]] = correct[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def _confusion(
    actual: npt.NDArray[np.int8], predicted: npt.NDArray[np.int8], rows: list[str]
) -> dict[str, Any]:
    cols = [r.value for r in REGIMES]
    matrix = [[int(np.sum((actual == i) & (predicted == j))) for j in range(3)] for i in range(len(rows))]
    return {"rows_actual": rows, "cols_predicted": cols, "counts": matrix}


def score(ds: Dataset, probs: npt.NDArray[np.float64], seed: int = 0) -> dict[str, Any]:
    """All out-of-sample scores of predictions `probs` (n, 6) on `ds`."""
    report: dict[str, Any] = {"samples": len(ds), "models": {}, "hemispheres": {}}
    for j, name in enumerate(MODEL_NAMES):
        y = ds.trend if name.startswith("trend") else ds.range
        report["models"][name] = {
            "accuracy": float(((probs[:, j] > 0.5) == y).mean()),
            "auc": auc(y, probs[:, j]),
            "log_loss": log_loss(y, probs[:, j]),
        }
    for h, hemisphere in enumerate(HEMISPHERES):
        y = ds.trend if hemisphere == "trend" else ds.range
        majority = poll(probs[:, 3 * h : 3 * h + 3]).vote
        mean_prob = probs[:, 3 * h : 3 * h + 3].mean(axis=1)
        report["hemispheres"][hemisphere] = {
            "accuracy": float((majority == y).mean()),
            "accuracy_ci95": block_bootstrap_ci(majority == y, seed),
            "baseline": float(max(y.mean(), 1 - y.mean())),
            "positive_rate": float(y.mean()),
            "auc_mean_prob": auc(y, mean_prob),
            "log_loss": log_loss(y, mean_prob),
            "base_rate_log_loss": base_rate_log_loss(y),
            "calibration": calibration(y, mean_prob),
        }
    vote = RegimeVote.of(probs[:, :3], probs[:, 3:]).code
    both = ds.trend & ds.range
    # A window labelled both trend and range is answered right by either.
    right = {
        "trend": ds.trend,
        "range": ds.range,
        "nothing": ~ds.trend & ~ds.range,
    }
    correct = np.select([vote == TREND, vote == RANGE], [right["trend"], right["range"]], right["nothing"])
    base_name, base_acc = _best_constant(right)
    label_code = np.where(both, 3, ds.label_regime).astype(np.int8)
    report["vote"] = {
        "accuracy": float(correct.mean()),
        "ci95": block_bootstrap_ci(correct, seed),
        "baseline": base_acc,
        "baseline_guess": base_name,
        "share": {r.value: float(np.mean(vote == i)) for i, r in enumerate(REGIMES)},
        "confusion": _confusion(label_code, vote, ["nothing", "trend", "range", "both"]),
    }
    if ds.truth is not None:
        truth = ds.truth
        t_correct = vote == truth
        t_right = {r.value: truth == i for i, r in enumerate(REGIMES)}
        tb_name, tb_acc = _best_constant(t_right)
        report["truth"] = {
            "accuracy": float(t_correct.mean()),
            "ci95": block_bootstrap_ci(t_correct, seed),
            "baseline": tb_acc,
            "baseline_guess": tb_name,
            "confusion": _confusion(truth, vote, [r.value for r in REGIMES]),
            # How good the labels themselves are: the ceiling of what learning them can give.
            "labels_vs_truth": float(np.mean(np.where(both, truth != NOTHING, ds.label_regime == truth))),
        }
    return report


def walk_forward(ds: Dataset, config: TrainConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Fit on each expanding training window, predict the following block; score all blocks together."""
    gap = config.feature_spec.min_bars + config.label_spec.horizon
    blocks = walk_forward_blocks(ds.minute, config.folds, gap)
    probs, test_idx, folds = [], [], []
    for train_stop, start, stop in blocks:
        if train_stop < 50 or stop <= start:
            raise ValueError(f"walk-forward: too few samples ({len(ds)}) for {config.folds} folds; add data")
        train = ds.take(slice(0, train_stop))
        models = fit_models(train.x, train.trend, train.range, config, progress)
        probs.append(predict_positive(models, ds.x[start:stop]))
        test_idx.append(np.arange(start, stop))
        folds.append(
            {
                "train_samples": train_stop,
                "test_samples": stop - start,
                "test_start_minute": int(ds.minute[start]),
                "test_stop_minute": int(ds.minute[stop - 1]),
            }
        )
    oos = ds.take(np.concatenate(test_idx))
    report = score(oos, np.concatenate(probs), config.seed)
    report["folds"] = folds
    report["gap_minutes"] = gap
    return report
