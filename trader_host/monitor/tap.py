"""MonitorTap: what the trading session hands the monitor, one cheap call per event.

It keeps the last ticks (with the strategy's z-score of each), the last minute bars (with the strategy's
rolling mean and sd after each) and the regime's changes in bounded rings, counts disconnects, and sets an
asyncio.Event so the server wakes. No I/O, no formatting, no await: the tick path pays a few appends.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import NamedTuple

from regime.contracts import Regime
from trading_engine.broker.port import BrokerEvent, ConnectionChanged, MinuteBar, Tick
from trading_engine.regime_source import RegimeSource
from trading_engine.trader import Trader

TICK_HISTORY = 20_000  # a few hours of ticks for a browser that connects late
BAR_HISTORY = 24 * 60  # a day of minute bars
REGIME_HISTORY = 1_000


class TickPoint(NamedTuple):
    seq: int
    wall: float  # time.time() when the session had handled it (the page measures its latency from here)
    tick: Tick
    z: float | None  # the strategy's z-score of `last`, as the trader computed it on this tick


class BarPoint(NamedTuple):
    seq: int
    bar: MinuteBar
    mean: float | None  # ticks: the strategy's rolling mean of closes once this bar is counted
    sd: float | None  # ticks: its unbiased sd (None until the window is full or while flat)


class RegimeChange(NamedTuple):
    seq: int
    ts: float  # broker time at which the tradable regime became `regime`
    regime: Regime


class MonitorTap:
    """Implements the session's EventObserver; read by the server on the same event loop."""

    def __init__(
        self,
        trader: Trader,
        regime: RegimeSource,
        *,
        ticks: int = TICK_HISTORY,
        bars: int = BAR_HISTORY,
        regimes: int = REGIME_HISTORY,
    ) -> None:
        self.trader = trader
        self.regime = regime
        self.ticks: deque[TickPoint] = deque(maxlen=ticks)
        self.bars: deque[BarPoint] = deque(maxlen=bars)
        self.regimes: deque[RegimeChange] = deque(maxlen=regimes)
        self.tick_seq = 0
        self.bar_seq = 0
        self.regime_seq = 0
        self.events = 0
        self.disconnects = 0
        self.last_event_ts: float | None = None
        self.changed = asyncio.Event()  # set on every event; the server clears it when it has looked

    def observe(self, event: BrokerEvent | None, now: float) -> None:
        """The session handled `event` at broker time `now` (after the trader and the sends)."""
        self.events += 1
        self.last_event_ts = now
        trader = self.trader
        if isinstance(event, Tick):
            self.tick_seq += 1
            self.ticks.append(TickPoint(self.tick_seq, time.time(), event, trader.last_z))
        elif isinstance(event, MinuteBar):
            stats = trader.strategy.stats
            # The strategy's own rule: bands exist exactly when it has a z-score (full window, sd > 0).
            z_ready = stats.zscore(event.close) is not None
            self.bar_seq += 1
            mean, sd = (stats.mean, stats.sd) if z_ready else (None, None)
            self.bars.append(BarPoint(self.bar_seq, event, mean, sd))
        elif isinstance(event, ConnectionChanged) and not event.connected:
            self.disconnects += 1
        regime = self.regime.regime_at(now)
        if not self.regimes or self.regimes[-1].regime is not regime:
            self.regime_seq += 1
            self.regimes.append(RegimeChange(self.regime_seq, now, regime))
        self.changed.set()
