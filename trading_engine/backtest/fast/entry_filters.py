"""The strategy's entry filters as per-tick masks for the fast loop (True: no entry at that tick).

Each is ZScoreStrategy.entry_allowed's rule computed the reference's way at every tick: the vote confidence
of RegimeSource.confidence_at(now), the exchange-time minute of day of the tick (the same datetime
conversion, once per minute), and the ATR percentile of the last bar complete at the tick (integer ATR sums,
the same count and the same float formula as AtrPercentile).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from trading_engine.backtest.fast.inputs import FloatArray, TapeArrays, bar_atr_totals
from trading_engine.regime_source import FixedRegime, RegimeSource, RegimeTimeline

BoolArray = npt.NDArray[np.bool_]
_ROWS = 1 << 15  # ATR windows compared per slice


def tick_confidences(source: RegimeSource, time: FloatArray) -> FloatArray | None:
    """source.confidence_at(t) at every tick time; None when the source carries no confidence."""
    if isinstance(source, FixedRegime) or (isinstance(source, RegimeTimeline) and source.confidences is None):
        return None
    minute = np.floor_divide(time, 60.0).astype(np.int64)  # int(now // 60), as RegimeTimeline does
    if isinstance(source, RegimeTimeline) and source.confidences is not None:
        k = minute - source.first_minute
        inside = (k >= 0) & (k < source.confidences.shape[0])
        return np.where(inside, source.confidences[np.where(inside, k, 0)], 0.0)
    unique, inverse = np.unique(minute, return_inverse=True)
    values = [source.confidence_at(float(m) * 60.0) for m in unique.tolist()]
    if all(v is None for v in values):
        return None
    return np.array([np.inf if v is None else v for v in values])[inverse]


def local_minutes(time: FloatArray, tz: str) -> npt.NDArray[np.int64]:
    """The exchange-time minute of the day of every tick (datetime.fromtimestamp in `tz`, once a minute)."""
    zone = ZoneInfo(tz)
    unique, inverse = np.unique(np.floor_divide(time, 60.0).astype(np.int64), return_inverse=True)
    local = [datetime.fromtimestamp(float(m) * 60.0, zone) for m in unique.tolist()]
    return np.array([d.hour * 60 + d.minute for d in local], dtype=np.int64)[inverse]


def outside_windows(minutes: npt.NDArray[np.int64], windows: tuple[tuple[int, int], ...]) -> BoolArray:
    """zscore_strategy.in_windows negated, vectorised."""
    inside = np.zeros(minutes.shape[0], dtype=bool)
    for start, end in windows:
        if start < end:
            inside |= (minutes >= start) & (minutes < end)
        else:
            inside |= (minutes >= start) | (minutes < end)
    return ~inside


def bar_atr_percentile(tape: TapeArrays, atr_bars: int, reset_gap: int, window: int) -> FloatArray:
    """AtrPercentile.value after each bar (NaN where None): the ATRs that exist, in order, across holes."""
    total, full = bar_atr_totals(tape, atr_bars, reset_gap)
    history = total[full]
    pct_of_history = np.full(history.shape[0], np.nan)
    if history.shape[0] >= window:
        windows = sliding_window_view(history, window)
        for lo in range(0, windows.shape[0], _ROWS):
            rows = windows[lo : lo + _ROWS]
            count = (rows <= rows[:, -1:]).sum(axis=1)
            # percentile_of_last's formula, in its float order
            pct_of_history[window - 1 + lo : window - 1 + lo + rows.shape[0]] = 100.0 * count / window
    out = np.full(total.shape[0], np.nan)
    out[full] = pct_of_history
    # A bar without an ATR keeps the percentile of the last one that had it (AtrPercentile keeps its value).
    idx = np.where(full, np.arange(total.shape[0]), -1)
    last = np.maximum.accumulate(idx)
    return np.where(last >= 0, out[np.maximum(last, 0)], np.nan)


def outside_atr_band(tape: TapeArrays, pct: FloatArray, low: float, high: float) -> BoolArray:
    """No entry where the last complete bar's ATR percentile is missing or outside [low, high]."""
    k = np.searchsorted(tape.bar_end, tape.time, side="right").astype(np.int64) - 1
    at = np.where(k >= 0, pct[np.maximum(k, 0)], np.nan)
    with np.errstate(invalid="ignore"):
        return ~((low <= at) & (at <= high))
