"""FakeGateway: a loopback TCP server speaking the TWS API, its market and matching a SimBroker's.

Requests are answered as they arrive (in `data_received`, at the simulated market's current time); the
market moves only in the pump, in lockstep with the adapter through the VirtualClock. A restart of the
gateway is the sim's disconnect window: every client is dropped and the port refuses connections until it
ends, while the book keeps working (fills then are only found again by a request for executions).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time

from devkit.fake_gateway import messages as msg
from devkit.fake_gateway.requests import ClientConnection, GatewayOrder, RequestDesk
from devkit.fake_gateway.script import GatewayScript
from devkit.fake_gateway.virtual_clock import VirtualClock
from trading_engine.broker.port import (
    BrokerEvent,
    ConnectionChanged,
    Execution,
    MinuteBar,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderRequest,
    Tick,
)
from trading_engine.broker.sim.faults import NO_FAULTS, FaultPlan
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.broker.sim.sim_broker import SimBroker
from trading_engine.config import SimConfig
from trading_engine.fees import FeeSchedule
from trading_engine.instruments import ContractSpec

log = logging.getLogger(__name__)
SETTLE_TURNS = 12  # loop turns with no traffic before the client counts as caught up


class FakeGateway(RequestDesk):
    """Serve one simulated market and account over the TWS API on 127.0.0.1."""

    def __init__(
        self,
        tape: MarketTape,
        spec: ContractSpec,
        fees: FeeSchedule,
        sim_config: SimConfig | None = None,
        faults: FaultPlan = NO_FAULTS,
        script: GatewayScript | None = None,
        pace: float | None = None,
    ) -> None:
        if pace is not None and pace <= 0:
            raise ValueError(f"pace must be positive (1.0 = real time), got {pace}")
        self.pace = pace  # None: lockstep with a VirtualClock client; else the market follows the wall clock
        self.sim = SimBroker(tape, fees, sim_config, faults)
        self.spec = spec
        self.script = script or GatewayScript()
        self.clock = VirtualClock(self.sim.now)
        self.clients: list[ClientConnection] = []
        self.orders: dict[str, GatewayOrder] = {}
        self.placed: list[tuple[str, OrderRequest]] = []  # (month, request) in arrival order
        self.requests: list[int] = []  # message ids received
        self.traffic = 0
        self.tick_to_order_s: list[float] = []  # wall time from a tick written to an order read in reply
        self._tick_written: float | None = None
        self._five: list[
            int
        ] = []  # the 5-second bar in progress: start, open, high, low, close, volume, count
        self.down = False
        self.port = 0
        self._bar_minutes = tape.bar_minute.tolist()
        self._bar_opens = tape.bar_open.tolist()
        self._next_id = 1
        self._next_perm = 900_000
        self._pacing_left = self.script.pacing_violations
        self._notices = sorted(self.script.notices)
        self._server: asyncio.Server | None = None
        self._pump: asyncio.Task[None] | None = None
        self._closed = False

    # -- lifecycle -------------------------------------------------------------------------------------------
    async def start(self, port: int = 0) -> int:
        await self.sim.connect()
        await self._listen(port)
        pump = self._run_pump() if self.pace is None else self._run_paced(self.pace)
        self._pump = asyncio.create_task(pump, name="fake-gateway-pump")
        return self.port

    async def close(self) -> None:
        self._closed = True
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        await self._unlisten()

    async def _listen(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: ClientConnection(self), "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _unlisten(self) -> None:
        for client in list(self.clients):
            client.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    # -- the market, in lockstep with the client -------------------------------------------------------------
    async def _run_pump(self) -> None:
        sim, clock = self.sim, self.clock
        while not self._closed:
            await self._settle()
            until = clock.until if clock.waiting else None
            notice_at = self._notices[0][0] if self._notices else None
            limits = [t for t in (until, notice_at) if t is not None]
            event = await sim.next_event(min(limits) if limits else None)
            self._tick_written = None
            if event is not None:
                await self._dispatch(event)
                continue
            if notice_at is not None and sim.now() >= notice_at:
                _, code = self._notices.pop(0)
                for c in self._ready():
                    if code == 1101:  # restored, but the market data subscriptions are gone
                        c.market_data.clear()
                        c.bar_requests.clear()
                    c.send(msg.error(-1, code, msg.NOTICE_TEXT.get(code, f"notice {code}")))
            elif until is not None and sim.now() >= until:
                clock.reached()
            else:
                await asyncio.sleep(0.001)  # nothing left to happen: wait for a request

    async def _run_paced(self, pace: float) -> None:
        """For clients on the wall clock (another process): the market runs `pace` times real time."""
        loop, sim = asyncio.get_running_loop(), self.sim
        wall0, virt0 = loop.time(), sim.now()
        while not self._closed:
            target = virt0 + (loop.time() - wall0) * pace
            if self._notices and self._notices[0][0] <= target:
                target = self._notices[0][0]
            event = await sim.next_event(target)
            if event is not None:
                await self._dispatch(event)
            elif self._notices and sim.now() >= self._notices[0][0]:
                _, code = self._notices.pop(0)
                for c in self._ready():
                    c.send(msg.error(-1, code, msg.NOTICE_TEXT.get(code, f"notice {code}")))
            else:
                await asyncio.sleep(0.005)

    async def _settle(self) -> None:
        """Wait until the client has read what was sent, answered it, and waits for time to pass."""
        while True:
            seen = self.traffic
            for _ in range(SETTLE_TURNS):
                await asyncio.sleep(0)
            if self.traffic != seen:
                continue
            if self.down or (self._ready() and self.clock.waiting):
                return
            await asyncio.sleep(0.0005)

    def _ready(self) -> list[ClientConnection]:
        return [c for c in self.clients if c.ready]

    async def _dispatch(self, event: BrokerEvent) -> None:
        spec = self.spec
        if isinstance(event, Tick):
            if any(a <= event.ts < b for a, b in self.script.silent):
                return
            self._five_second_bar(event)
            bid, ask, last = spec.price(event.bid), spec.price(event.ask), spec.price(event.last)
            for c in self._ready():
                for req in c.market_data:
                    c.send(
                        msg.tick_price(req, msg.BID, bid, 1)
                        + msg.tick_price(req, msg.ASK, ask, 1)
                        + msg.tick_price(req, msg.LAST, last, event.size)
                    )
                    self._tick_written = time.perf_counter()
        elif isinstance(event, MinuteBar):
            final = msg.historical_data_update
            p = spec.price
            close = p(event.close)
            k = bisect.bisect_right(self._bar_minutes, event.minute)
            nxt = self._bar_minutes[k] if k < len(self._bar_minutes) else event.minute + 1
            for c in self._ready():
                for req in c.bar_requests:
                    c.send(
                        final(req, event.minute, p(event.open), p(event.high), p(event.low), p(event.close),
                              event.volume)
                        + final(req, nxt, close, close, close, close, 0)
                    )  # fmt: skip
        elif isinstance(event, OrderAccepted):
            order = self.orders.get(event.order_id)
            if order is not None:
                self._to_owner(
                    order, msg.open_order(order.view, "Submitted") + self._status(order, "Submitted")
                )
        elif isinstance(event, Execution):
            order = self.orders.get(event.order_id)
            if order is not None:
                order.filled += event.qty
                state = "Filled" if order.filled >= order.request.qty else "Submitted"
                self._to_owner(order, self._exec(-1, order, event, order.filled) + self._status(order, state))
        elif isinstance(event, OrderCancelled):
            order = self.orders.get(event.order_id)
            if order is not None and not order.cancel_reported:
                self._to_owner(order, self._status(order, "Cancelled"))
        elif isinstance(event, OrderRejected):
            order = self.orders.get(event.order_id)
            if order is not None:
                self._to_owner(
                    order, msg.error(order.view.order_id, 201, f"Order rejected - reason:{event.reason}")
                )
        elif isinstance(event, ConnectionChanged):
            self.down = not event.connected
            if self.down:
                log.info("fake gateway: going down (restart) at %.3f", event.ts)
                await self._unlisten()
            else:
                log.info("fake gateway: back up at %.3f", event.ts)
                await self._listen(self.port)

    def _five_second_bar(self, tick: Tick) -> None:
        """Real-time bars: a 5-second bar goes out with the first trade after it (as IB, a moment late)."""
        start = int(tick.ts // 5) * 5
        bar = self._five
        if bar and bar[0] != start:
            p = self.spec.price
            data = [(req, c) for c in self._ready() for req in c.realtime_bars]
            for req, c in data:
                c.send(
                    msg.realtime_bar(req, bar[0], p(bar[1]), p(bar[2]), p(bar[3]), p(bar[4]), bar[5], bar[6])
                )
            bar.clear()
        if not bar:
            bar.extend([start, tick.last, tick.last, tick.last, tick.last, 0, 0])
        bar[2], bar[3], bar[4] = max(bar[2], tick.last), min(bar[3], tick.last), tick.last
        bar[5] += tick.size
        bar[6] += 1

    def _to_owner(self, order: GatewayOrder, data: bytes) -> None:
        for c in self._ready():
            if c.client_id == order.view.client_id:
                c.send(data)
