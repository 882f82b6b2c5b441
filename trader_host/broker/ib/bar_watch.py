"""BarWatch: the 1-minute bar stream watched as the ticks are.

The bars come from one keepUpToDate history request; IB updates it every few seconds. An empty history
(the request unanswered or HMDS without data), a stream silent for `bar_silent_after_s` in market hours,
or a 162 on the live request leave the host without bars, so without regime inputs and warm-up: the
connection is reported down (no entries) and the history is asked for again with a growing wait, the
completed bars missed meanwhile passed on once it answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from trader_host.broker.ib.config import IbConfig
from trader_host.broker.ib.data import MarketDataFeed
from trader_host.broker.ib.health import ConnectionHealth
from trading_engine.instruments import ContractSpec

log = logging.getLogger(__name__)


class BarWatch:
    def __init__(
        self, feed: MarketDataFeed, config: IbConfig, spec: ContractSpec, health: ConnectionHealth,
        now: Callable[[], float], changed: Callable[[], None],
    ) -> None:  # fmt: skip
        self.feed, self.config, self.spec, self.health = feed, config, spec, health
        self._now, self._changed = now, changed
        self.retry_at: float | None = None
        self.resubscriptions = 0
        self._wait = config.backoff_initial_s
        self._task: asyncio.Task[None] | None = None
        feed.on_bar_resumed = self.resumed

    def deadlines(self) -> list[float]:
        out = [] if self.retry_at is None or self._busy() else [self.retry_at]
        if self.feed.bars is not None and self.health.bars:
            out.append(self.feed.last_bar_at + self.config.bar_silent_after_s)
        return out

    def down(self, why: str) -> None:
        """The bars stopped: report down now, ask again now, then with a growing wait."""
        if self.health.bars or self.retry_at is None:
            log.warning("bars down (%s): no entries until they flow again; asking IB for them again", why)
        self.health.bars = False
        self._changed()
        if self.retry_at is None:
            self.retry_at = self._now()

    def resumed(self) -> None:
        """A bar update arrived (or a history came back with bars)."""
        self.retry_at = None
        self._wait = self.config.backoff_initial_s
        if not self.health.bars:
            log.info("bars flow again")
            self.health.bars = True
            self._changed()

    def due(self, now: float, connected: bool) -> None:
        """Look for a silent stream; start a resubscription that is due."""
        feed = self.feed
        if (
            feed.bars is not None
            and self.health.bars
            and now >= feed.last_bar_at + self.config.bar_silent_after_s
        ):
            if self.spec.session.is_open(now):
                self.down(f"no bar update for {self.config.bar_silent_after_s:.0f}s")
            else:
                feed.last_bar_at = now  # the market is closed: silence is expected, look again later
        if self.retry_at is not None and now >= self.retry_at and connected and not self._busy():
            self._task = asyncio.ensure_future(self._resubscribe())

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _resubscribe(self) -> None:
        self.resubscriptions += 1
        try:
            ok = await self.feed.resubscribe_bars()
        except Exception as exc:  # down stays down (no entries): say why and try again later
            log.warning("bars: asking IB again failed: %s", exc)
            ok = False
        if ok:
            self.resumed()
            return
        self.retry_at = self._now() + self._wait
        log.warning("bars: still none; asking again in %.0fs", self._wait)
        self._wait = min(self._wait * 2, self.config.backoff_max_s)

    def _busy(self) -> bool:
        return self._task is not None and not self._task.done()
