"""Pure translation between ib_insync objects and the broker port's events (no socket, no event loop).

Prices cross the boundary here: IB speaks floats, the port whole ticks (ContractSpec.to_ticks refuses a
price off the grid). Our order id travels in IB's `orderRef`, so an order placed by a previous process
(or under another client id) is still recognised at a reconcile.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from regime.contracts import Side
from trader_host.broker.ib.ib_api import (
    BarData,
    Contract,
    ContractDetails,
    Fill,
    Future,
    LimitOrder,
    MarketOrder,
    Order,
    Ticker,
    Trade,
)
from trading_engine.broker.port import (
    BrokerOrderState,
    Execution,
    MinuteBar,
    OpenOrder,
    OrderRequest,
    OrderType,
    Tick,
)
from trading_engine.instruments import ContractSpec

# https://interactivebrokers.github.io/tws-api/message_codes.html
CONNECTIVITY_LOST = 1100
RESTORED_DATA_LOST = 1101  # market data subscriptions are gone: subscribe again
RESTORED = 1102
# Data farms (ticks, HMDS bars, security definitions): code -> (farm, whether it is up now).
DATA_FARMS = {
    2103: ("market data", False),
    2104: ("market data", True),
    2105: ("historical data", False),
    2106: ("historical data", True),
    2157: ("security definitions", False),
    2158: ("security definitions", True),
}
CLIENT_ID_IN_USE = 326
PACING_VIOLATION = 162
ORDER_REJECTED = 201
ORDER_ERRORS = frozenset({ORDER_REJECTED, 103, 110, 135, 200, 203, 321, 322, 10147})

_SIDES = {"BUY": Side.BUY, "BOT": Side.BUY, "SELL": Side.SELL, "SLD": Side.SELL}
_STATES = {
    "PendingSubmit": BrokerOrderState.WORKING,
    "ApiPending": BrokerOrderState.WORKING,
    "PreSubmitted": BrokerOrderState.WORKING,
    "Submitted": BrokerOrderState.WORKING,
    "PendingCancel": BrokerOrderState.WORKING,
    "Filled": BrokerOrderState.FILLED,
    "Cancelled": BrokerOrderState.CANCELLED,
    "ApiCancelled": BrokerOrderState.CANCELLED,
    "Inactive": BrokerOrderState.REJECTED,
}


def futures_query(symbol: str, exchange: str, currency: str) -> Future:
    """The contract-details query for every listed month of a future."""
    return Future(symbol=symbol, exchange=exchange, currency=currency, includeExpired=False)


def last_trade_date(c: Contract) -> date:
    """A future's last trade date (IB: YYYYMMDD, sometimes with a time after it)."""
    text = c.lastTradeDateOrContractMonth.split()[0].split("-")[0]
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"contract {c.localSymbol or c.symbol}: no last trade date in {text!r}")
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def front_month(details: list[ContractDetails], today: date, roll_days: int) -> Contract:
    """The month to trade: the nearest one whose last trade date is more than `roll_days` days away."""
    months = sorted((d.contract for d in details if d.contract is not None), key=last_trade_date)
    for c in months:
        if (last_trade_date(c) - today).days > roll_days:
            return c
    listed = ", ".join(f"{c.localSymbol} ({last_trade_date(c)})" for c in months) or "none"
    raise ValueError(f"no month is more than {roll_days} day(s) from expiry on {today}; listed: {listed}")


def ib_order(request: OrderRequest, spec: ContractSpec, account: str = "") -> Order:
    """Our order request as an IB order (our id in orderRef)."""
    action = "BUY" if request.side is Side.BUY else "SELL"
    order: Order
    if request.order_type is OrderType.LIMIT:
        if request.limit is None:
            raise ValueError(f"order {request.order_id}: limit order without a limit price")
        order = LimitOrder(action, request.qty, float(spec.price(request.limit)))
    else:
        order = MarketOrder(action, request.qty)
    order.orderRef = request.order_id
    order.tif = "DAY"
    if account:
        order.account = account
    return order


def order_id_of(order: Order) -> str:
    """Our id of an IB order: its orderRef, or its IB id for an order we did not send."""
    return order.orderRef or f"ib-{order.permId or order.orderId}"


def request_of(trade: Trade, spec: ContractSpec) -> OrderRequest:
    """The order request an IB trade stands for (reconcile: orders left working)."""
    o = trade.order
    side = _SIDES.get(o.action)
    if side is None:
        raise ValueError(f"order {order_id_of(o)}: unknown action {o.action!r}")
    if o.orderType == "LMT":
        return OrderRequest(
            order_id_of(o),
            spec.symbol,
            side,
            int(o.totalQuantity),
            OrderType.LIMIT,
            spec.to_ticks(o.lmtPrice),
        )
    if o.orderType == "MKT":
        return OrderRequest(order_id_of(o), spec.symbol, side, int(o.totalQuantity), OrderType.MARKET)
    raise ValueError(f"order {order_id_of(o)}: unsupported order type {o.orderType!r}")


def open_order_of(trade: Trade, spec: ContractSpec) -> OpenOrder:
    return OpenOrder(request_of(trade, spec), int(trade.orderStatus.filled))


def order_state(status: str) -> BrokerOrderState:
    """IB's order status word as the port's state."""
    return _STATES.get(status, BrokerOrderState.UNKNOWN)


def execution_of(fill: Fill, spec: ContractSpec) -> Execution:
    """One IB fill with its commission report; the commission is what IB charged (broker + exchange)."""
    ex = fill.execution
    side = _SIDES.get(ex.side)
    if side is None:
        raise ValueError(f"execution {ex.execId}: unknown side {ex.side!r}")
    commission = fill.commissionReport.commission
    return Execution(
        fill.time.timestamp() if fill.time else ex.time.timestamp(),
        ex.execId,
        order_id_of_execution(fill),
        side,
        int(ex.shares),
        spec.to_ticks(ex.price),
        Decimal(repr(commission)).quantize(Decimal("0.000001")),
    )


def order_id_of_execution(fill: Fill) -> str:
    ex = fill.execution
    return ex.orderRef or f"ib-{ex.permId or ex.orderId}"


def minute_bar(bar: BarData, spec: ContractSpec) -> MinuteBar:
    """An IB 1-minute bar (date: the minute's start) in ticks."""
    start = bar.date
    if not isinstance(start, datetime):
        raise ValueError(f"bar {bar.date!r}: a 1-minute bar needs a time (formatDate=2)")
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return MinuteBar(
        int(start.timestamp()) // 60,
        spec.to_ticks(bar.open),
        spec.to_ticks(bar.high),
        spec.to_ticks(bar.low),
        spec.to_ticks(bar.close),
        int(bar.volume),
    )


def tick_of(ticker: Ticker, spec: ContractSpec, ts: float) -> Tick | None:
    """Top of book and last trade in ticks; None until bid, ask and last are all known."""
    bid, ask, last = ticker.bid, ticker.ask, ticker.last
    if not all(_known(v) for v in (bid, ask, last)):
        return None
    size = ticker.lastSize if _known(ticker.lastSize) else 0
    return Tick(ts, spec.to_ticks(bid), spec.to_ticks(ask), spec.to_ticks(last), int(size))


def _known(value: float | None) -> bool:
    return value is not None and value == value and value > 0  # nan and IB's -1 mean "no data"
