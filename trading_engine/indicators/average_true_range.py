"""Average true range of the last N minute bars, in ticks, exact: true ranges are kept as integers.

A bar's true range is max(high - low, |high - previous close|, |low - previous close|); the first bar of a
run (after `reset`) has no previous close and counts high - low. The average is None until N bars are in.
"""

from __future__ import annotations

import math
from collections import deque


class AverageTrueRange:
    """Simple average of the last `window` true ranges (ticks)."""

    __slots__ = ("_prev_close", "_ranges", "_sum", "window")

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError(f"ATR window must be >= 1 bar, got {window}")
        self.window = window
        self._ranges: deque[int] = deque()
        self._sum = 0
        self._prev_close: int | None = None

    def push(self, high: int, low: int, close: int) -> None:
        pc = self._prev_close
        tr = high - low if pc is None else max(high - low, abs(high - pc), abs(low - pc))
        if len(self._ranges) == self.window:
            self._sum -= self._ranges.popleft()
        self._ranges.append(tr)
        self._sum += tr
        self._prev_close = close

    def reset(self) -> None:
        self._ranges.clear()
        self._sum = 0
        self._prev_close = None

    @property
    def total(self) -> int | None:
        """The sum of the last `window` true ranges (ticks, exact), or None before `window` bars."""
        return self._sum if len(self._ranges) == self.window else None

    @property
    def value(self) -> float | None:
        """The average true range in ticks, or None before `window` bars."""
        n = len(self._ranges)
        return self._sum / n if n == self.window else None


def atr_ticks(multiple: float, atr: float | None, fallback: int) -> int:
    """`multiple` ATRs in whole ticks (half up, at least 1); `fallback` if not in ATR units or no ATR yet."""
    if multiple <= 0 or atr is None:
        return fallback
    return max(1, math.floor(multiple * atr + 0.5))
