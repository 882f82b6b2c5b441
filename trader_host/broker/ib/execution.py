"""Orders through IB: place and cancel, status, executions with their commission, and the reconcile queries.

A fill counts once its commission report is in (the fee is IB's, not a preset). IB can report an order
cancelled and then an execution that crossed the cancel: the cancel is passed on at once (as the sim
broker does), any execution that follows is passed on too (the trader books it), and `cancel_grace_s`
later the executions are fetched again, so one IB never reported live is not lost either. A reject (201)
is an OrderRejected, and the "Cancelled" ib_insync makes of it is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from trader_host.broker.ib import parsing
from trader_host.broker.ib.config import IbConfig
from trader_host.broker.ib.ib_api import IB, CommissionReport, Contract, Fill, Trade
from trading_engine.broker.port import (
    BrokerEvent,
    BrokerOrderState,
    Execution,
    OpenOrder,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderRequest,
    OrderStatus,
)
from trading_engine.instruments import ContractSpec

log = logging.getLogger(__name__)


class OrderRouter:
    def __init__(
        self, ib: IB, config: IbConfig, spec: ContractSpec, now: Callable[[], float],
        push: Callable[[BrokerEvent], None],
    ) -> None:  # fmt: skip
        self.ib, self.config, self.spec, self._now, self._push = ib, config, spec, now, push
        self.trades: dict[str, Trade] = {}  # our order id -> its trade
        self.requests: dict[str, OrderRequest] = {}
        self.accepted: set[str] = set()
        self.finished: set[str] = set()
        self.seen: dict[str, Execution] = {}  # execution id -> execution
        self.pending_cancels: dict[str, float] = {}  # cancelled order id -> when to look for late fills
        self.account = ""
        ib.orderStatusEvent += self._on_status
        ib.commissionReportEvent += self._on_commission

    def place(self, request: OrderRequest, contract: Contract) -> None:
        order = parsing.ib_order(request, self.spec, self.account)
        self.requests[request.order_id] = request
        self.trades[request.order_id] = self.ib.placeOrder(contract, order)

    def cancel(self, order_id: str) -> None:
        trade = self.trades.get(order_id)
        if trade is None:
            log.warning("cancel of %s: not an order of this process; asking IB by its orderRef", order_id)
            trade = next((t for t in self.ib.openTrades() if parsing.order_id_of(t.order) == order_id), None)
            if trade is None:
                return
        self.ib.cancelOrder(trade.order)

    def rejected(self, ib_order_id: int, reason: str) -> bool:
        """An order error for one of our orders: it is rejected. False if the id is not an order of ours."""
        for oid, trade in self.trades.items():
            if trade.order.orderId == ib_order_id and oid not in self.finished:
                self.finished.add(oid)
                self._push(OrderRejected(self._now(), oid, reason))
                return True
        return False

    async def status(self, order_id: str) -> OrderStatus:
        """The order's state and every execution IB reports for it."""
        await self.refresh_executions()
        executions = tuple(e for e in self.seen.values() if e.order_id == order_id)
        filled = sum(e.qty for e in executions)
        trade = self.trades.get(order_id)
        if trade is None:
            trade = next((t for t in self.ib.trades() if parsing.order_id_of(t.order) == order_id), None)
        if trade is None:
            state = BrokerOrderState.FILLED if executions else BrokerOrderState.UNKNOWN
        else:
            state = parsing.order_state(trade.orderStatus.status)
            request = self.requests.get(order_id)
            if request is not None and filled >= request.qty:
                state = BrokerOrderState.FILLED
        return OrderStatus(self._now(), order_id, state, filled, executions)

    async def refresh_executions(self) -> list[Execution]:
        """The day's executions from IB (fills while disconnected come back here); new ones are pushed."""
        fills = await self.ib.reqExecutionsAsync()
        known = {f.execution.execId: f for f in self.ib.fills()}  # ib_insync books the commission there
        out = []
        for answered in fills:
            fill = known.get(answered.execution.execId, answered)
            if fill.contract.symbol != self.spec.symbol:
                continue
            ex = parsing.execution_of(fill, self.spec)
            out.append(ex)
            self.seen.setdefault(ex.execution_id, ex)
        return sorted(out, key=lambda e: e.ts)

    async def open_orders(self) -> list[OpenOrder]:
        trades = await self.ib.reqAllOpenOrdersAsync()
        return [
            parsing.open_order_of(t, self.spec)
            for t in trades
            if t.contract.symbol == self.spec.symbol and not t.isDone()  # type: ignore[no-untyped-call]
        ]

    async def confirm_cancels(self) -> None:
        """After a cancel's grace, fetch the executions again: pass on the ones that crossed the cancel."""
        now = self._now()
        due = [oid for oid, at in self.pending_cancels.items() if at <= now]
        if not due:
            return
        for oid in due:
            del self.pending_cancels[oid]
        known = set(self.seen)
        await self.refresh_executions()
        for ex in self.seen.values():
            if ex.execution_id not in known:
                log.warning("execution %s of %s found after IB said cancelled", ex.execution_id, ex.order_id)
                self._push(Execution(self._now(), *ex[1:]))

    def _on_status(self, trade: Trade) -> None:
        oid = parsing.order_id_of(trade.order)
        if oid not in self.requests or oid in self.finished:
            return
        state = parsing.order_state(trade.orderStatus.status)
        if state is BrokerOrderState.WORKING and trade.orderStatus.status in ("Submitted", "PreSubmitted"):
            if oid not in self.accepted:
                self.accepted.add(oid)
                self._push(OrderAccepted(self._now(), oid))
        elif state is BrokerOrderState.CANCELLED:
            if any(e.errorCode in parsing.ORDER_ERRORS for e in trade.log):
                return  # a reject: already an OrderRejected
            self.finished.add(oid)
            self.pending_cancels[oid] = self._now() + self.config.cancel_grace_s
            self._push(OrderCancelled(self._now(), oid, int(trade.orderStatus.filled)))
        elif state is BrokerOrderState.FILLED:
            self.finished.add(oid)
            self.pending_cancels.pop(oid, None)

    def _on_commission(self, trade: Trade, fill: Fill, report: CommissionReport) -> None:
        if fill.contract.symbol != self.spec.symbol or fill.execution.execId in self.seen:
            return
        if parsing.order_id_of_execution(fill) in self.pending_cancels:
            log.warning(
                "execution %s of %s after IB said cancelled", fill.execution.execId, fill.execution.orderRef
            )
        ex = parsing.execution_of(fill, self.spec)
        ex = Execution(self._now(), *ex[1:])  # reported now (the fill's own time has whole seconds only)
        self.seen[ex.execution_id] = ex
        self._push(ex)
