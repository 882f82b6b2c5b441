"""Dataset: feature rows and labels at the decision times of one or more bar series, in time order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries, IntArray
from regime.contracts.cadence import DECISION_EVERY_MINUTES
from regime.features import FeatureSpec, feature_matrix
from regime.labels import LabelSpec, make_labels
from regime.vote import NOTHING, RANGE, TREND, regime_codes

Float32Array = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
CodeArray = npt.NDArray[np.int8]


@dataclass(frozen=True)
class Dataset:
    """Samples in time order. `truth` (true regime of the next window) exists only for synthetic markets."""

    x: Float32Array
    trend: BoolArray
    range: BoolArray
    minute: IntArray
    truth: CodeArray | None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def take(self, idx: npt.NDArray[np.int64] | slice) -> Dataset:
        truth = None if self.truth is None else self.truth[idx]
        return Dataset(self.x[idx], self.trend[idx], self.range[idx], self.minute[idx], truth)

    @property
    def label_regime(self) -> CodeArray:
        """The labels as one regime code, by the vote's rule (`regime_codes`): a window labelled both trend
        and range is a tie and is coded RANGE; scoring treats both answers as right."""
        return regime_codes(self.trend, self.range)


def future_truth(truth: npt.NDArray[np.int8], horizon: int) -> npt.NDArray[np.int8]:
    """True regime of the window after each bar: the most frequent code among bars t+1..t+horizon."""
    n = truth.shape[0]
    counts = np.zeros((n, 3), dtype=np.int64)
    for k in range(1, horizon + 1):
        shifted = np.full(n, -1)
        shifted[: n - k] = truth[k:]
        for code in (NOTHING, TREND, RANGE):
            counts[:, code] += shifted == code
    return counts.argmax(axis=1).astype(np.int8)


def build_dataset(
    series: BarSeries | Sequence[BarSeries],
    feature_spec: FeatureSpec,
    label_spec: LabelSpec,
    *,
    stride: int = DECISION_EVERY_MINUTES,
    truth: Sequence[npt.NDArray[np.int8] | None] | npt.NDArray[np.int8] | None = None,
) -> Dataset:
    """Samples at the decision times (window ends on a `stride`-minute boundary) that have both a full
    feature window and a full label window. Filled (no-trade) bars are never decision points."""
    many = [series] if isinstance(series, BarSeries) else list(series)
    truths: list[npt.NDArray[np.int8] | None]
    if truth is None:
        truths = [None] * len(many)
    elif isinstance(truth, np.ndarray):
        truths = [truth]
    else:
        truths = list(truth)
    if len(truths) != len(many):
        raise ValueError("truth: need one truth array (or None) per series")
    parts = []
    for s, t in zip(many, truths, strict=True):
        f = feature_matrix(s, feature_spec)
        lab = make_labels(s, label_spec, feature_spec)
        keep = lab.valid & ~np.isnan(f).any(axis=1) & ((s.minute + 1) % stride == 0) & ~s.filled
        idx = np.flatnonzero(keep)
        tt = None if t is None else future_truth(t, label_spec.horizon)[idx]
        parts.append(Dataset(f[idx].astype(np.float32), lab.trend[idx], lab.range[idx], s.minute[idx], tt))
    order = np.argsort(np.concatenate([p.minute for p in parts]), kind="stable")
    has_truth = all(p.truth is not None for p in parts)
    merged = Dataset(
        np.concatenate([p.x for p in parts]),
        np.concatenate([p.trend for p in parts]),
        np.concatenate([p.range for p in parts]),
        np.concatenate([p.minute for p in parts]),
        np.concatenate([p.truth for p in parts if p.truth is not None]) if has_truth else None,
    )
    return merged.take(order)
