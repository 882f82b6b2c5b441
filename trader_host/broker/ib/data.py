"""Market data: ticks from reqMktData, 1-minute bars from a keepUpToDate history request.

Bars: historical 1-minute bars with keepUpToDate, not 5-second real-time bars aggregated here. One request
gives both the warm-up history and the live stream, and the bars are IB's own minute bars, the same series
the bar archive and the model's training data hold (a bar built from 5-second bars can differ in volume and
at the edges). A minute is known to be complete when the first update of a later minute arrives (IB sends
one every few seconds), so a bar reaches the strategy a few seconds after its minute ends; the z-score
trigger runs on ticks, so that delay costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from trader_host.broker.ib import parsing
from trader_host.broker.ib.config import IbConfig
from trader_host.broker.ib.ib_api import IB, BarDataList, Contract, RequestError, Ticker
from trading_engine.broker.port import BrokerEvent, MinuteBar
from trading_engine.instruments import ContractSpec

log = logging.getLogger(__name__)


class MarketDataFeed:
    """Ticks and completed minute bars of one contract, pushed as port events."""

    def __init__(
        self, ib: IB, config: IbConfig, spec: ContractSpec, now: Callable[[], float],
        push: Callable[[BrokerEvent], None],
    ) -> None:  # fmt: skip
        self.ib, self.config, self.spec, self._now, self._push = ib, config, spec, now, push
        self.contract: Contract | None = None
        self.ticker: Ticker | None = None
        self.bars: BarDataList | None = None
        self.last_tick_at = 0.0
        self.last_bar_minute = -1
        self.on_tick_resumed: Callable[[], None] = lambda: None

    async def subscribe(self, contract: Contract) -> None:
        """Ticks and bars of `contract` (again after a reconnect: IB forgets subscriptions)."""
        self.unsubscribe()
        self.contract = contract
        self.ticker = self.ib.reqMktData(contract, "", False, False)
        self.ticker.updateEvent += self._on_ticker
        self.bars = await self._history(contract)
        if len(self.bars) >= 2:
            self.last_bar_minute = max(
                self.last_bar_minute, parsing.minute_bar(self.bars[-2], self.spec).minute
            )
        self.bars.updateEvent += self._on_bars
        self.last_tick_at = self._now()

    def unsubscribe(self) -> None:
        if self.ticker is not None:
            self.ticker.updateEvent -= self._on_ticker
            if self.ib.isConnected() and self.contract is not None:
                self.ib.cancelMktData(self.contract)
            self.ticker = None
        if self.bars is not None:
            self.bars.updateEvent -= self._on_bars
            if self.ib.isConnected():
                self.ib.cancelHistoricalData(self.bars)
            self.bars = None

    def forget(self) -> None:
        """The connection is gone and its subscriptions with it: drop them without cancelling."""
        if self.ticker is not None:
            self.ticker.updateEvent -= self._on_ticker
            self.ticker = None
        if self.bars is not None:
            self.bars.updateEvent -= self._on_bars
            self.bars = None

    def resubscribe_ticks(self) -> None:
        """A silent stream: ask for the ticks again (the bars' request stays)."""
        if self.contract is None or not self.ib.isConnected():
            return
        if self.ticker is not None:
            self.ticker.updateEvent -= self._on_ticker
            self.ib.cancelMktData(self.contract)
        self.ticker = self.ib.reqMktData(self.contract, "", False, False)
        self.ticker.updateEvent += self._on_ticker
        self.last_tick_at = self._now()

    def recent(self, count: int) -> list[MinuteBar]:
        """The completed bars of the history (the last one is the minute in progress)."""
        if self.bars is None:
            return []
        done = [parsing.minute_bar(b, self.spec) for b in self.bars[:-1]]
        return done[-count:] if count > 0 else []

    async def _history(self, contract: Contract) -> BarDataList:
        """The keepUpToDate bar request; 162 (pacing violation) is retried with a growing wait."""
        cfg = self.config
        wait = cfg.history_backoff_s
        for attempt in range(1, cfg.history_retries + 1):
            try:
                bars: BarDataList = await self.ib.reqHistoricalDataAsync(
                    contract, "", cfg.warmup_duration, "1 min", "TRADES", False, 2, True
                )
                return bars
            except RequestError as exc:
                if exc.code != parsing.PACING_VIOLATION or attempt == cfg.history_retries:
                    raise
                log.warning("bar request paced by IB (162), attempt %d: retrying in %.1fs", attempt, wait)
                await asyncio.sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")

    def _on_ticker(self, ticker: Ticker) -> None:
        tick = parsing.tick_of(ticker, self.spec, self._now())
        if tick is None:
            return
        self.last_tick_at = tick.ts
        self.on_tick_resumed()
        self._push(tick)

    def _on_bars(self, bars: BarDataList, has_new_bar: bool) -> None:
        if not has_new_bar or len(bars) < 2:
            return
        bar = parsing.minute_bar(bars[-2], self.spec)
        if bar.minute > self.last_bar_minute:
            self.last_bar_minute = bar.minute
            self._push(bar)
