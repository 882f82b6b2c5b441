"""MarketTape: what the simulated market replays, ticks and the 1-minute bars they make, in whole ticks.

Two sources:
- the synthetic market's own ticks (bid, ask, last on the tick grid) and bars;
- historical 1-minute bars (no quotes). Each bar becomes an intra-bar path: a walk through
  open -> low -> high -> close for a bar that closes at or above its open, open -> high -> low -> close
  otherwise (the usual convention: the extreme against the bar's direction comes first), walking one tick
  at a time and evenly spaced over the minute. Spread model: every print is a trade on one side of a book
  `spread_ticks` wide; an up-step trades at the ask (bid = last - spread), a down-step or a flat print at
  the bid (ask = last + spread). Volume is shared equally among the bar's prints. Filled (empty) minutes
  give no prints. So a resting limit fills only when the path trades through it, as in the live market.
  The walk is one compiled pass over the bars (backtest/fast/kernel_tape.py, built ahead of time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries
from regime.synthetic import SyntheticMarket
from trading_engine.instruments import ContractSpec

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MarketTape:
    """Ticks in time order and bars by epoch minute; `bar_end[k]` is when bar k is complete."""

    symbol: str
    time: FloatArray
    bid: IntArray
    ask: IntArray
    last: IntArray
    size: IntArray
    bar_minute: IntArray
    bar_open: IntArray
    bar_high: IntArray
    bar_low: IntArray
    bar_close: IntArray
    bar_volume: IntArray

    @property
    def n_ticks(self) -> int:
        return int(self.time.shape[0])

    @property
    def n_bars(self) -> int:
        return int(self.bar_minute.shape[0])

    @property
    def bar_end(self) -> FloatArray:
        return (self.bar_minute + 1).astype(np.float64) * 60.0

    def until(self, end: float) -> MarketTape:
        """The tape's first part: ticks before `end` (epoch seconds) and the bars complete by then."""
        ticks = int(np.searchsorted(self.time, end, side="left"))
        bars = int(np.searchsorted(self.bar_end, end, side="right"))
        return MarketTape(
            self.symbol,
            self.time[:ticks],
            self.bid[:ticks],
            self.ask[:ticks],
            self.last[:ticks],
            self.size[:ticks],
            self.bar_minute[:bars],
            self.bar_open[:bars],
            self.bar_high[:bars],
            self.bar_low[:bars],
            self.bar_close[:bars],
            self.bar_volume[:bars],
        )

    @classmethod
    def from_synthetic(cls, market: SyntheticMarket) -> MarketTape:
        """The synthetic market's ticks and bars as they are."""
        t, bars = market.ticks, market.bars
        return cls(
            bars.symbol,
            t.time,
            t.bid_ticks,
            t.ask_ticks,
            t.last_ticks,
            t.size,
            *_bar_ticks(bars, market.spec.tick_size),
        )

    @classmethod
    def from_bars(cls, bars: BarSeries, spec: ContractSpec, spread_ticks: int = 1) -> MarketTape:
        """Historical bars, replayed as the documented intra-bar path and spread model."""
        if spread_ticks < 1:
            raise ValueError(f"spread_ticks must be >= 1, got {spread_ticks}")
        from trading_engine.backtest.fast.kernel_aot import built

        args = walk_arguments(bars, float(spec.tick_size), spread_ticks)
        # The compiled pass when `make venv` built it; numpy's otherwise (a host or a function installed
        # without numba): the same ticks either way.
        walk = built("walk_bars") or walk_with_numpy
        time, bid, ask, last, size = walk(*args)
        return cls(bars.symbol, time, bid, ask, last, size, *args[:6])


def walk_arguments(bars: BarSeries, tick: float, spread_ticks: int) -> tuple[Any, ...]:
    """What the intra-bar walk (kernel_tape.walk_bars, one compiled pass over the bars) reads: each bar's
    minute, open, high, low, close and volume in whole ticks, whether it is a filled (empty) minute, and
    the spread."""
    filled = np.ascontiguousarray(bars.filled, dtype=np.bool_)
    return (*_bar_ticks(bars, tick), filled, int(spread_ticks))


def walk_with_numpy(
    minute: IntArray,
    o: IntArray,
    h: IntArray,
    lo: IntArray,
    c: IntArray,
    vol: IntArray,
    filled: npt.NDArray[np.bool_],
    spread: int,
) -> tuple[FloatArray, IntArray, IntArray, IntArray, IntArray]:
    """kernel_tape.walk_bars vectorised over the whole series, for where it is not compiled: time, bid, ask,
    last and size of every print.

    Each bar is four runs of steps: its open (a jump from the previous bar's close), then |leg| steps of one
    tick in each leg's direction; the prices are the running sum of the steps. A bar of m prints puts print
    j at minute start + 60 * j / m."""
    keep = ~filled
    o, h, lo, c, vol, minute = o[keep], h[keep], lo[keep], c[keep], vol[keep], minute[keep]
    rising = c >= o
    first = np.where(rising, lo, h)
    second = np.where(rising, h, lo)
    runs = np.stack((np.ones_like(o), np.abs(first - o), np.abs(second - first), np.abs(c - second)), axis=1)
    jump = o - np.concatenate(([0], c[:-1]))  # a bar opens from where the previous one closed
    steps = np.stack((jump, np.sign(first - o), np.sign(second - first), np.sign(c - second)), axis=1)
    last = np.repeat(steps.ravel(), runs.ravel())
    np.cumsum(last, out=last)
    is_up = np.repeat((steps > 0) & (np.arange(4) > 0), runs.ravel())
    m = runs.sum(axis=1)  # prints per bar
    place = np.arange(last.shape[0], dtype=np.float64)  # the print's place in its bar, then its time
    place -= np.repeat((np.cumsum(m) - m).astype(np.float64), m)
    place *= 60.0
    place /= np.repeat(m, m)
    place += np.repeat(minute.astype(np.float64) * 60.0, m)
    bid = np.where(is_up, last - spread, last)
    ask = np.where(is_up, last, last + spread)
    return place, bid, ask, last, np.repeat(np.maximum(1, vol // m), m)


def _bar_ticks(
    bars: BarSeries, tick: float
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]:
    def grid(col: FloatArray) -> IntArray:
        return np.rint(col / tick).astype(np.int64)

    return (
        bars.minute.astype(np.int64),
        grid(bars.open),
        grid(bars.high),
        grid(bars.low),
        grid(bars.close),
        np.rint(bars.volume).astype(np.int64),
    )
