"""Labels from the next 5 minutes against the previous 5, on hand-made paths."""

from __future__ import annotations

import numpy as np

from regime.bar_series import BarSeries
from regime.features import FeatureSpec
from regime.labels import LabelSpec, make_labels

FS = FeatureSpec()
LS = LabelSpec(horizon=5, range_z=2.0, trend_k=1.5)


def path(close: np.ndarray, wick: float = 0.03) -> BarSeries:
    n = close.shape[0]
    return BarSeries.from_arrays("CL", np.arange(n), close, close + wick, close - wick, close, np.ones(n))


def test_a_quiet_oscillation_is_range_not_trend() -> None:
    close = 70.0 + 0.02 * np.sin(np.arange(60))
    lab = make_labels(path(close), LS, FS)
    t = 40
    assert lab.valid[t] and lab.range[t] and not lab.trend[t]


def test_a_steady_run_after_calm_is_trend_not_range() -> None:
    close = np.concatenate((70.0 + 0.02 * np.sin(np.arange(40)), 70.0 + 0.05 * np.arange(1, 21)))
    lab = make_labels(path(close, wick=0.01), LS, FS)
    t = 39  # the next 5 bars climb 5 cents a minute against an ATR of a few cents
    assert lab.trend[t] and not lab.range[t]


def test_no_label_without_a_full_future_window_or_atr() -> None:
    close = 70.0 + 0.01 * np.arange(30)
    lab = make_labels(path(close), LS, FS)
    assert not lab.valid[-5:].any()
    assert not lab.valid[: FS.atr].any()  # ATR needs atr bars after the first
    assert lab.valid[FS.atr : -5].all()


def test_no_label_across_a_segment_boundary() -> None:
    close = 70.0 + 0.01 * np.sin(np.arange(60))
    minutes = np.concatenate((np.arange(30), np.arange(100, 130)))
    s = BarSeries.from_arrays("CL", minutes, close, close + 0.02, close - 0.02, close, np.ones(60))
    lab = make_labels(s, LS, FS)
    assert not lab.valid[25:30].any() and lab.valid[24]


def test_thresholds_move_the_base_rates(small_market_bars: BarSeries) -> None:
    wide = make_labels(small_market_bars, LabelSpec(range_z=2.5), FS)
    narrow = make_labels(small_market_bars, LabelSpec(range_z=1.5), FS)
    assert narrow.range[narrow.valid].mean() < wide.range[wide.valid].mean()
