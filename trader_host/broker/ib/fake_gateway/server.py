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
from collections.abc import Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from regime.contracts import Side
from trader_host.broker.ib.fake_gateway import messages as msg
from trader_host.broker.ib.fake_gateway.script import GatewayScript
from trader_host.broker.ib.fake_gateway.virtual_clock import VirtualClock
from trader_host.broker.ib.fake_gateway.wire import FrameReader, version_range
from trader_host.broker.port import (
    BrokerEvent,
    BrokerUnavailable,
    ConnectionChanged,
    Execution,
    MinuteBar,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderRequest,
    OrderType,
    Tick,
)
from trader_host.broker.sim.faults import NO_FAULTS, FaultPlan
from trader_host.broker.sim.market_tape import MarketTape
from trader_host.broker.sim.sim_broker import SimBroker
from trader_host.config import SimConfig
from trader_host.fees import FeeSchedule
from trader_host.instruments import ContractSpec

log = logging.getLogger(__name__)
SETTLE_TURNS = 12  # loop turns with no traffic before the client counts as caught up
NOTICE_TEXT = {
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
    2103: "Market data farm connection is broken:usfuture",
    2104: "Market data farm connection is OK:usfuture",
    2105: "HMDS data farm connection is broken:ushmds",
    2106: "HMDS data farm connection is OK:ushmds",
}


@dataclass
class _Order:
    view: msg.OrderView
    request: OrderRequest
    filled: int = 0
    cancel_reported: bool = False


