"""TrailingStop: STOP_OFFSET ticks behind the best price seen since the entry fill."""

from __future__ import annotations

from regime.contracts import Side


class TrailingStop:
    """Protects a position: triggers once the last trade is `offset` ticks worse than the best since entry."""

    __slots__ = ("best", "offset", "side")

    def __init__(self, side: Side, entry_price: int, offset: int) -> None:
        if offset < 1:
            raise ValueError(f"offset must be >= 1 tick, got {offset}")
        self.side = side
        self.offset = offset
        self.best = entry_price

    @property
    def level(self) -> int:
        """The stop price in ticks."""
        return self.best - self.offset if self.side is Side.BUY else self.best + self.offset

    def update(self, last: int) -> bool:
        """Ratchet with a new trade price; True when the stop is hit."""
        if self.side is Side.BUY:
            if last > self.best:
                self.best = last
            return last <= self.best - self.offset
        if last < self.best:
            self.best = last
        return last >= self.best + self.offset
