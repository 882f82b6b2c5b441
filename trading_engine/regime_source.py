"""Where the trader gets the regime: a port with in-memory implementations (the DynamoDB one is in cloud/).

Whatever the source, a missing or expired decision is `nothing`: no new entry.
"""

from __future__ import annotations

import functools
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

    def confidence_at(self, now: float) -> float | None:
        """The vote confidence of `regime_at(now)` (regime.vote: the sum of the agreeing models'
        probabilities of its hemisphere), None for a regime without one (fixed, labels, chance)."""
        ...


class FixedRegime:
    """Always the same regime (always-range, always-trend baselines; tests)."""

    def __init__(self, regime: Regime) -> None:
        self.regime = regime

    def regime_at(self, now: float) -> Regime:
        return self.regime

    def decision_at(self, now: float) -> datetime | None:
        return None  # a baseline, not a decision

    def confidence_at(self, now: float) -> float | None:
        return None


class RegimeTimeline:
    """Regime codes per epoch minute, `nothing` outside the covered span (backtests), and for a model's
    decisions their vote confidence per minute (0 where nothing was decided)."""

    def __init__(
        self,
        first_minute: int,
        codes: npt.NDArray[np.int8],
        confidences: npt.NDArray[np.float64] | None = None,
    ) -> None:
        self.first_minute = first_minute
        self.codes = np.ascontiguousarray(codes, dtype=np.int8)  # the fast engine reads them as they are
        self.confidences = None if confidences is None else np.asarray(confidences, dtype=np.float64)
        if self.confidences is not None and self.confidences.shape != self.codes.shape:
            raise ValueError(f"{self.confidences.shape[0]} confidences for {self.codes.shape[0]} minutes")

    def regime_at(self, now: float) -> Regime:
        k = int(now // 60) - self.first_minute
        if 0 <= k < self.codes.shape[0]:
            return self._regimes[k]
        return Regime.NOTHING

    @functools.cached_property
    def _regimes(self) -> list[Regime]:
        """Each minute's Regime, listed on the first `regime_at` (the reference engine asks at every tick;
        the fast engine reads `codes` and never needs the list)."""
        return [REGIMES[c] for c in self.codes.tolist()]

    def decision_at(self, now: float) -> datetime | None:
        return None  # backtests' regimes come from batched inference, not from stored decisions

    def confidence_at(self, now: float) -> float | None:
        if self.confidences is None:
            return None
        k = int(now // 60) - self.first_minute
        return float(self.confidences[k]) if 0 <= k < self.codes.shape[0] else 0.0

    def __len__(self) -> int:
        return int(self.codes.shape[0])