@dataclass
class _Client(asyncio.Protocol):
    gateway: FakeGateway
    transport: asyncio.Transport | None = None
    reader: FrameReader = field(default_factory=FrameReader)
    client_id: int | None = None
    ready: bool = False
    market_data: dict[int, int] = field(default_factory=dict)  # reqId -> conId
    bar_requests: set[int] = field(default_factory=set)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.gateway.clients.append(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.ready = False
        if self in self.gateway.clients:
            self.gateway.clients.remove(self)

    def data_received(self, data: bytes) -> None:
        gw = self.gateway
        gw.traffic += 1
        try:
            for fields in self.reader.feed(data):
                if self.client_id is None and not self.ready and fields and fields[0].startswith("v"):
                    version_range(fields)
                    self.send(msg.handshake(gw.sim.now()))
                    continue
                gw.handle(self, fields)
        except (ValueError, IndexError) as exc:
            log.error("fake gateway: bad request from client %s: %s", self.client_id, exc)
            self.close()

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        self.ready = False
        if self.transport is not None:
            self.transport.abort()


class FakeGateway:
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
        self.clients: list[_Client] = []
        self.orders: dict[str, _Order] = {}
        self.placed: list[tuple[str, OrderRequest]] = []  # (month, request) in arrival order
        self.requests: list[int] = []  # message ids received
        self.traffic = 0
        self.tick_to_order_s: list[float] = []  # wall time from a tick written to an order read in reply
        self._tick_written: float | None = None
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
        self._server = await loop.create_server(lambda: _Client(self), "127.0.0.1", port)
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
                    c.send(msg.error(-1, code, NOTICE_TEXT.get(code, f"notice {code}")))
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
                    c.send(msg.error(-1, code, NOTICE_TEXT.get(code, f"notice {code}")))
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

    def _ready(self) -> list[_Client]:
        return [c for c in self.clients if c.ready]

    async def _dispatch(self, event: BrokerEvent) -> None:
        spec = self.spec
        if isinstance(event, Tick):
            if any(a <= event.ts < b for a, b in self.script.silent):
                return
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

    def _to_owner(self, order: _Order, data: bytes) -> None:
        for c in self._ready():
            if c.client_id == order.view.client_id:
                c.send(data)

    def _status(self, order: _Order, status: str) -> bytes:
        v = order.view
        return msg.order_status(
            v.order_id, status, order.filled, order.request.qty - order.filled, "", v.perm_id, "", v.client_id
        )

    def _exec(self, req_id: int, order: _Order, ex: Execution, cum: int) -> bytes:
        price = self.spec.price(ex.price)
        side = "BOT" if ex.side is Side.BUY else "SLD"
        return msg.exec_details(req_id, order.view, ex.execution_id, ex.ts, side, ex.qty, price, cum) + (
            msg.commission_report(ex.execution_id, ex.commission_usd)
        )

    # -- requests --------------------------------------------------------------------------------------------
    def handle(self, c: _Client, f: list[str]) -> None:
        """Answer one request (fields as the client sent them)."""
        mid = int(f[0])
        self.requests.append(mid)
        if mid == 71:
            self._start_api(c, int(f[2]))
        elif not c.ready:
            c.send(msg.error(-1, 504, "Not connected"))
        elif mid == 61:
            self._positions(c)
        elif mid in (5, 15, 16):
            self._open_orders(c, only_own=mid == 5)
        elif mid == 99:
            c.send(msg.completed_orders_end())
        elif mid == 6:
            c.send(
                msg.account_value("NetLiquidation", "100000", "USD", self.script.account)
                + msg.account_download_end(self.script.account)
            )
        elif mid == 62:  # account summary (ib_insync asks again after 1102)
            c.send(msg.account_summary_end(int(f[2])))
        elif mid == 76:
            c.send(msg.account_update_multi_end(int(f[2])))
        elif mid == 7:
            self._executions(c, int(f[2]))
        elif mid == 9:
            self._contract_details(c, int(f[2]), f[4])
        elif mid == 1:
            c.market_data[int(f[2])] = int(f[3] or 0)
        elif mid == 2:
            c.market_data.pop(int(f[2]), None)
        elif mid == 20:
            self._history(c, f)
        elif mid == 25:
            c.bar_requests.discard(int(f[2]))
        elif mid == 3:
            self._place(c, f)
        elif mid == 4:
            self._cancel(c, int(f[2]))
        elif mid == 8:
            c.send(msg.next_valid_id(self._next_id))
        elif mid == 49:
            c.send(msg.current_time(self.sim.now()))
        elif mid == 17:
            c.send(msg.managed_accounts(self.script.account))
        elif mid != 59:  # 59: market data type, nothing to answer
            c.send(msg.error(-1, 10000 + mid, f"fake gateway: request {mid} is not supported"))

    def _start_api(self, c: _Client, client_id: int) -> None:
        in_use = any(o.client_id == client_id and o.ready for o in self.clients)
        if client_id in self.script.busy_client_ids or in_use:
            c.send(
                msg.error(-1, 326, "Unable to connect as the client id is already in use. "
                          "Retry with a unique client id.")
            )  # fmt: skip
            c.close()
            return
        c.client_id, c.ready = client_id, True
        c.send(
            msg.managed_accounts(self.script.account)
            + msg.next_valid_id(self._next_id)
            + msg.error(-1, 2104, NOTICE_TEXT[2104])
            + msg.error(-1, 2106, NOTICE_TEXT[2106])
        )

    def _month(self, con_id: str, local_symbol: str) -> msg.ListedMonth:
        for m in self.script.months:
            if str(m.con_id) == con_id or (local_symbol and m.local_symbol == local_symbol):
                return m
        return self.script.months[0]

    def _positions(self, c: _Client) -> None:
        qty = _now(self.sim.positions()).get(self.spec.symbol, 0)
        if qty:
            month = (
                self.orders[self.placed[-1][1].order_id].view.month if self.placed else self.script.months[0]
            )
            c.send(msg.position(self.script.account, month, qty, Decimal(0)))
        c.send(msg.position_end())

    def _open_orders(self, c: _Client, only_own: bool) -> None:
        for oo in _now(self.sim.open_orders()):
            order = self.orders.get(oo.request.order_id)
            if order is None or (only_own and order.view.client_id != c.client_id):
                continue
            c.send(msg.open_order(order.view, "Submitted") + self._status(order, "Submitted"))
        c.send(msg.open_order_end())

    def _executions(self, c: _Client, req_id: int) -> None:
        cum: dict[str, int] = {}
        for ex in _now(self.sim.executions()):
            order = self.orders.get(ex.order_id)
            if order is None:
                continue
            cum[ex.order_id] = cum.get(ex.order_id, 0) + ex.qty
            c.send(self._exec(req_id, order, ex, cum[ex.order_id]))
        c.send(msg.exec_details_end(req_id))

    def _contract_details(self, c: _Client, req_id: int, symbol: str) -> None:
        for m in self.script.months:
            if m.symbol == symbol:
                c.send(msg.contract_details(req_id, m))
        c.send(msg.contract_details_end(req_id))

    def _history(self, c: _Client, f: list[str]) -> None:
        req_id = int(f[1])
        if self._pacing_left > 0:
            self._pacing_left -= 1
            c.send(
                msg.error(req_id, 162, "Historical Market Data Service error message:API historical data "
                          "query cancelled: pacing violation")
            )  # fmt: skip
            return
        count = _minutes(f[17])
        p = self.spec.price
        bars = [(b.minute, p(b.open), p(b.high), p(b.low), p(b.close), b.volume)
                for b in _now(self.sim.recent_bars(count))]  # fmt: skip
        k = bisect.bisect_right(self._bar_minutes, int(self.sim.now() // 60) - 1)
        k = max(k, bisect.bisect_right(self._bar_minutes, bars[-1][0]) if bars else 0)
        if k < len(self._bar_minutes):  # the bar in progress, as IB ends a keepUpToDate history with it
            price = bars[-1][4] if bars else p(self._bar_opens[k])
            bars.append((self._bar_minutes[k], price, price, price, price, 0))
        c.send(msg.historical_data(req_id, bars))
        if f[21] == "1":
            c.bar_requests.add(req_id)

    def _place(self, c: _Client, f: list[str]) -> None:
        if self._tick_written is not None:
            self.tick_to_order_s.append(time.perf_counter() - self._tick_written)
            self._tick_written = None
        ib_id, client_id = int(f[1]), c.client_id or 0
        self._next_id = max(self._next_id, ib_id + 1)
        month = self._month(f[2], f[12])
        action, qty, kind, lmt, account, ref = f[16], int(float(f[17])), f[18], f[19], f[23], f[26]
        our_id = ref or f"ib{client_id}-{ib_id}"
        if our_id in self.orders:
            c.send(msg.error(ib_id, 103, f"Duplicate order id {ib_id}"))
            return
        if kind not in ("LMT", "MKT") or action not in ("BUY", "SELL"):
            c.send(msg.error(ib_id, 201, f"Order rejected - reason:unsupported order {action} {kind}"))
            return
        limit = Decimal(lmt) if kind == "LMT" and lmt else None
        side = Side.BUY if action == "BUY" else Side.SELL
        ticks = self.spec.to_ticks(limit) if limit is not None else None
        request = OrderRequest(our_id, self.spec.symbol, side, qty, OrderType(kind), ticks)
        self._next_perm += 1
        view = msg.OrderView(ib_id, self._next_perm, client_id, month, action, qty, kind, limit, our_id,
                             account or self.script.account)  # fmt: skip
        self.orders[our_id] = _Order(view, request)
        self.placed.append((month.local_symbol, request))
        try:
            _now(self.sim.place_order(request))
        except BrokerUnavailable as exc:
            c.send(msg.error(ib_id, 201, f"Order rejected - reason:{exc}"))

    def _cancel(self, c: _Client, ib_id: int) -> None:
        order = next((o for o in self.orders.values()
                      if o.view.order_id == ib_id and o.view.client_id == c.client_id), None)  # fmt: skip
        if order is None:
            c.send(msg.error(ib_id, 135, f"Can't find order with id = {ib_id}"))
            return
        if self.script.cancel_race and order.filled < order.request.qty:
            order.cancel_reported = True  # the race IB users meet: "Cancelled" first, the fill after
            c.send(self._status(order, "Cancelled"))
        _now(self.sim.cancel_order(order.request.order_id))


def _now(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run one of the sim's request coroutines, which never wait, inside a synchronous protocol callback."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("a sim request waited; it must answer at once")


def _minutes(duration: str) -> int:
    """IB's history duration ("3600 S", "1 D", "2 W") in minutes."""
    parts = duration.split()
    if len(parts) != 2 or not parts[0].isdigit():
        raise ValueError(f"bad history duration {duration!r}")
    per = {"S": 1 / 60, "D": 1440, "W": 7 * 1440}.get(parts[1])
    if per is None:
        raise ValueError(f"unsupported history duration unit in {duration!r}")
    return max(1, int(int(parts[0]) * per))
