"""BarSeries: 1-minute bars as columns, with the gap policy that every consumer shares.

Gap policy (real feeds have holes): a gap of up to `max_fill_minutes` missing minutes is a quiet market, so it
is filled with flat bars (open=high=low=close=previous close, volume 0). A longer gap (the daily break, a
weekend, a halt) or a change of contract (a roll: the jump is not a market move) starts a new *segment*.
Features and labels never look across a segment boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from regime.contracts.bar import Bar, BarError, BarSource

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def minute_of(ts: datetime) -> int:
    """Epoch minute of a UTC minute start."""
    return int(ts.timestamp()) // 60


def datetime_of(minute: int) -> datetime:
    return datetime.fromtimestamp(int(minute) * 60, tz=UTC)


@dataclass(frozen=True)
class BarSeries:
    """Columns of one symbol's bars in time order. `segment[i]` numbers the gap-free run bar i belongs to."""

    symbol: str
    minute: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    segment: IntArray
    filled: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.minute.shape[0])

    @classmethod
    def from_arrays(
        cls,
        symbol: str,
        minute: npt.ArrayLike,
        open_: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
        *,
        max_fill_minutes: int = 5,
        contract: Sequence[str] | npt.NDArray[np.str_] | None = None,
    ) -> BarSeries:
        """Validate raw columns, fill short gaps and cut segments at long gaps and contract changes."""
        m = np.asarray(minute, dtype=np.int64)
        cols = [np.asarray(a, dtype=np.float64) for a in (open_, high, low, close, volume)]
        o, h, lo, c, v = cols
        n = m.shape[0]
        if any(a.shape != (n,) for a in cols):
            raise BarError("columns: all columns must be 1-D and of equal length")
        _validate(m, o, h, lo, c, v)
        return _regularize(symbol, m, o, h, lo, c, v, max_fill_minutes, contract)

    @classmethod
    def from_bars(cls, bars: Sequence[Bar], *, max_fill_minutes: int = 5) -> BarSeries:
        """Bars of one symbol, in any order; a duplicated minute keeps its last occurrence."""
        if not bars:
            raise BarError("bars: no bars given")
        symbols = {b.symbol for b in bars}
        if len(symbols) != 1:
            raise BarError(f"symbol: expected bars of one symbol, got {sorted(symbols)}")
        by_minute = {minute_of(b.ts): b for b in bars}
        ordered = [by_minute[k] for k in sorted(by_minute)]
        return cls.from_arrays(
            ordered[0].symbol,
            [minute_of(b.ts) for b in ordered],
            [b.open for b in ordered],
            [b.high for b in ordered],
            [b.low for b in ordered],
            [b.close for b in ordered],
            [b.volume for b in ordered],
            max_fill_minutes=max_fill_minutes,
        )

    def window_end(self, i: int) -> datetime:
        """End of bar i's minute: the moment a decision using bars up to i can be made."""
        return datetime_of(int(self.minute[i]) + 1)

    def take(self, index: slice | npt.NDArray[np.int64]) -> BarSeries:
        """The bars at `index` (a slice or positions), keeping their segment numbers."""
        idx = index
        return BarSeries(
            self.symbol,
            self.minute[idx],
            self.open[idx],
            self.high[idx],
            self.low[idx],
            self.close[idx],
            self.volume[idx],
            self.segment[idx],
            self.filled[idx],
        )

    def to_bars(self, source: BarSource = BarSource.SIM) -> list[Bar]:
        """Bar records (filled bars included: they are what a quiet minute looks like)."""
        return [
            Bar(
                symbol=self.symbol,
                ts=datetime_of(int(self.minute[i])),
                open=float(self.open[i]),
                high=float(self.high[i]),
                low=float(self.low[i]),
                close=float(self.close[i]),
                volume=int(self.volume[i]),
                source=source,
            )
            for i in range(len(self))
        ]

    def segment_bounds(self) -> list[tuple[int, int]]:
        """[start, stop) index ranges of the gap-free segments."""
        if len(self) == 0:
            return []
        cuts = np.flatnonzero(np.diff(self.segment)) + 1
        starts = np.concatenate(([0], cuts))
        stops = np.concatenate((cuts, [len(self)]))
        return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def _validate(
    m: IntArray, o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray, v: FloatArray
) -> None:
    def fail(mask: npt.NDArray[np.bool_], what: str) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise BarError(
                f"bar {i} at {datetime_of(int(m[i])).isoformat()}: {what} ({int(mask.sum())} bad bars)"
            )

    for name, col in (("open", o), ("high", h), ("low", lo), ("close", c)):
        fail(~np.isfinite(col) | (col <= 0), f"{name} must be a positive finite number")
    fail(~np.isfinite(v) | (v < 0), "volume must be finite and >= 0")
    fail((lo > np.minimum(o, c)) | (h < np.maximum(o, c)), "need low <= open,close <= high")
    if m.shape[0] > 1:
        fail(np.concatenate(([False], np.diff(m) <= 0)), "timestamps must be strictly increasing")


def _regularize(
    symbol: str,
    m: IntArray,
    o: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    v: FloatArray,
    max_fill: int,
    contract: Sequence[str] | npt.NDArray[np.str_] | None,
) -> BarSeries:
    n = m.shape[0]
    if n == 0:
        empty_f = np.empty(0)
        return BarSeries(symbol, m, empty_f, empty_f, empty_f, empty_f, empty_f, m.copy(), np.empty(0, bool))
    step = np.diff(m)
    new_segment = np.concatenate(([False], step > max_fill + 1))
    if contract is not None:
        k = np.asarray(contract)
        if k.shape != (n,):
            raise BarError("contract: must have one entry per bar")
        new_segment |= np.concatenate(([False], k[1:] != k[:-1]))
    segment_of_bar = np.cumsum(new_segment).astype(np.int64)
    # Short gaps: insert flat bars at the previous close.
    fill_count = np.where(new_segment[1:], 0, step - 1)
    if not fill_count.any():
        return BarSeries(symbol, m, o, h, lo, c, v, segment_of_bar, np.zeros(n, dtype=bool))
    repeats = np.concatenate((1 + fill_count, [1]))  # bar i followed by its fill bars
    src = np.repeat(np.arange(n), repeats)
    offset = np.arange(src.shape[0]) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    filled = offset > 0
    prev_close = c[src]
    return BarSeries(
        symbol,
        m[src] + offset,
        np.where(filled, prev_close, o[src]),
        np.where(filled, prev_close, h[src]),
        np.where(filled, prev_close, lo[src]),
        prev_close,
        np.where(filled, 0.0, v[src]),
        segment_of_bar[src],
        filled,
    )
