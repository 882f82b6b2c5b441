"""Probability scores a constant guess cannot win: ROC AUC, log loss, and a calibration table.

Pure numpy (the train Lambda uses them too, without scikit-learn's import cost).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

CALIBRATION_BINS = 10
PROB_FLOOR = 1e-6  # log loss of a certain answer that is wrong: large, not infinite


def auc(y: npt.NDArray[np.bool_], p: npt.NDArray[np.float64]) -> float:
    """ROC AUC by ranks (ties averaged); NaN when one class is absent."""
    y = np.asarray(y, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    sorted_p = np.asarray(p)[order]
    # Average rank of each run of ties: the runs start where the sorted value changes.
    starts = np.flatnonzero(np.concatenate(([True], sorted_p[1:] != sorted_p[:-1])))
    ends = np.concatenate((starts[1:], [len(sorted_p)]))
    mean_rank = (starts + ends - 1) / 2 + 1
    ranks = np.empty(len(sorted_p))
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def log_loss(y: npt.NDArray[np.bool_], p: npt.NDArray[np.float64]) -> float:
    """Mean negative log-likelihood of the labels `y` under probabilities `p`; NaN when empty."""
    if len(y) == 0:
        return float("nan")
    q = np.clip(p, PROB_FLOOR, 1 - PROB_FLOOR)
    return float(-np.mean(np.where(y, np.log(q), np.log(1 - q))))


def base_rate_log_loss(y: npt.NDArray[np.bool_]) -> float:
    """The log loss of always answering the base rate: what a useful probability must beat."""
    return log_loss(y, np.full(len(y), float(np.mean(y)))) if len(y) else float("nan")


def calibration(
    y: npt.NDArray[np.bool_], p: npt.NDArray[np.float64], bins: int = CALIBRATION_BINS
) -> list[dict[str, Any]]:
    """Per probability bin [k/bins, (k+1)/bins): samples, mean predicted and observed positive rate."""
    k = np.clip((np.asarray(p) * bins).astype(np.int64), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = k == b
        n = int(inside.sum())
        rows.append(
            {
                "bin": [b / bins, (b + 1) / bins],
                "samples": n,
                "predicted": float(p[inside].mean()) if n else None,
                "observed": float(y[inside].mean()) if n else None,
            }
        )
    return rows
