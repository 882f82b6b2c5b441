"""CloudJob: one blocking cloud duty (flush bars, ship the journal, read the regime, read the kill switch).

The session asks `due(now)` on every event and starts a due job in a worker thread; at most one call of a
job is in flight, so a slow endpoint delays that job, never a tick. A job is timed on the wall clock (the
kill switch is pulled in real time, and "ship every 10 s" means real seconds whether the market is replayed
or live) unless `wall=False`: reading the regime follows the market's own 5-minute boundaries.
A job's exception is kept and handed to the session, which treats it as fatal (flatten, halt, exit non-zero):
adapters handle the cloud's own failures themselves, so what escapes is a real fault such as a full disk.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor

log = logging.getLogger(__name__)


def never() -> bool:
    return False


class CloudJob:
    """`action(now)` every `every_s`, early when `ready()`; `schedule(now)` moves the next run."""

    def __init__(
        self,
        name: str,
        action: Callable[[float], object],
        every_s: float,
        *,
        ready: Callable[[], bool] = never,
        schedule: Callable[[float], float] | None = None,
        wall: bool = True,
    ) -> None:
        self.name = name
        self.action = action
        self.every_s = every_s
        self.ready = ready
        self.schedule = schedule
        self.wall = wall
        self.next_at = float("-inf")  # on this job's clock
        self.task: asyncio.Future[object] | None = None
        self.runs = 0
        self.busy_s = 0.0  # wall seconds spent in the action

    def _clock(self, now: float) -> float:
        return time.monotonic() if self.wall else now

    def deadline(self) -> float | None:
        """The broker time this job wants a wake-up at (None: wall-clock jobs ride on the events)."""
        return None if self.wall or self.task is not None else self.next_at

    def due(self, now: float) -> bool:
        return self.task is None and (self._clock(now) >= self.next_at or self.ready())

    def start(self, now: float, executor: Executor) -> asyncio.Future[object]:
        """Run `action(now)` in `executor`; returns its future (also kept in `task`)."""
        loop = asyncio.get_running_loop()
        self.next_at = self._clock(now) + self.every_s
        self.task = loop.run_in_executor(executor, self._timed, now)
        return self.task

    def _timed(self, now: float) -> object:
        start = time.perf_counter()
        try:
            return self.action(now)
        finally:
            self.busy_s += time.perf_counter() - start

    def collect(self, now: float) -> BaseException | None:
        """If the call in flight has finished: clear it, plan the next run, return its exception if any."""
        task = self.task
        if task is None or not task.done():
            return None
        self.task = None
        self.runs += 1
        if self.schedule is not None:
            self.next_at = self.schedule(now)
        if task.cancelled():
            return asyncio.CancelledError(f"{self.name} cancelled")
        return task.exception()
