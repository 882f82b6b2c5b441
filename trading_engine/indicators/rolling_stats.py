"""Mean and unbiased standard deviation of the last N minute closes, exact in integer ticks."""

from __future__ import annotations

import math
from collections import deque


class RollingStats:
    """Closes of the last `window` completed bars; sums are kept as integers so nothing drifts."""

    __slots__ = ("_closes", "_sum", "_sum_sq", "window")

    def __init__(self, window: int) -> None:
        if window < 2:
            raise ValueError(f"window must be >= 2 for an unbiased sd, got {window}")
        self.window = window
        self._closes: deque[int] = deque()
        self._sum = 0
        self._sum_sq = 0

    def __len__(self) -> int:
        return len(self._closes)

    @property
    def ready(self) -> bool:
        """True once the window is full."""
        return len(self._closes) == self.window

    def push(self, close: int) -> None:
        """Append a bar's close (ticks), dropping the oldest once the window is full."""
        if len(self._closes) == self.window:
            old = self._closes.popleft()
            self._sum -= old
            self._sum_sq -= old * old
        self._closes.append(close)
        self._sum += close
        self._sum_sq += close * close

    def clear(self) -> None:
        self._closes.clear()
        self._sum = 0
        self._sum_sq = 0

    @property
    def mean(self) -> float:
        return self._sum / len(self._closes)

    @property
    def sd(self) -> float:
        """Unbiased (n - 1) sample standard deviation."""
        n = len(self._closes)
        return math.sqrt((n * self._sum_sq - self._sum * self._sum) / (n * (n - 1)))

    def zscore(self, price: int) -> float | None:
        """(price - mean) / sd; None until the window is full or while every close is equal."""
        n = len(self._closes)
        if n < self.window:
            return None
        var_n2 = n * self._sum_sq - self._sum * self._sum  # n^2 (n-1)/n * var, exact integer
        if var_n2 <= 0:
            return None
        return (n * price - self._sum) / math.sqrt(var_n2 * n / (n - 1))
