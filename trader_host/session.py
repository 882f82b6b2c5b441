"""TradingSession: the async loop that joins a broker port, the pure Trader, a regime source and the sinks.

One loop, no threads: wait for the next broker event (or the next deadline: an order timeout, a kill-switch
poll), hand it to the trader, send the commands it returns, pass its records to the sink. On the end of
the data, on `stop` or on the kill switch, the session flattens and waits (bounded) until no order lives.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from regime.contracts import Bar, BarSource, Fill, RoundTrip
from trader_host.broker.port import BrokerEvent, BrokerPort, BrokerUnavailable, FeedEnded, MinuteBar
from trader_host.execution.commands import CancelOrder, Command, PlaceOrder, QueryOrder
from trader_host.instruments import utc
from trader_host.regime_source import RegimeSource
from trader_host.trader import Trader

log = logging.getLogger(__name__)


class KillSwitch(Protocol):
    poll_interval_s: float

    def engaged(self, now: float) -> bool:
        """True once the operator has pulled the switch (the reader decides when to ask the cloud)."""
        ...


class RecordSink(Protocol):
    def put(self, records: list[Fill | RoundTrip]) -> None: ...

    def flush(self) -> None: ...


class BarSink(Protocol):
    def publish(self, bar: Bar) -> None: ...

    def flush(self) -> None: ...


class TradingSession:
    """Runs one Trader against one broker until the data ends, `stop` is set or the kill switch halts it."""

    def __init__(
        self,
        broker: BrokerPort,
        trader: Trader,
        regime: RegimeSource,
        *,
        kill_switch: KillSwitch | None = None,
        records: RecordSink | None = None,
        bars: BarSink | None = None,
        bar_source: BarSource = BarSource.SIM,
    ) -> None:
        self.broker = broker
        self.trader = trader
        self.regime = regime
        self.kill_switch = kill_switch
        self.records = records
        self.bars = bars
        self.bar_source = bar_source
        self.events = 0
        self._next_kill_poll = 0.0

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Trade until the end of the data (sim), `stop`, or a kill; then flatten and close."""
        broker, trader = self.broker, self.trader
        await broker.connect()
        try:
            while not (stop is not None and stop.is_set()):
                event = await broker.next_event(self._until())
                if event is None and self._until() is None:
                    break
                await self._handle(event)
                if isinstance(event, FeedEnded) or trader.risk.kill_reason is not None:
                    break
            await self._shutdown()
        finally:
            await broker.close()
            self._flush()

    def _until(self) -> float | None:
        deadline = self.trader.next_deadline()
        if self.kill_switch is not None:
            poll = self._next_kill_poll
            deadline = poll if deadline is None else min(deadline, poll)
        return deadline

    async def _handle(self, event: BrokerEvent | None) -> None:
        trader, now = self.trader, self.broker.now()
        self.events += 1
        commands: list[Command] = []
        if self.kill_switch is not None and now >= self._next_kill_poll:
            self._next_kill_poll = now + self.kill_switch.poll_interval_s
            if trader.risk.kill_reason is None and self.kill_switch.engaged(now):
                commands += trader.kill(now, "kill switch")
        if isinstance(event, MinuteBar) and self.bars is not None:
            self.bars.publish(self._bar_record(event))
        commands += trader.on_event(event, now, self.regime.regime_at(now))
        await self._send(commands)
        if self.records is not None:
            records = trader.take_records()
            if records:
                self.records.put(records)

    async def _send(self, commands: list[Command]) -> None:
        broker, trader = self.broker, self.trader
        while commands:
            command = commands.pop(0)
            try:
                if isinstance(command, PlaceOrder):
                    await broker.place_order(command.request)
                elif isinstance(command, CancelOrder):
                    await broker.cancel_order(command.order_id)
                elif isinstance(command, QueryOrder):
                    await broker.request_status(command.order_id)
            except BrokerUnavailable as exc:
                # A lost place is a rejected order; a lost cancel or query is retried by the status timer.
                log.warning("%s not sent: %s", type(command).__name__, exc)
                if isinstance(command, PlaceOrder):
                    commands += trader.send_failed(command.request.order_id, broker.now(), str(exc))

    async def _shutdown(self) -> None:
        """Flatten and wait for every order to reach a final state, at most shutdown_timeout_s."""
        broker, trader = self.broker, self.trader
        now = broker.now()
        end = now + trader.config.risk.shutdown_timeout_s
        await self._send(trader.shutdown(now))
        while not trader.is_idle and broker.now() < end:
            deadline = trader.next_deadline()
            until = end if deadline is None else min(deadline, end)
            await self._handle(await broker.next_event(until))
        if trader.is_idle:
            log.info("session closed flat at %.3f", broker.now())
        else:
            log.error(
                "session closed with position %d and %d live order(s) after %.0fs",
                trader.position,
                len(trader.executor.active),
                trader.config.risk.shutdown_timeout_s,
            )

    def _bar_record(self, bar: MinuteBar) -> Bar:
        spec = self.trader.spec
        return Bar(
            symbol=spec.symbol,
            ts=utc(bar.minute * 60.0),
            open=float(spec.price(bar.open)),
            high=float(spec.price(bar.high)),
            low=float(spec.price(bar.low)),
            close=float(spec.price(bar.close)),
            volume=bar.volume,
            source=self.bar_source,
        )

    def _flush(self) -> None:
        for sink in (self.records, self.bars):
            if sink is not None:
                try:
                    sink.flush()
                except Exception:  # a sink spools what it cannot send; never lose the session's exit
                    log.exception("flushing %s failed", type(sink).__name__)
