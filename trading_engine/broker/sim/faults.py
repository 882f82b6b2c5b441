"""FaultPlan: what goes wrong in a simulated session, and when. Seeded, so a failing run can be replayed.

Probabilities apply per message or per order; windows are [start, end) epoch seconds on the virtual clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FaultPlan:
    lost_ack_prob: float = 0.0  # an acceptance or cancel confirmation never arrives
    lost_execution_prob: float = 0.0  # a fill report never arrives (the status request recovers it)
    duplicate_execution_prob: float = 0.0  # a fill report arrives twice
    reject_prob: float = 0.0  # the exchange rejects the order
    partial_fill_prob: float = 0.0  # a crossing fills only part of what is left
    disconnects: tuple[tuple[float, float], ...] = ()  # no events, requests refused; the book keeps working
    stale_quotes: tuple[tuple[float, float], ...] = ()  # the feed repeats the last quote (and its time)
    price_gaps: tuple[tuple[float, int], ...] = ()  # from this time on, every price moves by N ticks
    seed: int = 0

    def __post_init__(self) -> None:
        for name in (
            "lost_ack_prob",
            "lost_execution_prob",
            "duplicate_execution_prob",
            "reject_prob",
            "partial_fill_prob",
        ):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name}: must be a probability in [0, 1], got {p}")
        for name in ("disconnects", "stale_quotes"):
            for start, end in getattr(self, name):
                if end <= start:
                    raise ValueError(f"{name}: window ({start}, {end}) must end after it starts")

    def rng(self) -> random.Random:
        return random.Random(self.seed)


NO_FAULTS = FaultPlan()


@dataclass(slots=True)
class WindowCursor:
    """Is time t inside one of a sorted list of windows? Amortised O(1) for increasing t."""

    windows: list[tuple[float, float]] = field(default_factory=list)
    _i: int = 0

    def inside(self, t: float) -> bool:
        w = self.windows
        while self._i < len(w) and w[self._i][1] <= t:
            self._i += 1
        return self._i < len(w) and w[self._i][0] <= t
