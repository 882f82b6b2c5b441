"""Where the trader gets the regime: a port with in-memory implementations (the DynamoDB one is in cloud/).

Whatever the source, a missing or expired decision is `nothing`: no new entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from regime.contracts import Regime
from regime.vote import REGIMES


class RegimeSource(Protocol):
    def regime_at(self, now: float) -> Regime:
        """The regime to trade at `now` (epoch seconds)."""
        ...

    def decision_at(self, now: float) -> datetime | None:
        """The window_end of the ML decision behind `regime_at(now)` (its key in the lake), None if none."""
        ...


class FixedRegime:
    """Always the same regime (always-range, always-trend baselines; tests)."""

    def __init__(self, regime: Regime) -> None:
        self.regime = regime

    def regime_at(self, now: float) -> Regime:
        return self.regime

    def decision_at(self, now: float) -> datetime | None:
        return None  # a baseline, not a decision


class RegimeTimeline:
    """Regime codes per epoch minute, `nothing` outside the covered span (backtests)."""

    def __init__(self, first_minute: int, codes: npt.NDArray[np.int8]) -> None:
        self.first_minute = first_minute
        self.codes = np.asarray(codes, dtype=np.int8)  # the fast backtest engine reads them as they are
        self._codes = [REGIMES[int(c)] for c in codes]

    def regime_at(self, now: float) -> Regime:
        k = int(now // 60) - self.first_minute
        if 0 <= k < len(self._codes):
            return self._codes[k]
        return Regime.NOTHING

    def decision_at(self, now: float) -> datetime | None:
        return None  # backtests' regimes come from batched inference, not from stored decisions

    def __len__(self) -> int:
        return len(self._codes)
