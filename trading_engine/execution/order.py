"""Order: one order's lifecycle, which ends in exactly one final state (filled, cancelled or rejected)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from regime.contracts import ExitReason, Regime
from regime.contracts import Role as Role  # defined with the records; re-exported for the executor's users
from trading_engine.broker.port import OrderRequest, OrderType

log = logging.getLogger(__name__)


class OrderState(StrEnum):
    PENDING = "pending"  # sent, no acknowledgement yet
    WORKING = "working"  # acknowledged by the broker, possibly partly filled
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


FINAL_STATES = frozenset({OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED})


@dataclass(slots=True)
class Order:
    """Our side of an order: what we asked, why, and what the broker has told us so far."""

    request: OrderRequest
    role: Role
    submitted_at: float
    regime: Regime
    zscore: float
    exit_reason: ExitReason | None = None
    state: OrderState = OrderState.PENDING
    filled_qty: int = 0
    cancel_requested_at: float | None = None
    status_requested_at: float | None = None
    final_at: float | None = None
    stale: bool = False  # timed out unfilled: an entry is cancelled, an exit goes to market
    final_reason: str = ""
    signal_price: int | None = None  # the last price the strategy saw when it decided (ticks)
    acked_at: float | None = None  # when the broker acknowledged it
    decision_window_end: datetime | None = None  # an entry's ML decision: the regime item's window_end
    revision: int = 0  # executions booked after the final state (each revises the order's outcome record)
    cancel_reason: str = ""  # why we asked to cancel it (stale timeout, flatten, kill, ...)

    @property
    def order_id(self) -> str:
        return self.request.order_id

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def remaining(self) -> int:
        return self.request.qty - self.filled_qty

    @property
    def is_market(self) -> bool:
        return self.request.order_type is OrderType.MARKET

    def acknowledge(self) -> None:
        if self.state is OrderState.PENDING:
            self.state = OrderState.WORKING

    def add_fill(self, qty: int, ts: float) -> None:
        """Count an execution; the last one makes the order FILLED."""
        self.filled_qty += qty
        if self.filled_qty > self.request.qty:
            log.error("order %s overfilled: %d of %d", self.order_id, self.filled_qty, self.request.qty)
        if self.filled_qty >= self.request.qty:
            self.finish(OrderState.FILLED, ts, "filled")
        else:
            self.acknowledge()

    def finish(self, state: OrderState, ts: float, reason: str) -> bool:
        """Enter a final state once; a second final state is refused (and logged), never applied."""
        if state not in FINAL_STATES:
            raise ValueError(f"{state} is not a final state")
        if self.is_final:
            if state is not self.state:
                log.warning("order %s already %s, ignoring %s (%s)", self.order_id, self.state, state, reason)
            return False
        self.state, self.final_at, self.final_reason = state, ts, reason
        log.info(
            "order %s %s %s x%d %s: %s (filled %d)",
            self.order_id,
            self.role,
            self.request.side,
            self.request.qty,
            state,
            reason,
            self.filled_qty,
        )
        return True
