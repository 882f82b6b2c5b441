"""MatchingEngine: the simulated exchange book for our own orders against a replayed market.

Rules (prices in ticks):
- a limit order that is marketable when it arrives fills at once at the touch (the ask for a buy, the bid
  for a sell), which is never worse than its limit;
- a resting buy limit at L fills at L when the market trades through it: last < L, or the ask comes down
  to L or below (sell limit: last > L or bid >= L);
- a market order fills at once at the touch plus `slippage_ticks` against it (in several executions
  with the partial-fill fault); it never rests;
- with the partial-fill fault, a limit crossing may fill only part of what is left; the rest keeps working.
Commissions come from the fee schedule, per execution.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from regime.contracts import Side
from trading_engine.broker.port import BrokerOrderState, Execution, OrderRequest, OrderType
from trading_engine.fees import FeeSchedule


@dataclass(slots=True)
class SimOrder:
    """The exchange's copy of an order and everything that happened to it."""

    request: OrderRequest
    state: BrokerOrderState = BrokerOrderState.WORKING
    live: bool = False  # has reached the book
    filled: int = 0
    executions: list[Execution] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.request.qty - self.filled


class MatchingEngine:
    """Our resting orders, matched tick by tick."""

    def __init__(
        self,
        fees: FeeSchedule,
        slippage_ticks: int = 0,
        partial_fill_prob: float = 0.0,
        rng: random.Random | None = None,
        exec_prefix: str = "sim",
    ) -> None:
        self.fees = fees
        self.slippage_ticks = slippage_ticks
        self.partial_fill_prob = partial_fill_prob
        self._rng = rng or random.Random(0)
        self._exec_prefix = exec_prefix
        self._exec_seq = 0
        self.resting: dict[str, SimOrder] = {}
        self.net_position = 0
        self.max_abs_position = 0  # the exchange's truth, whatever the client believes

    def restore_sequence(self, executions: int) -> None:
        """Continue execution ids after `executions` earlier ones (a resumed account never reuses an id)."""
        self._exec_seq = max(self._exec_seq, executions)

    def arrive(self, order: SimOrder, ts: float, bid: int, ask: int) -> list[Execution]:
        """The order reaches the book; marketable orders fill at the touch now."""
        order.live = True
        req = order.request
        buy = req.side is Side.BUY
        if req.order_type is OrderType.MARKET:
            price = ask + self.slippage_ticks if buy else bid - self.slippage_ticks
            fills = []
            while order.remaining:  # a market order takes the book at once, possibly in several executions
                fills.append(self._fill(order, ts, price))
        elif req.limit is not None and ((buy and ask <= req.limit) or (not buy and bid >= req.limit)):
            fills = [self._fill(order, ts, ask if buy else bid)]
        else:
            fills = []
        if order.state is BrokerOrderState.WORKING:
            self.resting[req.order_id] = order
        return fills

    def cancel(self, order_id: str) -> SimOrder | None:
        """Remove a resting order; None if it is not resting (already filled or never arrived)."""
        order = self.resting.pop(order_id, None)
        if order is not None:
            order.state = BrokerOrderState.CANCELLED
        return order

    def on_tick(self, ts: float, bid: int, ask: int, last: int) -> list[Execution]:
        """Match resting orders against this print."""
        if not self.resting:
            return []
        fills: list[Execution] = []
        for order in list(self.resting.values()):
            req = order.request
            limit = req.limit if req.limit is not None else 0
            crossed = (
                (last < limit or ask <= limit) if req.side is Side.BUY else (last > limit or bid >= limit)
            )
            if crossed:
                fills.append(self._fill(order, ts, limit))
            if order.state is not BrokerOrderState.WORKING:
                self.resting.pop(req.order_id, None)
        return fills

    def _fill(self, order: SimOrder, ts: float, price: int) -> Execution:
        qty = order.remaining
        if qty > 1 and self._rng.random() < self.partial_fill_prob:
            qty = self._rng.randint(1, qty - 1)
        self._exec_seq += 1
        req = order.request
        ex = Execution(
            ts,
            f"{self._exec_prefix}-{self._exec_seq}",
            req.order_id,
            req.side,
            qty,
            price,
            self.fees.for_fill(qty),
        )
        order.filled += qty
        order.executions.append(ex)
        self.net_position += req.side.sign * qty
        self.max_abs_position = max(self.max_abs_position, abs(self.net_position))
        if order.remaining == 0:
            order.state = BrokerOrderState.FILLED
        return ex
