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
"""

from __future__ import annotations

from dataclasses import dataclass

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
        minute, o, h, lo, c, vol = _bar_ticks(bars, float(spec.tick_size))
        times: list[float] = []
        lasts: list[int] = []
        sizes: list[int] = []
        up: list[bool] = []
        filled = bars.filled
        for k in range(minute.shape[0]):
            if filled[k]:
                continue
            ok, hk, lk, ck = int(o[k]), int(h[k]), int(lo[k]), int(c[k])
            first, second = (lk, hk) if ck >= ok else (hk, lk)
            path = _walk(ok, first) + _walk(first, second)[1:] + _walk(second, ck)[1:]
            m = len(path)
            start = float(minute[k]) * 60.0
            times.extend(start + 60.0 * j / m for j in range(m))
            lasts.extend(path)
            share = max(1, int(vol[k]) // m)
            sizes.extend([share] * m)
            up.append(False)
            up.extend(path[j] > path[j - 1] for j in range(1, m))
        last = np.asarray(lasts, dtype=np.int64)
        is_up = np.asarray(up, dtype=bool)
        bid = np.where(is_up, last - spread_ticks, last)
        ask = np.where(is_up, last, last + spread_ticks)
        return cls(
            bars.symbol,
            np.asarray(times),
            bid,
            ask,
            last,
            np.asarray(sizes, dtype=np.int64),
            minute,
            o,
            h,
            lo,
            c,
            vol,
        )


def _walk(a: int, b: int) -> list[int]:
    step = 1 if b >= a else -1
    return list(range(a, b + step, step))


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
