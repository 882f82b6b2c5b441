"""What the fake gateway answers to each request, and one client's connection.

Requests are answered as they arrive (in `data_received`, at the simulated market's current time): the sim
broker's requests never wait, so its coroutines are run to their end on the spot.
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

from devkit.fake_gateway import messages as msg
from devkit.fake_gateway.script import GatewayScript
from devkit.fake_gateway.wire import FrameReader, version_range
from regime.contracts import Side
from trading_engine.broker.port import BrokerUnavailable, Execution, OrderRequest, OrderType
from trading_engine.broker.sim.sim_broker import SimBroker
from trading_engine.instruments import ContractSpec

log = logging.getLogger(__name__)


@dataclass
class GatewayOrder:
    view: msg.OrderView
    request: OrderRequest
    filled: int = 0
    cancel_reported: bool = False


@dataclass
class ClientConnection(asyncio.Protocol):
    gateway: RequestDesk
    transport: asyncio.Transport | None = None
    reader: FrameReader = field(default_factory=FrameReader)
    client_id: int | None = None
    ready: bool = False
    market_data: dict[int, int] = field(default_factory=dict)  # reqId -> conId
    realtime_bars: set[int] = field(default_factory=set)
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


class RequestDesk:
    """The request side of the fake gateway (FakeGateway adds the market's side)."""

    sim: SimBroker
    spec: ContractSpec
    script: GatewayScript
    clients: list[ClientConnection]
    orders: dict[str, GatewayOrder]
    placed: list[tuple[str, OrderRequest]]
    requests: list[int]
    traffic: int
    tick_to_order_s: list[float]
    _tick_written: float | None
    _bar_minutes: list[int]
    _bar_opens: list[int]
    _next_id: int
    _next_perm: int
    _pacing_left: int

    def _status(self, order: GatewayOrder, status: str) -> bytes:
        v = order.view
        return msg.order_status(
            v.order_id, status, order.filled, order.request.qty - order.filled, "", v.perm_id, "", v.client_id
        )

    def _exec(self, req_id: int, order: GatewayOrder, ex: Execution, cum: int) -> bytes:
        price = self.spec.price(ex.price)
        side = "BOT" if ex.side is Side.BUY else "SLD"
        return msg.exec_details(req_id, order.view, ex.execution_id, ex.ts, side, ex.qty, price, cum) + (
            msg.commission_report(ex.execution_id, ex.commission_usd)
        )

    # -- requests --------------------------------------------------------------------------------------------
    def handle(self, c: ClientConnection, f: list[str]) -> None:
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
        elif mid == 50:
            c.realtime_bars.add(int(f[2]))
        elif mid == 51:
            c.realtime_bars.discard(int(f[2]))
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

    def _start_api(self, c: ClientConnection, client_id: int) -> None:
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
            + msg.error(-1, 2104, msg.NOTICE_TEXT[2104])
            + msg.error(-1, 2106, msg.NOTICE_TEXT[2106])
        )

    def _month(self, con_id: str, local_symbol: str) -> msg.ListedMonth:
        for m in self.script.months:
            if str(m.con_id) == con_id or (local_symbol and m.local_symbol == local_symbol):
                return m
        return self.script.months[0]

    def _positions(self, c: ClientConnection) -> None:
        qty = _now(self.sim.positions()).get(self.spec.symbol, 0)
        if qty:
            month = (
                self.orders[self.placed[-1][1].order_id].view.month if self.placed else self.script.months[0]
            )
            c.send(msg.position(self.script.account, month, qty, Decimal(0)))
        c.send(msg.position_end())

    def _open_orders(self, c: ClientConnection, only_own: bool) -> None:
        for oo in _now(self.sim.open_orders()):
            order = self.orders.get(oo.request.order_id)
            if order is None or (only_own and order.view.client_id != c.client_id):
                continue
            c.send(msg.open_order(order.view, "Submitted") + self._status(order, "Submitted"))
        c.send(msg.open_order_end())

    def _executions(self, c: ClientConnection, req_id: int) -> None:
        cum: dict[str, int] = {}
        for ex in _now(self.sim.executions()):
            order = self.orders.get(ex.order_id)
            if order is None:
                continue
            cum[ex.order_id] = cum.get(ex.order_id, 0) + ex.qty
            c.send(self._exec(req_id, order, ex, cum[ex.order_id]))
        c.send(msg.exec_details_end(req_id))

    def _contract_details(self, c: ClientConnection, req_id: int, symbol: str) -> None:
        for m in self.script.months:
            if m.symbol == symbol:
                c.send(msg.contract_details(req_id, m))
        c.send(msg.contract_details_end(req_id))

    def _history(self, c: ClientConnection, f: list[str]) -> None:
        req_id = int(f[1])
        if self._pacing_left > 0:
            self._pacing_left -= 1
            c.send(
                msg.error(req_id, 162, "Historical Market Data Service error message:API historical data "
                          "query cancelled: pacing violation")
            )  # fmt: skip
            return
        count = history_minutes(f[17])
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

    def _place(self, c: ClientConnection, f: list[str]) -> None:
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
        self.orders[our_id] = GatewayOrder(view, request)
        self.placed.append((month.local_symbol, request))
        try:
            _now(self.sim.place_order(request))
        except BrokerUnavailable as exc:
            c.send(msg.error(ib_id, 201, f"Order rejected - reason:{exc}"))

    def _cancel(self, c: ClientConnection, ib_id: int) -> None:
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


def history_minutes(duration: str) -> int:
    """IB's history duration ("3600 S", "1 D", "2 W") in minutes."""
    parts = duration.split()
    if len(parts) != 2 or not parts[0].isdigit():
        raise ValueError(f"bad history duration {duration!r}")
    per = {"S": 1 / 60, "D": 1440, "W": 7 * 1440}.get(parts[1])
    if per is None:
        raise ValueError(f"unsupported history duration unit in {duration!r}")
    return max(1, int(int(parts[0]) * per))
