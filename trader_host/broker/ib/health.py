"""ConnectionHealth: whether trading is possible, from everything IB says about the connection.

Up when the socket is up and synced; IB's link is up (1100 and 2110 down, 1101/1102 up); every data farm
is up, per farm name ("broken:usfuture" then "OK:usfarm" leaves usfuture down); ticks flow (a silence in
market hours, or 354, 420, 10197, is down until the next tick); bars flow (an empty history, a silent
keepUpToDate stream or a 162 on it is down until bars come again). Every notice is counted by name.
"""

from __future__ import annotations

from collections import Counter

from trader_host.broker.ib.notices import Effect, Notice


class ConnectionHealth:
    def __init__(self) -> None:
        self.synced = self.link = self.ticks = self.bars = False
        self.farms_down: set[str] = set()
        self.counts: Counter[str] = Counter()  # notices by name, since the start (the metrics' source)

    @property
    def usable(self) -> bool:
        return self.synced and self.link and not self.farms_down and self.ticks and self.bars

    def connected(self) -> None:
        """A fresh connection, subscribed: everything up until IB says otherwise."""
        self.synced = self.link = self.ticks = self.bars = True
        self.farms_down.clear()

    def down(self) -> str:
        """What is down, for the logs ("" when usable)."""
        parts = [name for name, up in (("socket", self.synced), ("IB link", self.link), ("ticks", self.ticks),
                                       ("bars", self.bars)) if not up]  # fmt: skip
        parts += [f"farm {farm}" for farm in sorted(self.farms_down)]
        return ", ".join(parts)

    def apply(self, notice: Notice) -> None:
        self.counts[notice.name] += 1
        effect = notice.effect
        if effect is Effect.LINK_DOWN:
            self.link = False
        elif effect in (Effect.LINK_UP, Effect.LINK_UP_DATA_LOST):
            self.link = True
        elif effect is Effect.FARM_DOWN:
            self.farms_down.add(notice.farm)
        elif effect is Effect.FARM_UP:
            self.farms_down.discard(notice.farm)
        elif effect is Effect.TICKS_DOWN:
            self.ticks = False
        elif effect is Effect.BARS_DOWN:
            self.bars = False
