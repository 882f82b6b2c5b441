"""OrderExecutor: sends orders, follows every one to exactly one final state, and enforces the timeouts.

Timeouts (ExecutionConfig):
- a limit order not completely filled `fill_timeout_s` after it was sent is stale: it is cancelled (an entry
  is given up; the trader replaces a stale exit with a market order once the cancel is confirmed);
- a cancel not confirmed, or a market order not filled, within `cancel_timeout_s` gets a status request,
  repeated every `status_retry_s` until the broker's answer settles it (lost acknowledgements, reconnects).
Executions are deduplicated by execution id, so a fill reported twice (event and status) counts once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from regime.contracts import ExitReason, Regime, Side
from trading_engine.broker.port import (
    BrokerOrderState,
    Execution,
    OpenOrder,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderType,
)
from trading_engine.config import ExecutionConfig
from trading_engine.execution.commands import CancelOrder, Command, PlaceOrder, QueryOrder
from trading_engine.execution.order import Order, OrderState, Role

log = logging.getLogger(__name__)


class OrderExecutor:
    """Our orders by id, the subset still alive, and the executions already seen."""

    def __init__(self, symbol: str, config: ExecutionConfig, id_prefix: str = "o") -> None:
        config.check()
        self.symbol = symbol
        self.config = config
        self.id_prefix = id_prefix
        self.orders: dict[str, Order] = {}
        self.active: dict[str, Order] = {}
        self.duplicate_executions = 0
        self.rejects = 0  # orders that ended rejected (the host's metrics count them)
        self.seen: set[str] = set()  # execution ids already booked (and journaled)
        self._seq = 0
        self._fills: list[tuple[Execution, Order | None]] = []
        self._finished: list[Order] = []  # orders that reached their final state (see take_finished)

    # -- sending ---------------------------------------------------------------------------------------------
    def place(
        self,
        side: Side,
        qty: int,
        order_type: OrderType,
        limit: int | None,
        role: Role,
        now: float,
        regime: Regime,
        zscore: float,
        exit_reason: ExitReason | None = None,
        signal_price: int | None = None,
        decision_window_end: datetime | None = None,
    ) -> PlaceOrder:
        """Register a new order and return the command that sends it."""
        self._seq += 1
        request = OrderRequest(f"{self.id_prefix}{self._seq}", self.symbol, side, qty, order_type, limit)
        order = Order(
            request,
            role,
            now,
            regime,
            zscore,
            exit_reason,
            signal_price=signal_price,
            decision_window_end=decision_window_end,
        )
        self.orders[request.order_id] = order
        self.active[request.order_id] = order
        log.info(
            "order %s %s %s %s x%d @%s at %.3f (regime %s z %.3f reason %s)",
            request.order_id,
            role,
            side,
            order_type,
            qty,
            limit,
            now,
            regime,
            zscore,
            exit_reason,
        )
        return PlaceOrder(request)

    def cancel(self, order: Order, now: float, why: str = "") -> CancelOrder | None:
        """Ask once to cancel an order (`why` goes into its outcome); None if already asked or final."""
        if order.is_final or order.cancel_requested_at is not None:
            return None
        order.cancel_requested_at = now
        order.cancel_reason = why
        return CancelOrder(order.order_id)

    def adopt(self, open_order: OpenOrder, role: Role, now: float) -> CancelOrder:
        """Take charge of an order a previous process left working, only to cancel it and book its fills."""
        order = Order(open_order.request, role, now, Regime.NOTHING, 0.0)
        order.filled_qty = open_order.filled_qty
        order.acknowledge()
        order.stale = True
        order.cancel_requested_at = now
        order.cancel_reason = "orphan of an earlier run"
        self.orders[order.order_id] = order
        self.active[order.order_id] = order
        return CancelOrder(order.order_id)

    def send_failed(self, order_id: str, now: float, reason: str) -> None:
        """The place request never left (broker unavailable): the order is rejected by us."""
        order = self.orders.get(order_id)
        if order is not None:
            self._finish(order, OrderState.REJECTED, now, f"not sent: {reason}")

    # -- broker events ---------------------------------------------------------------------------------------
    def on_accepted(self, ev: OrderAccepted) -> None:
        order = self._known(ev.order_id, "accept")
        if order is not None:
            order.acknowledge()
            if order.acked_at is None:
                order.acked_at = ev.ts

    def on_rejected(self, ev: OrderRejected) -> None:
        order = self._known(ev.order_id, "reject")
        if order is not None:
            self._finish(order, OrderState.REJECTED, ev.ts, ev.reason)

    def on_cancelled(self, ev: OrderCancelled) -> list[Command]:
        """A confirmed cancel is final, unless it reveals executions we never heard of: ask for them first."""
        order = self._known(ev.order_id, "cancel")
        if order is None or order.is_final:
            return []
        if ev.filled_qty > order.filled_qty:
            log.warning(
                "order %s cancelled after %d filled, %d reported: asking for its executions",
                order.order_id,
                ev.filled_qty,
                order.filled_qty,
            )
            order.status_requested_at = ev.ts
            return [QueryOrder(order.order_id)]
        self._finish(order, OrderState.CANCELLED, ev.ts, "cancel confirmed")
        return []

    def on_execution(self, ev: Execution) -> None:
        """Count an execution once; it is queued for the ledger (see take_fills)."""
        if ev.execution_id in self.seen:
            self.duplicate_executions += 1
            log.debug("duplicate execution %s ignored", ev.execution_id)
            return
        self.seen.add(ev.execution_id)
        order = self.orders.get(ev.order_id)
        if order is None:
            log.error(
                "execution %s for unknown order %s: booked without context", ev.execution_id, ev.order_id
            )
        else:
            if order.is_final and order.state is not OrderState.FILLED:
                log.error(
                    "execution %s after order %s was %s: booked", ev.execution_id, ev.order_id, order.state
                )
                order.filled_qty += ev.qty
                order.revision += 1
                self._finished.append(order)  # its outcome again, revised: the lake keeps the newest
            else:
                was_final = order.is_final  # an overfill of a filled order: no second outcome
                order.add_fill(ev.qty, ev.ts)
                if order.is_final:
                    self.active.pop(order.order_id, None)
                    if not was_final:
                        self._finished.append(order)
        self._fills.append((ev, order))

    def on_status(self, ev: OrderStatus) -> list[Command]:
        """Reconcile with the broker: book missed executions, settle the state, re-send a lost cancel."""
        for ex in ev.executions:
            self.on_execution(ex)
        order = self._known(ev.order_id, "status")
        if order is None or order.is_final:
            return []
        order.status_requested_at = None
        state = ev.state
        if ev.filled_qty > order.filled_qty:
            # The status counts executions it did not list: ask again rather than settle on a wrong count.
            log.error(
                "order %s status: %d filled but %d executions known",
                order.order_id,
                ev.filled_qty,
                order.filled_qty,
            )
            order.status_requested_at = ev.ts
            return []
        if state is BrokerOrderState.CANCELLED:
            self._finish(order, OrderState.CANCELLED, ev.ts, "cancelled (status)")
        elif state is BrokerOrderState.REJECTED:
            self._finish(order, OrderState.REJECTED, ev.ts, "rejected (status)")
        elif state is BrokerOrderState.UNKNOWN:
            self._finish(order, OrderState.REJECTED, ev.ts, "unknown to the broker")
        elif state is BrokerOrderState.FILLED:
            log.error(
                "order %s reported filled with %d of %d executed",
                order.order_id,
                order.filled_qty,
                order.request.qty,
            )
        else:
            order.acknowledge()
            if order.cancel_requested_at is not None:
                order.cancel_requested_at = ev.ts  # the cancel was lost on the way: send it again
                return [CancelOrder(order.order_id)]
        return []

    def take_fills(self) -> list[tuple[Execution, Order | None]]:
        """New (deduplicated) executions since the last call, with the order each belongs to."""
        fills, self._fills = self._fills, []
        return fills

    def take_finished(self) -> list[Order]:
        """Orders that reached their final state since the last call: once each, and again per execution
        reported after that state (a revision of its outcome)."""
        finished, self._finished = self._finished, []
        return finished

    # -- time ------------------------------------------------------------------------------------------------
    def on_time(self, now: float) -> list[Command]:
        """Apply the timeouts; returns cancels and status requests to send."""
        cfg = self.config
        commands: list[Command] = []
        for order in list(self.active.values()):
            if order.cancel_requested_at is None and not order.is_market:
                if now - order.submitted_at >= cfg.fill_timeout_s:
                    order.stale = True
                    log.info(
                        "order %s stale after %.1fs (%s, filled %d/%d): cancelling",
                        order.order_id,
                        now - order.submitted_at,
                        order.state,
                        order.filled_qty,
                        order.request.qty,
                    )
                    why = "stale timeout" if order.role is Role.ENTRY else "stale timeout, replaced by market"
                    cancel = self.cancel(order, now, why)
                    if cancel is not None:
                        commands.append(cancel)
                continue
            if now >= self._status_due(order):
                order.status_requested_at = now
                commands.append(QueryOrder(order.order_id))
        return commands

    def _status_due(self, order: Order) -> float:
        if order.status_requested_at is not None:
            return order.status_requested_at + self.config.status_retry_s
        start = order.cancel_requested_at if order.cancel_requested_at is not None else order.submitted_at
        return start + self.config.cancel_timeout_s

    def next_deadline(self) -> float | None:
        """The earliest moment a timeout could fire, or None with nothing alive."""
        deadlines = [
            o.submitted_at + self.config.fill_timeout_s
            if o.cancel_requested_at is None and not o.is_market
            else self._status_due(o)
            for o in self.active.values()
        ]
        return min(deadlines) if deadlines else None

    def query_all(self, now: float) -> list[Command]:
        """After a reconnect: ask the status of every live order."""
        for order in self.active.values():
            order.status_requested_at = now
        return [QueryOrder(o.order_id) for o in self.active.values()]

    # -- views -----------------------------------------------------------------------------------------------
    def alive(self, role: Role | None = None) -> Iterable[Order]:
        return (o for o in self.active.values() if role is None or o.role is role)

    def open_qty(self, role: Role) -> int:
        """Contracts still to execute on live orders of `role`."""
        return sum(o.remaining for o in self.active.values() if o.role is role)

    def _known(self, order_id: str, what: str) -> Order | None:
        order = self.orders.get(order_id)
        if order is None:
            log.error("%s for unknown order %s ignored", what, order_id)
        return order

    def _finish(self, order: Order, state: OrderState, ts: float, reason: str) -> None:
        if order.finish(state, ts, reason):
            self._finished.append(order)
        self.active.pop(order.order_id, None)
        self.rejects += state is OrderState.REJECTED
