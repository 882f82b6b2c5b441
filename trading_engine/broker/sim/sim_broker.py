"""SimBroker: the broker port over a replayed market, on a virtual clock, with faults on demand.

Time is virtual: `next_event` jumps straight to the next thing that happens (as fast as the CPU allows), or,
with `pace`, waits so that virtual time runs `pace` times faster than the wall clock (1.0 = real time).
Latency: a request reaches the exchange `ack_latency_s / 2` after it is sent and its answer (acceptance,
fill, cancel confirmation, status) comes back after the same delay again, so an acknowledgement takes
`ack_latency_s`; a fill that happens later is reported half that after the print that caused it. The book
keeps working while the connection is down; what the broker says meanwhile is lost, and the client must
ask for the status of its orders after the reconnect.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import logging
import math
import time
from typing import Any

from regime.contracts import Side
from trading_engine.broker.port import (
    BrokerEvent,
    BrokerOrderState,
    BrokerUnavailable,
    ConnectionChanged,
    Execution,
    FeedEnded,
    MinuteBar,
    OpenOrder,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderType,
    Tick,
)
from trading_engine.broker.sim.faults import NO_FAULTS, FaultPlan, WindowCursor
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.broker.sim.matching import MatchingEngine, SimOrder
from trading_engine.broker.sim.sim_book import SimBook
from trading_engine.config import SimConfig
from trading_engine.fees import FeeSchedule
from trading_engine.indicators.average_true_range import AverageTrueRange, atr_ticks

log = logging.getLogger(__name__)
_INF = math.inf
_DELIVER, _ARRIVE, _CANCEL, _STATUS, _CONNECTION = range(5)


class SimBroker:
    """Implements BrokerPort over a MarketTape."""

    def __init__(
        self,
        tape: MarketTape,
        fees: FeeSchedule,
        config: SimConfig | None = None,
        faults: FaultPlan = NO_FAULTS,
        pace: float | None = None,
        book: SimBook | None = None,
    ) -> None:
        self.config = config or SimConfig()
        self.config.check()
        if pace is not None and pace <= 0:
            raise ValueError(f"pace must be positive (1.0 = real time), got {pace}")
        self.symbol = tape.symbol
        self.faults = faults
        self.pace = pace
        self._rng = faults.rng()
        self.engine = MatchingEngine(fees, self.config.slippage_ticks, faults.partial_fill_prob, self._rng)
        self._atr = AverageTrueRange(self.config.slippage_atr_bars)  # volatility slippage of market orders
        self._one_way = self.config.ack_latency_s / 2
        # Plain lists: indexing them is several times faster than numpy scalars in the replay loop.
        self._t, self._bid, self._ask = tape.time.tolist(), tape.bid.tolist(), tape.ask.tolist()
        self._last, self._size = tape.last.tolist(), tape.size.tolist()
        self._bars = list(
            zip(
                tape.bar_minute.tolist(),
                tape.bar_open.tolist(),
                tape.bar_high.tolist(),
                tape.bar_low.tolist(),
                tape.bar_close.tolist(),
                tape.bar_volume.tolist(),
                strict=True,
            )
        )
        self._bar_end = tape.bar_end.tolist()
        self._i = self._b = 0
        self._now = (self._t[0] if self._t else 0.0) - 1.0
        self._heap: list[tuple[float, int, int, Any]] = []
        self._seq = 0
        self._orders: dict[str, SimOrder] = {}
        self._stale = WindowCursor(sorted(faults.stale_quotes))
        self._gaps = sorted(faults.price_gaps)
        self._gap_i = 0
        self._offset = 0
        self._quote: Tick | None = None
        self._mkt = (0, 0, 0)  # true bid, ask, last (with gaps), whatever the feed shows
        self._ended = False
        self.connected = False
        self._wall0 = self._virt0 = 0.0
        self.ticks_replayed = 0
        self.bars_replayed = 0
        self.book = book
        if book is not None:
            self._resume(book)

    def _resume(self, book: SimBook) -> None:
        """Take the account and the market position from the broker's books (a restart of the host)."""
        account = book.account
        if account.clock is None and not account.orders:
            return
        self._orders = account.orders
        engine = self.engine
        last_exec = 0.0
        for order in account.orders.values():
            for ex in order.executions:
                engine.net_position += ex.side.sign * ex.qty
                last_exec = max(last_exec, ex.ts)
            if order.state is BrokerOrderState.WORKING and order.live:
                engine.resting[order.request.order_id] = order
        engine.restore_sequence(account.executions)
        resume = max(account.clock or self._now, last_exec, self._now)
        if self.pace is not None and account.wall is not None:
            resume += max(0.0, time.time() - account.wall) * self.pace  # the market moved on meanwhile
        self._i = bisect.bisect_right(self._t, resume)
        self._b = bisect.bisect_right(self._bar_end, resume)
        self._now = resume
        for order in account.orders.values():
            if order.state is BrokerOrderState.WORKING and not order.live:
                self._push(resume + self._one_way, _ARRIVE, order)
        log.info(
            "sim: resumed the account at %.3f: position %d, %d working order(s)",
            resume,
            engine.net_position,
            sum(o.state is BrokerOrderState.WORKING for o in account.orders.values()),
        )

    # -- BrokerPort ------------------------------------------------------------------------------------------
    def now(self) -> float:
        return self._now

    async def connect(self) -> None:
        self.connected = True
        self._wall0, self._virt0 = asyncio.get_running_loop().time(), self._now
        for start, end in self.faults.disconnects:
            self._push(start, _CONNECTION, False)
            self._push(end, _CONNECTION, True)

    async def close(self) -> None:
        self.connected = False

    async def place_order(self, request: OrderRequest) -> None:
        self._require_connection("place")
        if request.order_id in self._orders:
            raise ValueError(f"order id {request.order_id} already used")
        order = SimOrder(request)
        self._orders[request.order_id] = order
        if self.book is not None:
            self.book.order(request)
        problem = _invalid(request, self.symbol)
        if problem:
            order.state = BrokerOrderState.REJECTED
            if self.book is not None:
                self.book.final(request.order_id, BrokerOrderState.REJECTED)
            self._deliver(self._now + 2 * self._one_way, OrderRejected(self._now, request.order_id, problem))
            return
        self._push(self._now + self._one_way, _ARRIVE, order)

    async def cancel_order(self, order_id: str) -> None:
        self._require_connection("cancel")
        self._push(self._now + self._one_way, _CANCEL, order_id)

    async def request_status(self, order_id: str) -> None:
        self._require_connection("status request")
        self._push(self._now + self._one_way, _STATUS, order_id)

    async def positions(self) -> dict[str, int]:
        self._require_connection("positions")
        return {self.symbol: self.engine.net_position}

    async def open_orders(self) -> list[OpenOrder]:
        self._require_connection("open orders")
        return [
            OpenOrder(o.request, o.filled)
            for o in self._orders.values()
            if o.state is BrokerOrderState.WORKING
        ]

    async def executions(self) -> list[Execution]:
        self._require_connection("executions")
        return sorted((ex for o in self._orders.values() for ex in o.executions), key=lambda e: e.ts)

    async def recent_bars(self, count: int) -> list[MinuteBar]:
        self._require_connection("historical bars")
        off = self._offset
        return [
            MinuteBar(m, o + off, h + off, lo + off, c + off, v)
            for m, o, h, lo, c, v in self._bars[max(0, self._b - count) : self._b]
        ]

    async def next_event(self, until: float | None = None) -> BrokerEvent | None:
        t_list, bar_end, heap = self._t, self._bar_end, self._heap
        n, nb = len(t_list), len(bar_end)
        while True:
            ti = t_list[self._i] if self._i < n else _INF
            tb = bar_end[self._b] if self._b < nb else _INF
            th = heap[0][0] if heap else _INF
            if ti == _INF and tb == _INF and not self._ended:
                self._ended = True  # the market data is over, even if orders still talk
                return FeedEnded(self._now)
            t = min(ti, tb, th)
            if until is not None and t > until:
                await self._advance(until)
                return None
            if t == _INF:
                return None
            await self._advance(t)
            if th <= ti and th <= tb:
                event = self._handle(heapq.heappop(heap))
            elif tb <= ti:
                event = self._bar()
            else:
                event = self._tick()
            if event is not None:
                return event

    # -- internals -------------------------------------------------------------------------------------------
    def _require_connection(self, what: str) -> None:
        if not self.connected:
            raise BrokerUnavailable(f"sim broker disconnected: {what} not sent")

    def _push(self, t: float, kind: int, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, payload))

    def _deliver(self, t: float, event: BrokerEvent) -> None:
        self._push(t, _DELIVER, event)

    async def _advance(self, t: float) -> None:
        if self.pace is not None and t > self._now:
            loop = asyncio.get_running_loop()
            wait = self._wall0 + (t - self._virt0) / self.pace - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        if t > self._now:
            self._now = t

    def _tick(self) -> Tick | None:
        i = self._i
        self._i = i + 1
        t = self._t[i]
        while self._gap_i < len(self._gaps) and self._gaps[self._gap_i][0] <= t:
            self._offset += self._gaps[self._gap_i][1]
            log.info("sim: price gap of %+d ticks at %.3f", self._gaps[self._gap_i][1], t)
            self._gap_i += 1
        off = self._offset
        bid, ask, last = self._bid[i] + off, self._ask[i] + off, self._last[i] + off
        self._mkt = (bid, ask, last)
        self.ticks_replayed += 1
        if self.engine.resting:
            for ex in self.engine.on_tick(t, bid, ask, last):
                self._report_execution(ex)
        if not self.connected:
            return None
        if self._quote is not None and self._stale.windows and self._stale.inside(t):
            return self._quote  # the feed is stuck: the same quote, with its old time
        tick = self._quote = Tick(t, bid, ask, last, self._size[i])
        return tick

    def _bar(self) -> MinuteBar | None:
        minute, o, h, lo, c, v = self._bars[self._b]
        self._b += 1
        self.bars_replayed += 1
        if self.config.slippage_atr > 0:
            self._atr.push(h, lo, c)
            extra = atr_ticks(self.config.slippage_atr, self._atr.value, 0)
            self.engine.slippage_ticks = self.config.slippage_ticks + extra
        if self.book is not None:
            self.book.clock(self._now)
        if not self.connected:
            return None
        off = self._offset
        return MinuteBar(minute, o + off, h + off, lo + off, c + off, v)

    def _report_execution(self, ex: Execution) -> None:
        if self.book is not None:
            self.book.execution(ex)  # the exchange's books first: it survives whatever the client does
        rng, f = self._rng, self.faults
        if f.lost_execution_prob and rng.random() < f.lost_execution_prob:
            log.debug("sim: execution report %s lost", ex.execution_id)
            return
        reported = Execution(ex.ts + self._one_way, *ex[1:])
        self._deliver(reported.ts, reported)
        if f.duplicate_execution_prob and rng.random() < f.duplicate_execution_prob:
            self._deliver(reported.ts, reported)

    def _ack(self, event: OrderAccepted | OrderCancelled) -> None:
        if self.faults.lost_ack_prob and self._rng.random() < self.faults.lost_ack_prob:
            log.debug("sim: %s for %s lost", type(event).__name__, event.order_id)
            return
        self._deliver(event.ts, event)

    def _handle(self, item: tuple[float, int, int, Any]) -> BrokerEvent | None:
        now, _, kind, payload = item
        back = now + self._one_way
        if kind == _DELIVER:
            return payload if self.connected else None
        if kind == _CONNECTION:
            self.connected = bool(payload)
            log.info("sim: connection %s at %.3f", "restored" if payload else "lost", now)
            return ConnectionChanged(now, self.connected)
        if kind == _ARRIVE:
            order: SimOrder = payload
            if self._rng.random() < self.faults.reject_prob:
                order.state = BrokerOrderState.REJECTED
                if self.book is not None:
                    self.book.final(order.request.order_id, BrokerOrderState.REJECTED)
                self._deliver(
                    back, OrderRejected(back, order.request.order_id, "rejected by exchange (sim fault)")
                )
                return None
            bid, ask, _ = self._mkt
            if self.book is not None:
                self.book.arrived(order.request.order_id)
            self._ack(OrderAccepted(back, order.request.order_id))
            for ex in self.engine.arrive(order, now, bid, ask):
                self._report_execution(ex)
        elif kind == _CANCEL:
            cancelled = self.engine.cancel(payload)
            if cancelled is not None:
                if self.book is not None:
                    self.book.final(payload, BrokerOrderState.CANCELLED)
                self._ack(OrderCancelled(back, payload, cancelled.filled))
        elif kind == _STATUS:
            sim = self._orders.get(payload)
            if sim is None:
                self._deliver(back, OrderStatus(back, payload, BrokerOrderState.UNKNOWN, 0, ()))
            else:
                self._deliver(back, OrderStatus(back, payload, sim.state, sim.filled, tuple(sim.executions)))
        return None


def _invalid(req: OrderRequest, symbol: str) -> str:
    if req.symbol != symbol:
        return f"unknown symbol {req.symbol!r} (this sim trades {symbol})"
    if req.qty <= 0:
        return f"qty must be positive, got {req.qty}"
    if req.order_type is OrderType.LIMIT and req.limit is None:
        return "limit order without a limit price"
    if req.order_type is OrderType.MARKET and req.limit is not None:
        return "market order with a limit price"
    if req.side not in (Side.BUY, Side.SELL):
        return f"bad side {req.side!r}"
    return ""
