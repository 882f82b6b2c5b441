"""OrderExecutor: one final state per order, every timeout path, dedupe by execution id."""

from __future__ import annotations

from decimal import Decimal

from regime.contracts import Regime, Side
from trading_engine.broker.port import (
    BrokerOrderState,
    Execution,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderStatus,
    OrderType,
)
from trading_engine.config import ExecutionConfig
from trading_engine.execution.commands import CancelOrder, QueryOrder
from trading_engine.execution.executor import OrderExecutor
from trading_engine.execution.order import Order, OrderState, Role

CFG = ExecutionConfig(order_qty=1, fill_timeout_s=5.0, cancel_timeout_s=3.0, status_retry_s=2.0)


def _limit(ex: OrderExecutor, now: float = 0.0, qty: int = 1, role: Role = Role.ENTRY) -> Order:
    cmd = ex.place(Side.BUY, qty, OrderType.LIMIT, 7000, role, now, Regime.RANGE, -2.2)
    return ex.orders[cmd.request.order_id]


def state(order: Order) -> OrderState:
    """Read the state afresh (mypy would otherwise keep an earlier assert's narrowing)."""
    return order.state


def _exec(order: Order, n: int, qty: int = 1, ts: float = 1.0) -> Execution:
    return Execution(ts, f"e{n}", order.order_id, Side.BUY, qty, 7000, Decimal("1.42") * qty)


def test_fill_makes_the_order_final_and_is_booked_once() -> None:
    ex = OrderExecutor("CL", CFG)
    order = _limit(ex)
    ex.on_accepted(OrderAccepted(0.1, order.order_id))
    assert state(order) is OrderState.WORKING
    ex.on_execution(_exec(order, 1))
    ex.on_execution(_exec(order, 1))  # the same report twice
    assert state(order) is OrderState.FILLED and not ex.active
    assert len(ex.take_fills()) == 1 and ex.duplicate_executions == 1


def test_stale_entry_is_cancelled_after_the_fill_timeout() -> None:
    ex = OrderExecutor("CL", CFG)
    order = _limit(ex, now=100.0)
    assert ex.on_time(104.9) == []
    assert ex.next_deadline() == 105.0
    assert ex.on_time(105.0) == [CancelOrder(order.order_id)]
    assert order.stale and ex.on_time(105.5) == []  # asked once
    ex.on_cancelled(OrderCancelled(105.1, order.order_id, 0))
    assert state(order) is OrderState.CANCELLED and not ex.active


def test_lost_cancel_confirmation_is_recovered_by_status_and_resent() -> None:
    ex = OrderExecutor("CL", CFG)
    order = _limit(ex, now=0.0)
    ex.on_time(5.0)  # cancel sent, its confirmation never comes
    assert ex.on_time(7.9) == []
    assert ex.on_time(8.0) == [QueryOrder(order.order_id)]  # cancel_timeout later
    assert ex.on_time(9.0) == []
    assert ex.on_time(10.0) == [QueryOrder(order.order_id)]  # retried every status_retry_s
    # The broker still has it working: the cancel itself was lost, so it is sent again.
    again = ex.on_status(OrderStatus(10.1, order.order_id, BrokerOrderState.WORKING, 0, ()))
    assert again == [CancelOrder(order.order_id)]
    ex.on_status(OrderStatus(13.2, order.order_id, BrokerOrderState.CANCELLED, 0, ()))
    assert state(order) is OrderState.CANCELLED


def test_fill_that_races_the_cancel_wins_and_status_does_not_double_count() -> None:
    ex = OrderExecutor("CL", CFG)
    order = _limit(ex)
    ex.on_time(5.0)
    fill = _exec(order, 7, ts=5.02)
    ex.on_execution(fill)  # filled before the cancel reached the book
    ex.on_cancelled(OrderCancelled(5.1, order.order_id, 1))  # a confused broker: refused, logged
    assert state(order) is OrderState.FILLED
    ex.on_status(OrderStatus(8.0, order.order_id, BrokerOrderState.FILLED, 1, (fill,)))
    assert len(ex.take_fills()) == 1 and order.filled_qty == 1


def test_lost_acceptance_and_lost_fill_are_recovered_from_status() -> None:
    ex = OrderExecutor("CL", CFG)
    order = _limit(ex)
    assert state(order) is OrderState.PENDING
    ex.on_time(5.0)
    ex.on_time(8.0)
    ex.on_status(OrderStatus(8.1, order.order_id, BrokerOrderState.FILLED, 1, (_exec(order, 3),)))
    assert state(order) is OrderState.FILLED and [e.execution_id for e, _ in ex.take_fills()] == ["e3"]


def test_unknown_to_the_broker_is_final_rejected() -> None:
    ex = OrderExecutor("CL", CFG)
    order = _limit(ex)
    ex.on_time(5.0)
    ex.on_status(OrderStatus(8.0, order.order_id, BrokerOrderState.UNKNOWN, 0, ()))
    assert state(order) is OrderState.REJECTED and "unknown" in order.final_reason


def test_reject_and_send_failure_are_final() -> None:
    ex = OrderExecutor("CL", CFG)
    a, b = _limit(ex), _limit(ex)
    ex.on_rejected(OrderRejected(0.1, a.order_id, "margin"))
    ex.send_failed(b.order_id, 0.0, "disconnected")
    assert state(a) is OrderState.REJECTED and state(b) is OrderState.REJECTED and not ex.active
    ex.on_cancelled(OrderCancelled(0.2, a.order_id, 0))
    assert state(a) is OrderState.REJECTED  # exactly one final state


def test_partial_fill_then_stale_keeps_the_filled_part() -> None:
    ex = OrderExecutor("CL", CFG)
    order = _limit(ex, qty=3)
    ex.on_execution(_exec(order, 1, qty=2))
    assert state(order) is OrderState.WORKING and order.remaining == 1
    assert ex.open_qty(Role.ENTRY) == 1
    assert ex.on_time(5.0) == [CancelOrder(order.order_id)]
    ex.on_cancelled(OrderCancelled(5.1, order.order_id, 2))
    assert state(order) is OrderState.CANCELLED and order.filled_qty == 2


def test_market_order_is_never_cancelled_but_its_status_is_asked() -> None:
    ex = OrderExecutor("CL", CFG)
    cmd = ex.place(Side.SELL, 1, OrderType.MARKET, None, Role.EXIT, 0.0, Regime.RANGE, 0.0)
    assert ex.on_time(5.0) == [QueryOrder(cmd.request.order_id)]  # after cancel_timeout_s (3 s)
    assert ex.next_deadline() == 7.0


def test_reconnect_asks_every_live_order() -> None:
    ex = OrderExecutor("CL", CFG)
    a, b = _limit(ex), _limit(ex)
    assert set(ex.query_all(3.0)) == {QueryOrder(a.order_id), QueryOrder(b.order_id)}


def test_execution_for_an_unknown_order_is_still_booked() -> None:
    ex = OrderExecutor("CL", CFG)
    ex.on_execution(Execution(1.0, "zz", "nope", Side.BUY, 1, 7000, Decimal("1.42")))
    ((_, order),) = ex.take_fills()
    assert order is None
