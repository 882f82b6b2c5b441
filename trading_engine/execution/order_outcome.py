"""An order at its final state as the lake's OrderOutcome record: prices on the tick grid, times in UTC."""

from __future__ import annotations

from regime.contracts import OrderFinalState, OrderOutcome
from trading_engine.execution.order import Order, OrderState
from trading_engine.instruments import ContractSpec, utc


def outcome_reason(order: Order) -> str:
    """Why the order ended as it did, in words the queries and a person can read."""
    if order.revision:
        return f"reported {order.state.value}, then filled {order.filled_qty} (the cancel lost the race)"
    if order.state is OrderState.FILLED:
        return "filled after its stale cancel was sent" if order.stale else "filled"
    if order.state is OrderState.CANCELLED:
        # No cancel of ours: the broker cancelled it on its own (end of day, a reconnect, ...).
        return order.cancel_reason or f"cancelled by the broker ({order.final_reason})"
    return order.final_reason or "rejected"


def order_outcome(order: Order, spec: ContractSpec) -> OrderOutcome:
    """The record of `order`, which must be final."""
    if not order.is_final or order.final_at is None:
        raise ValueError(f"order {order.order_id} is {order.state}, not final: no outcome yet")
    request = order.request
    return OrderOutcome(
        order_id=order.order_id,
        symbol=request.symbol,
        role=order.role,
        side=request.side,
        qty=request.qty,
        order_type="market" if order.is_market else "limit",
        limit_price=None if order.is_market or request.limit is None else spec.price(request.limit),
        placed_ts=utc(order.submitted_at),
        final_ts=utc(order.final_at),
        final_state=_final_state(order),
        filled_qty=order.filled_qty,
        stale=order.stale,
        reason=outcome_reason(order),
        regime=order.regime,
        exit_reason=order.exit_reason,
        signal_price=None if order.signal_price is None else spec.price(order.signal_price),
        revision=order.revision,
    )


def _final_state(order: Order) -> OrderFinalState:
    # Executions after a cancel or reject are the broker's truth: all of the order filled is a filled order.
    if order.revision and order.filled_qty >= order.request.qty:
        return OrderFinalState.FILLED
    return OrderFinalState(order.state.value)
