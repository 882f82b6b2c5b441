"""Features: ten standard indicators for each of the last five 1-minute bars (50 inputs), numpy only.

Every indicator is a plain moving window (simple-average RSI and ATR, not exponential), so a feature row
depends only on the last `min_bars` bars: the single-window path (Lambda, live) and the batch path
(training, backtests) give the same numbers (to about 1e-12: each sums in its own order), and bars after t
can never move the row for t. Price
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
    return _last_rows(series.high[-n:], series.low[-n:], series.close[-n:], series.volume[-n:], spec)


# The single-window path, as linear algebra. Every window sum the last `lags` rows need is linear in a few
# per-bar inputs, so one product of a precomputed weight matrix with the stacked inputs gives them all; the
# indicators are then a handful of array operations on a (lags, 21) table. The closes are centred on the last
# close first: the indicators do not depend on the price level, and small numbers keep the sums exact to
# about 1e-13 of a price (the batch path's own rounding), where raw prices of 4,000 would not.
_CLOSE, _TRUE_RANGE, _ABS_CHANGE, _VOLUME, _CLOSE_SQ, _BAR_RANGE = range(6)  # rows of the stacked inputs
_N_INPUTS = 6
# Columns of the table: 0-9 the numerators of the ten indicators (4 is replaced by the floored ATR), 10-19
# their denominators (18 holds the z-score window's variance until its square root), 20 the term the variance
# needs. Each is (stacked input, window weights); the kinds of weights are defined in _weights.
_COLUMNS = (
    (_CLOSE, "change"),  # ret
    (_CLOSE, "dev_sma"),  # dev_sma
    (_CLOSE, "dev_lma"),  # dev_lma
    (_CLOSE, "rsi_net"),  # rsi: gains - losses = the net change over the window
    (_TRUE_RANGE, "atr"),  # atr_ratio (placeholder for the floored ATR)
    (_CLOSE, "slope"),  # slope
    (_BAR_RANGE, "last"),  # range
    (_CLOSE, "eff_net"),  # efficiency
    (_CLOSE, "dev_z"),  # zscore
    (_VOLUME, "last"),  # volume (the input is volume + 1)
    (_TRUE_RANGE, "atr"),
    (_TRUE_RANGE, "atr"),
    (_TRUE_RANGE, "atr"),
    (_ABS_CHANGE, "rsi_path"),  # gains + losses
    (_TRUE_RANGE, "atr_long"),
    (_TRUE_RANGE, "atr"),
    (_TRUE_RANGE, "atr"),
    (_ABS_CHANGE, "eff_path"),
    (_CLOSE_SQ, "z_sq"),  # sum of squares / (w - 1)
    (_VOLUME, "vol_mean"),
    (_CLOSE, "z_sum"),  # sum / sqrt(w (w - 1)): its square is the other term of the variance
)
_VAR, _VAR_TERM = 18, 20


@dataclass(frozen=True)
class _Plan:
    """The precomputed parts of the single-window path for one FeatureSpec."""

    weights: FloatArray  # (kinds * lags, min_bars): row k * lags + lag = weights of kind k at that lag
    pick: npt.NDArray[np.intp]  # (lags, 21): flat positions in weights @ stacked.T
    floor: FloatArray  # (10,): the floors of the denominators (the variance's is squared)


def _weights(spec: FeatureSpec, end: int) -> dict[str, FloatArray]:
    """Each kind of window weights for the window(s) ending at bar `end` of a `min_bars` run."""
    n = spec.min_bars

    def unit(i: int) -> FloatArray:
        out = np.zeros(n)
        out[i] = 1.0
        return out

    def box(w: int) -> FloatArray:  # the w bars ending at `end`
        out = np.zeros(n)
        out[end - w + 1 : end + 1] = 1.0
        return out

    t = np.arange(spec.slope, dtype=np.float64) - (spec.slope - 1) / 2.0
    slope = np.zeros(n)
    slope[end - spec.slope + 1 : end + 1] = t / float(t @ t)
    z = spec.zscore
    return {
        "change": unit(end) - unit(end - 1),
        "dev_sma": unit(end) - box(spec.sma) / spec.sma,
        "dev_lma": unit(end) - box(spec.lma) / spec.lma,
        "rsi_net": unit(end) - unit(end - spec.rsi),
        "slope": slope,
        "last": unit(end),
        "eff_net": unit(end) - unit(end - spec.efficiency),
        "dev_z": unit(end) - box(z) / z,
        "atr": box(spec.atr) / spec.atr,
        "atr_long": box(spec.atr_long) / spec.atr_long,
        "rsi_path": box(spec.rsi),
        "eff_path": box(spec.efficiency),
        "z_sq": box(z) / (z - 1),
        "z_sum": box(z) / np.sqrt(z * (z - 1.0)),
        "vol_mean": box(spec.volume) / spec.volume,
    }


@lru_cache(maxsize=8)
def _plan(spec: FeatureSpec) -> _Plan:
    lags, n = spec.lags, spec.min_bars
    by_lag = [_weights(spec, n - 1 - lag) for lag in range(lags)]  # lag 0 (the last bar) first
    kinds = list(by_lag[0])
    weights = np.array([by_lag[lag][kind] for kind in kinds for lag in range(lags)])
    at = {kind: k for k, kind in enumerate(kinds)}
    pick = np.array(
        [[(at[kind] * lags + lag) * _N_INPUTS + row for row, kind in _COLUMNS] for lag in range(lags)]
    )
    tick, tiny = spec.tick_size, np.finfo(np.float64).tiny  # tiny: a zero path gives 0 / tiny = 0
    floor = np.array([tick, tick, tick, tiny, tick, tick, tick, tiny, (tick / 2) ** 2, 0.0])
    return _Plan(weights, pick, floor)


def _last_rows(h: FloatArray, lo: FloatArray, c: FloatArray, v: FloatArray, spec: FeatureSpec) -> FloatArray:
    """`indicators` of a `min_bars` run at its last `lags` bars only, laid out as one feature row (1, 50):
    the batch path's numbers to about 1e-12, in some twenty numpy calls (the decision's hot path)."""
    plan = _plan(spec)
    x = np.zeros((_N_INPUTS, c.shape[0]))  # element 0 of the true range and of |change| stays 0: unused
    np.subtract(c, c[-1], out=x[_CLOSE])
    # True range = max(high, previous close) - min(low, previous close): the same subtraction as the batch
    # path's max(high - low, |high - prev|, |low - prev|), since low <= high.
    np.maximum(h[1:], c[:-1], out=x[_TRUE_RANGE, 1:])
    x[_TRUE_RANGE, 1:] -= np.minimum(lo[1:], c[:-1])
    np.subtract(c[1:], c[:-1], out=x[_ABS_CHANGE, 1:])
    np.abs(x[_ABS_CHANGE, 1:], out=x[_ABS_CHANGE, 1:])
    np.add(v, 1.0, out=x[_VOLUME])  # the volume feature is log((v + 1) / (mean v + 1))
    np.multiply(x[_CLOSE], x[_CLOSE], out=x[_CLOSE_SQ])
    np.subtract(h, lo, out=x[_BAR_RANGE])
    q = np.take(plan.weights @ x.T, plan.pick)  # (lags, 21)
    q[:, _VAR] -= q[:, _VAR_TERM] ** 2  # (sum of squares - sum^2 / w) / (w - 1)
    den = q[:, 10:20]
    np.maximum(den, plan.floor, out=den)
    np.sqrt(q[:, _VAR], out=q[:, _VAR])  # sqrt(max(var, (tick / 2)^2)) = max(sd, tick / 2)
    q[:, 4] = den[:, 0]  # log(ATR / long ATR), both floored
    out = q[:, :10] / den
    np.log(out[:, 4::5], out=out[:, 4::5])  # atr_ratio and volume
    np.minimum(out, spec.clip, out=out)
    np.maximum(out, -spec.clip, out=out)
    return out.reshape(1, -1)
