"""Where the current ATR stands among its recent values: the percentile of the volatility filter.

The history holds the last `window` ATR values as they were after each bar (their integer sums: one ATR
window, so comparing sums is comparing ATRs, exactly); a bar without an ATR (the first bars of a run) adds
nothing. The percentile of the latest value is 100 * (values <= it) / window: causal (only bars completed
so far), and None until `window` values are in. A hole in the bars does not clear it: yesterday's
volatility is still the yardstick for today's.
"""

from __future__ import annotations

from collections import deque


def percentile_of_last(count_at_or_below: int, window: int) -> float:
    """The one formula both engines use: 100 * count / window, in this float order."""
    return 100.0 * count_at_or_below / window


class AtrPercentile:
    """Rolling percentile rank of the latest ATR among the last `window` ATRs."""

    __slots__ = ("_history", "_value", "window")

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError(f"ATR percentile window must be >= 1 value, got {window}")
        self.window = window
        self._history: deque[int] = deque(maxlen=window)
        self._value: float | None = None

    def push(self, atr_total: int | None) -> None:
        """After a bar: the ATR's sum of true ranges (None: no ATR yet, nothing added)."""
        if atr_total is None:
            return
        self._history.append(atr_total)
        if len(self._history) < self.window:
            self._value = None
            return
        self._value = percentile_of_last(sum(1 for h in self._history if h <= atr_total), self.window)

    def clear(self) -> None:
        self._history.clear()
        self._value = None

    @property
    def value(self) -> float | None:
        """The latest ATR's percentile (0..100], or None until `window` ATR values are in."""
        return self._value
