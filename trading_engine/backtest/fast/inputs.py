"""What the fast engine's loop reads, computed once per tape with numpy: the z-score at every tick, the
regime at every tick, the session closes and the blackout windows.

Each is the reference's own value, computed the reference's way: the z-score with the integer sums and the
float operations of RollingStats (so equal to the last bit), the closes by SessionHours.next_close itself,
the regime as RegimeSource.regime_at(now) at each tick's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from regime.contracts import Regime
from regime.vote import NOTHING, RANGE, TREND
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import Blackout
from trading_engine.instruments import SessionHours
from trading_engine.regime_source import FixedRegime, RegimeSource, RegimeTimeline

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_EXACT = 2**53  # integers below this convert to float64 exactly, as Python's int/int division needs
_CODES = {Regime.NOTHING: NOTHING, Regime.TREND: TREND, Regime.RANGE: RANGE}


@dataclass(frozen=True)
class TapeArrays:
    """A MarketTape as the loop reads it."""

    time: FloatArray
    bid: IntArray
    ask: IntArray
    last: IntArray
    bar_end: FloatArray
    bar_minute: IntArray
    bar_close: IntArray
    bar_high: IntArray
    bar_low: IntArray

    @classmethod
    def from_tape(cls, tape: MarketTape) -> TapeArrays:
        bar_end = tape.bar_end
        time = np.ascontiguousarray(tape.time, dtype=np.float64)
        return cls(
            time,
            np.ascontiguousarray(tape.bid, dtype=np.int64),
            np.ascontiguousarray(tape.ask, dtype=np.int64),
            np.ascontiguousarray(tape.last, dtype=np.int64),
            np.ascontiguousarray(bar_end),
            tape.bar_minute.astype(np.int64),
            tape.bar_close.astype(np.int64),
            tape.bar_high.astype(np.int64),
            tape.bar_low.astype(np.int64),
        )


def tick_zscores(tape: TapeArrays, lookback: int, reset_gap_minutes: int) -> FloatArray:
    """ZScoreStrategy.zscore(last) at every tick (NaN where it is None): the statistics of each bar here,
    the ticks in one compiled pass (kernel_tape.ticks_zscores).

    The statistics are the closes of the last `lookback` bars of the current run of bars (a hole longer than
    `reset_gap_minutes` starts a new run, as ZScoreStrategy.on_bar does)."""
    from trading_engine.backtest.fast.kernel_aot import compiled

    return compiled("ticks_zscores")(*zscore_arguments(tape, lookback, reset_gap_minutes))  # type: ignore[no-any-return]


def zscore_arguments(tape: TapeArrays, lookback: int, reset_gap_minutes: int) -> tuple[Any, ...]:
    """What the ticks' pass reads: tick times and prices, bar ends, and per bar the integer sum of the
    window's closes and the z-score's denominator (NaN where there is none), computed with the integer
    sums and float operations of RollingStats."""
    minute, close = tape.bar_minute, tape.bar_close
    nb = minute.shape[0]
    if nb > 1 and not bool(np.all(np.diff(minute) > 0)):
        raise ValueError("fast engine: bar minutes must be strictly increasing")
    starts = np.concatenate(([0], np.flatnonzero(np.diff(minute) > reset_gap_minutes) + 1))
    seg_start = np.repeat(starts, np.diff(np.concatenate((starts, [nb]))))
    pos = np.arange(nb) - seg_start
    cs = np.concatenate(([0], np.cumsum(close)))
    cs2 = np.concatenate(([0], np.cumsum(close * close)))
    idx = np.arange(nb)
    lo = np.maximum(idx + 1 - lookback, 0)
    total = (cs[idx + 1] - cs[lo]).astype(np.int64, copy=False)
    total_sq = cs2[idx + 1] - cs2[lo]
    var_n2 = lookback * total_sq - total * total
    full = (pos >= lookback - 1) & (var_n2 > 0)
    scaled = var_n2 * lookback
    if scaled.size and (int(np.abs(scaled).max()) >= _EXACT or int(np.abs(lookback * close).max()) >= _EXACT):
        raise ValueError("fast engine: prices too large for exact float z-scores")
    denom = np.sqrt(scaled.astype(np.float64) / float(lookback - 1))
    denom[~full] = np.nan  # no z-score before `lookback` bars of the run, nor on a flat window
    return tape.time, tape.last, tape.bar_end, total, denom, int(lookback)


def bar_atr(tape: TapeArrays, window: int, reset_gap_minutes: int | None) -> FloatArray:
    """AverageTrueRange.value after each bar (NaN where None), vectorised; runs of bars split at holes
    longer than `reset_gap_minutes` as ZScoreStrategy.on_bar does (None: one run, as SimBroker keeps it)."""
    total, full = bar_atr_totals(tape, window, reset_gap_minutes)
    return np.where(full, total.astype(np.float64) / float(window), np.nan)


def bar_atr_totals(
    tape: TapeArrays, window: int, reset_gap_minutes: int | None
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """AverageTrueRange.total after each bar (the exact integer sum of true ranges), and where it exists:
    one compiled pass over the bars (kernel_tape.atr_totals)."""
    from trading_engine.backtest.fast.kernel_aot import compiled

    return compiled("atr_totals")(*atr_arguments(tape, window, reset_gap_minutes))  # type: ignore[no-any-return]


def atr_arguments(tape: TapeArrays, window: int, reset_gap_minutes: int | None) -> tuple[Any, ...]:
    """What the ATR's pass reads: the bars' minutes, highs, lows and closes, the window, the reset gap
    (-1: none)."""
    gap = -1 if reset_gap_minutes is None else int(reset_gap_minutes)
    return tape.bar_minute, tape.bar_high, tape.bar_low, tape.bar_close, int(window), gap


def tick_regimes(source: RegimeSource, time: FloatArray) -> npt.NDArray[np.int8]:
    """source.regime_at(t) at every tick time, as vote codes."""
    if isinstance(source, FixedRegime):
        return np.full(time.shape[0], _CODES[source.regime], dtype=np.int8)
    if isinstance(source, RegimeTimeline):  # one compiled pass (kernel_tape.timeline_codes)
        from trading_engine.backtest.fast.kernel_aot import compiled

        return compiled("timeline_codes")(*timeline_arguments(source, time))  # type: ignore[no-any-return]
    minute = np.floor_divide(time, 60.0).astype(np.int64)  # int(now // 60), as regime_at reads it
    unique, inverse = np.unique(minute, return_inverse=True)  # any other source: asked once per minute
    codes = np.array([_CODES[source.regime_at(float(m) * 60.0)] for m in unique.tolist()], dtype=np.int8)
    return codes[inverse]


def timeline_arguments(source: RegimeTimeline, time: FloatArray) -> tuple[Any, ...]:
    """What the timeline's pass reads: tick times, the timeline's first minute and its codes."""
    return time, int(source.first_minute), source.codes


def session_closes(session: SessionHours, first: float, last: float) -> FloatArray:
    """Every session close from before `first` until after `last`, by SessionHours.next_close itself."""
    closes = [session.next_close(first - 8 * 86400.0)]
    while closes[-1] <= last + 8 * 86400.0:
        closes.append(session.next_close(closes[-1]))
    return np.asarray(closes, dtype=np.float64)


def blackout_mask(
    blackouts: tuple[Blackout, ...], time: FloatArray, weekdays: tuple[str, ...]
) -> npt.NDArray[np.bool_]:
    """True at ticks inside a blackout window (RiskGate._blackout), window by window."""
    mask = np.zeros(time.shape[0], dtype=bool)
    if not blackouts or time.shape[0] == 0:
        return mask
    for b in blackouts:
        tz = ZoneInfo(b.tz)
        day = datetime.fromtimestamp(float(time[0]), tz=tz).date() - timedelta(days=1)
        end_day = datetime.fromtimestamp(float(time[-1]), tz=tz).date() + timedelta(days=1)
        while day <= end_day:
            if weekdays[day.weekday()] in b.days:
                start = datetime.combine(day, b.start, tz).timestamp()
                stop = datetime.combine(day, b.end, tz).timestamp()
                lo, hi = np.searchsorted(time, [start, stop], side="left")
                mask[lo:hi] = True
            day += timedelta(days=1)
    return mask
