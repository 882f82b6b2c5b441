"""VirtualClock: the adapter's clock in the gateway's virtual time, in lockstep with the gateway's pump.

The adapter calls `idle(until)` when it has nothing to do; the gateway advances its simulated market only
then (after the client's requests in flight have been read), and wakes the adapter when `until` is reached.
So a session through the fake gateway makes the same decisions at the same virtual times as one through the
sim broker, however slow the machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class VirtualClock:
    virtual = True

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self.until: float | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.changed = asyncio.Event()

    def now(self) -> float:
        return self._now()

    @property
    def waiting(self) -> bool:
        return self.waiter is not None and not self.waiter.done()

    async def idle(self, until: float | None) -> None:
        self.until = until
        self.waiter = asyncio.get_running_loop().create_future()
        self.changed.set()
        try:
            await self.waiter
        finally:
            self.waiter = None

    def reached(self) -> None:
        """The gateway's clock reached `until`: wake the adapter."""
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
