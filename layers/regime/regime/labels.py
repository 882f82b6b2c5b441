"""Training labels, from the next 5 minutes against the previous 5 (two independent binary problems).

At a decision time t (the end of bar t), with `mean` the mean close of bars t-4..t and `atr` the ATR at t:
- range: every high and low of bars t+1..t+5 stays inside mean +- range_z * atr;
- trend: the least-squares slope of the closes of bars t+1..t+5, times the window length, is at least
  trend_k * atr in absolute value (the next window travels more than trend_k ATRs along a line).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from regime.bar_series import BarSeries
from regime.features import FeatureSpec, atr

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class LabelSpec:
    """Label thresholds; stored in the model metadata."""

    horizon: int = 5
    range_z: float = 2.0
    trend_k: float = 1.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelSpec:
        return cls(**data)


@dataclass(frozen=True)
class Labels:
    """Per bar: whether a label exists (`valid`), and the two binary targets."""

    valid: BoolArray
    trend: BoolArray
    range: BoolArray


def _segment_labels(
    series: BarSeries, spec: LabelSpec, feature_spec: FeatureSpec
) -> tuple[BoolArray, BoolArray, BoolArray]:
    n, hz = len(series), spec.horizon
    valid = np.zeros(n, dtype=bool)
    trend = np.zeros(n, dtype=bool)
    rng = np.zeros(n, dtype=bool)
    if n < 2 * hz + 1:
        return valid, trend, rng
    a = atr(series.high, series.low, series.close, feature_spec.atr, feature_spec.tick_size)
    past_mean = np.full(n, np.nan)
    past_mean[hz - 1 :] = sliding_window_view(series.close, hz).mean(axis=1)
    # Windows of the *next* hz bars, aligned so that row t holds bars t+1..t+hz.
    t_idx = np.arange(hz - 1, n - hz)
    fut_hi = sliding_window_view(series.high, hz).max(axis=1)[t_idx + 1]
    fut_lo = sliding_window_view(series.low, hz).min(axis=1)[t_idx + 1]
    x = np.arange(hz, dtype=np.float64) - (hz - 1) / 2.0
    fut_slope = (sliding_window_view(series.close, hz) @ x / float(x @ x))[t_idx + 1]
    band = spec.range_z * a[t_idx]
    ok = np.isfinite(a[t_idx]) & np.isfinite(past_mean[t_idx])
    valid[t_idx] = ok
    rng[t_idx] = ok & (fut_hi <= past_mean[t_idx] + band) & (fut_lo >= past_mean[t_idx] - band)
    trend[t_idx] = ok & (np.abs(fut_slope) * hz >= spec.trend_k * a[t_idx])
    return valid, trend, rng


def make_labels(series: BarSeries, spec: LabelSpec, feature_spec: FeatureSpec) -> Labels:
    """Labels for every bar; none across a segment boundary (the future window must be in the same run)."""
    n = len(series)
    valid, trend, rng = (np.zeros(n, dtype=bool) for _ in range(3))
    for start, stop in series.segment_bounds():
        v, t, r = _segment_labels(series.take(slice(start, stop)), spec, feature_spec)
        valid[start:stop], trend[start:stop], rng[start:stop] = v, t, r
    return Labels(valid=valid, trend=trend, range=rng)
