"""What the pure core asks the broker to do; the session (live, sim or backtest) carries it out."""

from __future__ import annotations

from typing import NamedTuple

from trading_engine.broker.port import OrderRequest


class PlaceOrder(NamedTuple):
    request: OrderRequest


class CancelOrder(NamedTuple):
    order_id: str


class QueryOrder(NamedTuple):
    order_id: str


Command = PlaceOrder | CancelOrder | QueryOrder
