"""How an exit is priced: the order type and limit for closing a position, from the reason and the quote.

Pure: no I/O, no clock. The article's rule is a limit at the far side of the spread (a long sells at the ask,
a short buys at the bid). A trailing stop fires when the market moves *against* the position, so that
passive order usually waits out `fill_timeout_s` and then goes to market; `execution.stop_exit` chooses
another way for stop exits only. Target exits always keep the article's rule (the market is coming to them).
"""

from __future__ import annotations

from typing import NamedTuple

from regime.contracts import ExitReason, Side
from trading_engine.broker.port import OrderType
from trading_engine.config import StopExit


class ExitOrder(NamedTuple):
    """The order that closes a position: its type, and its limit (None for a market order)."""

    order_type: OrderType
    limit: int | None


def exit_order(side: Side, reason: ExitReason, bid: int, ask: int, stop_exit: StopExit) -> ExitOrder:
    """The first order of an exit on `side` (SELL closes a long, BUY a short), before any timeout.

    - "passive" (and every non-stop exit): limit at the far side (SELL at the ask, BUY at the bid);
    - "touch": limit at the near side (SELL at the bid, BUY at the ask): marketable on arrival, yet a
      limit, so never filled worse than the touch it was priced on; if the market ran away meanwhile it
      rests and the usual timeout sends it to market;
    - "market": a market order at once.
    """
    if reason is ExitReason.TRAIL and stop_exit == "market":
        return ExitOrder(OrderType.MARKET, None)
    near = reason is ExitReason.TRAIL and stop_exit == "touch"
    if side is Side.SELL:
        return ExitOrder(OrderType.LIMIT, bid if near else ask)
    return ExitOrder(OrderType.LIMIT, ask if near else bid)
