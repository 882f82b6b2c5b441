"""Features: ten standard indicators for each of the last five 1-minute bars (50 inputs), numpy only.

Every indicator is a plain moving window (simple-average RSI and ATR, not exponential), so a feature row
depends only on the last `min_bars` bars: the single-window path (Lambda, live) and the batch path
(training, backtests) give the same numbers, and bars after t can never move the row for t. Price
distances are measured in ATR so that the model is indifferent to price level and tick size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from regime.bar_series import BarSeries, FloatArray
from regime.contracts.zscore_window import ZSCORE_WINDOW_BARS

INDICATORS = (
    "ret",  # close-to-close change / ATR
    "dev_sma",  # close - SMA(short) / ATR
    "dev_lma",  # close - SMA(long) / ATR
    "rsi",  # simple-average RSI mapped to [-1, 1]
    "atr_ratio",  # log(ATR short / ATR long): volatility regime
    "slope",  # least-squares slope of closes per minute / ATR
    "range",  # (high - low) / ATR
    "efficiency",  # signed efficiency ratio: net move / path length
    "zscore",  # (close - mean) / unbiased sd: the strategy's trigger (window: regime.contracts.zscore_window)
    "volume",  # log volume against its long mean
)


class InsufficientHistory(ValueError):
    """Fewer contiguous bars than the features need."""


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """Window sizes of the indicators (minutes); stored in the model metadata."""

    sma: int = 10
    lma: int = 60
    rsi: int = 14
    atr: int = 14
    atr_long: int = 60
    slope: int = 10
    efficiency: int = 10
    zscore: int = ZSCORE_WINDOW_BARS  # the model's own, kept in its metadata (see zscore_window)
    volume: int = 60
    lags: int = 5
    clip: float = 10.0
    tick_size: float = 0.01

    @property
    def min_bars(self) -> int:
        """Contiguous bars needed for one row: the longest window, one more for a change, plus the lags."""
        longest = max(
            self.sma,
            self.lma,
            self.rsi,
            self.atr,
            self.atr_long,
            self.slope,
            self.efficiency,
            self.zscore,
            self.volume,
        )
        return longest + 1 + self.lags - 1

    @property
    def names(self) -> list[str]:
        return [f"{ind}_l{lag}" for lag in range(self.lags) for ind in INDICATORS]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "min_bars": self.min_bars}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(**{k: v for k, v in data.items() if k != "min_bars"})


def _rolling_mean(x: FloatArray, w: int) -> FloatArray:
    out = np.full(x.shape[0], np.nan)
    if x.shape[0] >= w:
        out[w - 1 :] = sliding_window_view(x, w).mean(axis=1)
    return out


def _rolling_sum(x: FloatArray, w: int) -> FloatArray:
    out = np.full(x.shape[0], np.nan)
    if x.shape[0] >= w:
        out[w - 1 :] = sliding_window_view(x, w).sum(axis=1)
    return out


def _rolling_slope(x: FloatArray, w: int) -> FloatArray:
    out = np.full(x.shape[0], np.nan)
    if x.shape[0] >= w:
        t = np.arange(w, dtype=np.float64) - (w - 1) / 2.0
        out[w - 1 :] = sliding_window_view(x, w) @ t / float(t @ t)
    return out


def _rolling_sd(x: FloatArray, w: int) -> FloatArray:
    out = np.full(x.shape[0], np.nan)
    if x.shape[0] >= w:
        out[w - 1 :] = sliding_window_view(x, w).std(axis=1, ddof=1)
    return out


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def atr(high: FloatArray, low: FloatArray, close: FloatArray, w: int, floor: float) -> FloatArray:
    """Simple-average true range; element 0 has no previous close and is NaN. Floored at `floor`."""
    prev = np.concatenate(([np.nan], close[:-1]))
    tr = np.maximum(high - low, np.maximum(np.abs(high - prev), np.abs(low - prev)))
    tr[0] = np.nan
    return np.maximum(_rolling_mean(tr, w), floor)


def indicators(series: BarSeries, spec: FeatureSpec) -> FloatArray:
    """The ten indicators for every bar of ONE gap-free run of bars: shape (n, 10), NaN where too early."""
    h, lo, c, v = series.high, series.low, series.close, series.volume
    a = atr(h, lo, c, spec.atr, spec.tick_size)
    a_long = atr(h, lo, c, spec.atr_long, spec.tick_size)
    diff = np.concatenate(([np.nan], np.diff(c)))
    gains = _rolling_sum(np.where(diff > 0, diff, 0.0), spec.rsi)
    losses = _rolling_sum(np.where(diff < 0, -diff, 0.0), spec.rsi)
    rsi = _ratio(gains - losses, gains + losses)
    rsi[np.isnan(gains)] = np.nan
    net = np.full(c.shape[0], np.nan)
    net[spec.efficiency :] = c[spec.efficiency :] - c[: -spec.efficiency]
    path = _rolling_sum(np.abs(diff), spec.efficiency)
    eff = _ratio(net, path)
    eff[np.isnan(net) | np.isnan(path)] = np.nan
    mean_z = _rolling_mean(c, spec.zscore)
    sd_z = np.maximum(_rolling_sd(c, spec.zscore), spec.tick_size / 2)
    vol_mean = _rolling_mean(v, spec.volume)
    cols = (
        diff / a,
        (c - _rolling_mean(c, spec.sma)) / a,
        (c - _rolling_mean(c, spec.lma)) / a,
        rsi,
        np.log(a / a_long),
        _rolling_slope(c, spec.slope) / a,
        (h - lo) / a,
        eff,
        (c - mean_z) / sd_z,
        np.log((v + 1.0) / (vol_mean + 1.0)),
    )
    out: FloatArray = np.clip(np.column_stack(cols), -spec.clip, spec.clip)
    return out


def _lagged(ind: FloatArray, spec: FeatureSpec) -> FloatArray:
    """Row t = indicators of bars t, t-1, ..., t-(lags-1); rows without full history are NaN."""
    n, k = ind.shape
    out = np.full((n, k * spec.lags), np.nan)
    for lag in range(spec.lags):
        out[lag:, lag * k : (lag + 1) * k] = ind[: n - lag]
    out[: spec.min_bars - 1] = np.nan
    return out


def feature_matrix(series: BarSeries, spec: FeatureSpec) -> FloatArray:
    """Features for every bar of a series (batch path); a row is NaN until its segment has min_bars bars."""
    out = np.full((len(series), len(INDICATORS) * spec.lags), np.nan)
    for start, stop in series.segment_bounds():
        if stop - start >= spec.min_bars:
            part = series.take(slice(start, stop))
            out[start:stop] = _lagged(indicators(part, spec), spec)
    return out


def window_features(series: BarSeries, spec: FeatureSpec) -> FloatArray:
    """Features of the window ending at the last bar (single-window path): shape (1, 50).

    Raises InsufficientHistory when the last gap-free run is shorter than `spec.min_bars`.
    """
    if len(series) == 0:
        raise InsufficientHistory(f"no bars: need {spec.min_bars} contiguous 1-minute bars")
    last_segment = series.segment[-1]
    run = int(np.sum(series.segment[-spec.min_bars :] == last_segment))
    if run < spec.min_bars:
        raise InsufficientHistory(
            f"only {run} contiguous 1-minute bars before {series.window_end(len(series) - 1).isoformat()}; "
            f"need {spec.min_bars}"
        )
    n = spec.min_bars
    rows = _last_rows(series.high[-n:], series.low[-n:], series.close[-n:], series.volume[-n:], spec)
    return rows[::-1].reshape(1, -1)  # lag 0 (the last bar) first, as _lagged lays a row out


@lru_cache(maxsize=8)
def _windows(spec: FeatureSpec) -> dict[int, npt.NDArray[np.intp]]:
    """For each window length: the indices of the windows ending at each of the last `lags` bars of a
    `min_bars` run, one row per bar."""
    ends = np.arange(spec.min_bars - spec.lags, spec.min_bars)
    widths = {spec.sma, spec.lma, spec.rsi, spec.atr, spec.atr_long, spec.slope, spec.efficiency}
    widths |= {spec.zscore, spec.volume}
    return {w: ends[:, None] + np.arange(1 - w, 1) for w in widths}


def _last_rows(h: FloatArray, lo: FloatArray, c: FloatArray, v: FloatArray, spec: FeatureSpec) -> FloatArray:
    """`indicators` of a `min_bars` run at its last `lags` bars only, in a few numpy calls (the decision's
    hot path: the full indicators are some sixty calls on 65-element arrays). The windows are gathered
    whole and reduced as the batch path reduces its sliding windows: the same numbers, to the bit."""
    win = _windows(spec)
    lags = spec.lags
    diff = np.empty_like(c)
    diff[0] = np.nan
    np.subtract(c[1:], c[:-1], out=diff[1:])
    prev = np.concatenate(([np.nan], c[:-1]))
    tr = np.maximum(h - lo, np.maximum(np.abs(h - prev), np.abs(lo - prev)))
    gains = np.where(diff > 0, diff, 0.0)
    losses = np.where(diff < 0, -diff, 0.0)
    a = np.maximum(tr[win[spec.atr]].mean(axis=1), spec.tick_size)
    a_long = np.maximum(tr[win[spec.atr_long]].mean(axis=1), spec.tick_size)
    g = gains[win[spec.rsi]].sum(axis=1)
    lo_sum = losses[win[spec.rsi]].sum(axis=1)
    rsi = np.where(g + lo_sum > 0, (g - lo_sum) / np.where(g + lo_sum > 0, g + lo_sum, 1.0), 0.0)
    t = np.arange(spec.slope, dtype=np.float64) - (spec.slope - 1) / 2.0
    net = c[-lags:] - c[-lags - spec.efficiency : -spec.efficiency]
    path = np.abs(diff)[win[spec.efficiency]].sum(axis=1)
    eff = np.where(path > 0, net / np.where(path > 0, path, 1.0), 0.0)
    zwin = c[win[spec.zscore]]
    sd_z = np.maximum(zwin.std(axis=1, ddof=1), spec.tick_size / 2)
    last, last_v = c[-lags:], v[-lags:]
    out = np.empty((lags, len(INDICATORS)))
    out[:, 0] = diff[-lags:] / a
    out[:, 1] = (last - c[win[spec.sma]].mean(axis=1)) / a
    out[:, 2] = (last - c[win[spec.lma]].mean(axis=1)) / a
    out[:, 3] = rsi
    out[:, 4] = np.log(a / a_long)
    # The slope's windows as the batch path views them: a gathered copy would take BLAS's summation order.
    out[:, 5] = sliding_window_view(c[-(spec.slope + lags - 1) :], spec.slope) @ t / float(t @ t) / a
    out[:, 6] = (h[-lags:] - lo[-lags:]) / a
    out[:, 7] = eff
    out[:, 8] = (last - zwin.mean(axis=1)) / sd_z
    out[:, 9] = np.log((last_v + 1.0) / (v[win[spec.volume]].mean(axis=1) + 1.0))
    return np.clip(out, -spec.clip, spec.clip, out=out)
