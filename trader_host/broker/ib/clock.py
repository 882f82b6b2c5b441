"""The adapter's clock: the wall clock against a real gateway, the fake gateway's virtual clock in tests."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class BrokerClock(Protocol):
    virtual: bool  # time stands still while the client works (a simulated gateway): no wall-clock pacing

    def now(self) -> float:
        """Epoch seconds on the broker's clock."""
        ...

    async def idle(self, until: float | None) -> None:
        """Wait, with nothing to do, until the clock reaches `until` (forever if None)."""
        ...


class WallClock:
    """Real time: a live gateway's clock is the wall clock."""

    virtual = False

    def now(self) -> float:
        return time.time()

    async def idle(self, until: float | None) -> None:
        if until is None:
            await asyncio.Event().wait()
            return
        await asyncio.sleep(max(0.0, until - time.time()))
