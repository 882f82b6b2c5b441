"""PositionLedger: executions in, position, round trips and exact P&L out.

A round trip runs from flat to flat. Its P&L is counted in ticks (summed over contracts), then valued with
the contract's tick value; its fees are the commissions of every execution in it. So at any flat moment
`realised_gross_usd - fees_usd == sum(round_trip.net_usd)` exactly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from regime.contracts import ExitReason, Fill, Regime, Role, RoundTrip, Side
from trading_engine.broker.port import Execution
from trading_engine.instruments import ContractSpec, utc

if TYPE_CHECKING:
    from trading_engine.execution.order import Order

log = logging.getLogger(__name__)
_CENT_FRACTION = Decimal("0.000001")


@dataclass(slots=True)
class _OpenTrip:
    trip_id: str
    side: Side
    entry_ts: float
    regime: Regime
    zscore: float
    open_qty: int = 0
    entry_qty: int = 0
    entry_value: int = 0  # sum of price * qty, ticks
    exit_qty: int = 0
    exit_value: int = 0
    fees: Decimal = Decimal(0)
    entry_ids: list[str] = field(default_factory=list)
    exit_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FillContext:
    """Why the order behind an execution was sent (carried into the records).

    `role` is None when the order is not ours: the ledger then takes it from the execution's effect.
    """

    role: Role | None
    regime: Regime
    zscore: float
    exit_reason: ExitReason | None
    signal_ts: float | None = None  # when the order was decided and sent
    ack_ts: float | None = None  # when the broker acknowledged it
    signal_price: int | None = None  # ticks: the last price the decision saw (slippage is against it)
    order_type: str = ""  # "limit" | "market"
    decision_window_end: datetime | None = None  # an entry's ML decision (its key in the lake)

    @classmethod
    def of(cls, order: Order) -> FillContext:
        """The context of one of our orders, as it was decided and sent."""
        return cls(
            order.role,
            order.regime,
            order.zscore,
            order.exit_reason,
            order.submitted_at,
            order.acked_at,
            order.signal_price,
            "market" if order.is_market else "limit",
            order.decision_window_end,
        )


class PositionLedger:
    """Signed position, closed round trips, realised P&L in ticks and every fee paid."""

    def __init__(self, spec: ContractSpec) -> None:
        self.spec = spec
        self.position = 0
        self.realised_ticks = 0
        self.fees_usd = Decimal(0)
        self.round_trips: list[RoundTrip] = []
        self.fills: list[Fill] = []
        self._trip: _OpenTrip | None = None

    @property
    def realised_gross_usd(self) -> Decimal:
        return self.spec.usd(self.realised_ticks)

    @property
    def realised_net_usd(self) -> Decimal:
        """Closed P&L minus every fee paid so far (including the entry fees of an open position)."""
        return self.realised_gross_usd - self.fees_usd

    @property
    def open_side(self) -> Side | None:
        return self._trip.side if self._trip else None

    @property
    def open_regime(self) -> Regime | None:
        return self._trip.regime if self._trip else None

    def unrealised_ticks(self, mark: int) -> float:
        """Open P&L at price `mark`, average-cost, in ticks (for risk checks, not for accounting)."""
        t = self._trip
        if t is None or t.open_qty == 0:
            return 0.0
        avg = t.entry_value / t.entry_qty
        return t.side.sign * (mark - avg) * t.open_qty

    def apply(self, ex: Execution, ctx: FillContext) -> tuple[Fill, list[RoundTrip]]:
        """Book one execution (already deduplicated); returns its Fill record and any round trip it closed."""
        if ex.qty <= 0:
            raise ValueError(f"execution {ex.execution_id}: qty must be positive, got {ex.qty}")
        fill = Fill(
            execution_id=ex.execution_id,
            order_id=ex.order_id,
            symbol=self.spec.symbol,
            side=ex.side,
            qty=ex.qty,
            price=self.spec.price(ex.price),
            ts=utc(ex.ts),
            commission_usd=ex.commission_usd,
            regime=ctx.regime,
            zscore=ctx.zscore,
            role=ctx.role if ctx.role is not None else Role.of_effect(self.position, ex.side),
            signal_ts=None if ctx.signal_ts is None else utc(ctx.signal_ts),
            ack_ts=None if ctx.ack_ts is None else utc(ctx.ack_ts),
            signal_price=None if ctx.signal_price is None else self.spec.price(ctx.signal_price),
            order_type=ctx.order_type,
            decision_window_end=ctx.decision_window_end,
        )
        self.fills.append(fill)
        self.fees_usd += ex.commission_usd
        closed: list[RoundTrip] = []
        qty, commission = ex.qty, ex.commission_usd
        t = self._trip
        if t is not None and ex.side is not t.side:
            closing = min(qty, t.open_qty)
            part_fee = commission if closing == qty else (commission * closing / qty).quantize(_CENT_FRACTION)
            t.exit_qty += closing
            t.exit_value += ex.price * closing
            t.open_qty -= closing
            t.fees += part_fee
            t.exit_ids.append(ex.execution_id)
            self.position += ex.side.sign * closing
            qty -= closing
            commission -= part_fee
            if t.open_qty == 0:
                closed.append(self._close(t, ex.ts, ctx.exit_reason or ExitReason.FLATTEN))
                if qty:
                    log.warning(
                        "execution %s flips the position: %d left over opens a new trip", ex.execution_id, qty
                    )
        if qty:
            t = self._trip
            if t is None:
                # A flip's leftover starts a trip from the same execution: keep the ids distinct.
                trip_id = f"rt-{ex.execution_id}" + ("-flip" if closed else "")
                t = self._trip = _OpenTrip(trip_id, ex.side, ex.ts, ctx.regime, ctx.zscore)
            t.open_qty += qty
            t.entry_qty += qty
            t.entry_value += ex.price * qty
            t.fees += commission
            t.entry_ids.append(ex.execution_id)
            self.position += ex.side.sign * qty
        return fill, closed

    def _close(self, t: _OpenTrip, ts: float, reason: ExitReason) -> RoundTrip:
        pnl = t.side.sign * (t.exit_value - t.entry_value)
        self.realised_ticks += pnl
        self._trip = None
        trip = RoundTrip(
            trip_id=t.trip_id,
            symbol=self.spec.symbol,
            side=t.side,
            qty=t.entry_qty,
            entry_ts=utc(t.entry_ts),
            exit_ts=utc(ts),
            entry_price=self._avg(t.entry_value, t.entry_qty),
            exit_price=self._avg(t.exit_value, t.exit_qty),
            regime=t.regime,
            zscore=t.zscore,
            exit_reason=reason,
            pnl_ticks=pnl,
            gross_usd=self.spec.usd(pnl),
            fees_usd=t.fees,
            entry_execution_ids=tuple(t.entry_ids),
            exit_execution_ids=tuple(t.exit_ids),
        )
        self.round_trips.append(trip)
        log.info(
            "round trip %s %s x%d %s->%s %s: %+d ticks, gross %s fees %s net %s",
            trip.trip_id,
            trip.side,
            trip.qty,
            trip.entry_price,
            trip.exit_price,
            reason,
            pnl,
            trip.gross_usd,
            trip.fees_usd,
            trip.net_usd,
        )
        return trip

    def _avg(self, value: int, qty: int) -> Decimal:
        price = self.spec.price(value) / qty
        return price.quantize(self.spec.tick_size) if value % qty == 0 else price.quantize(_CENT_FRACTION)
