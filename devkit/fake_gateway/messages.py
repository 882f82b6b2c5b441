"""What the gateway says, field by field in the order ib_insync's decoder reads them (server version 176)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from devkit.fake_gateway.wire import Field, encode

SERVER_VERSION = 176
BID, ASK, LAST = 1, 2, 4  # tick types
NOTICE_TEXT = {
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
    2103: "Market data farm connection is broken:usfuture",
    2104: "Market data farm connection is OK:usfuture",
    2105: "HMDS data farm connection is broken:ushmds",
    2106: "HMDS data farm connection is OK:ushmds",
}


@dataclass(frozen=True, slots=True)
class ListedMonth:
    """One listed futures month the gateway knows."""

    con_id: int
    symbol: str
    local_symbol: str  # e.g. CLG6
    last_trade_date: str  # YYYYMMDD
    exchange: str = "NYMEX"
    currency: str = "USD"
    multiplier: str = "1000"
    min_tick: str = "0.01"

    def contract_fields(self, with_exchange: bool = True) -> list[Field]:
        """conId .. tradingClass as most messages carry them."""
        head: list[Field] = [self.con_id, self.symbol, "FUT", self.last_trade_date, "0", "", self.multiplier]
        if with_exchange:
            head.append(self.exchange)
        return [*head, self.currency, self.local_symbol, self.symbol]


def handshake(now: float) -> bytes:
    return encode([SERVER_VERSION, time.strftime("%Y%m%d %H:%M:%S UTC", time.gmtime(now))])


def next_valid_id(order_id: int) -> bytes:
    return encode([9, 1, order_id])


def managed_accounts(accounts: str) -> bytes:
    return encode([15, 1, accounts])


def error(req_id: int, code: int, text: str) -> bytes:
    return encode([4, 2, req_id, code, text, ""])


def current_time(now: float) -> bytes:
    return encode([49, 1, int(now)])


def position(account: str, month: ListedMonth, qty: int, avg_cost: Decimal) -> bytes:
    return encode([61, 3, account, *month.contract_fields(), qty, avg_cost])


def position_end() -> bytes:
    return encode([62, 1])


def open_order_end() -> bytes:
    return encode([53, 1])


def completed_orders_end() -> bytes:
    return encode([102])


def account_download_end(account: str) -> bytes:
    return encode([54, 1, account])


def account_value(key: str, value: str, currency: str, account: str) -> bytes:
    return encode([6, 2, key, value, currency, account])


def account_summary_end(req_id: int) -> bytes:
    return encode([64, 1, req_id])


def account_update_multi_end(req_id: int) -> bytes:
    return encode([74, 1, req_id])


def contract_details(req_id: int, m: ListedMonth) -> bytes:
    month = m.last_trade_date[:6]
    fields: list[Field] = [
        10, req_id, m.symbol, "FUT", m.last_trade_date, "0", "", m.exchange, m.currency, m.local_symbol,
        m.symbol, m.symbol, m.con_id, m.min_tick, m.multiplier, "LMT,MKT", m.exchange, "1", "0",
        f"Light Sweet Crude Oil {month}", "", month, "", "", "", "US/Eastern", "", "", "", "", 0,
        "", m.symbol, "", "", m.last_trade_date, "", "1", "1", "1",
    ]  # fmt: skip
    return encode(fields)


def contract_details_end(req_id: int) -> bytes:
    return encode([52, 1, req_id])


def historical_data(req_id: int, bars: list[tuple[int, Decimal, Decimal, Decimal, Decimal, int]]) -> bytes:
    """Bars as (epoch minute, open, high, low, close, volume); dates as epoch seconds (formatDate=2)."""
    fields: list[Field] = [17, req_id, "", "", len(bars)]
    for minute, o, h, lo, c, v in bars:
        fields += [minute * 60, o, h, lo, c, v, c, max(1, v)]
    return encode(fields)


def historical_data_update(
    req_id: int, minute: int, o: Decimal, h: Decimal, lo: Decimal, c: Decimal, v: int
) -> bytes:
    return encode([90, req_id, max(1, v), minute * 60, o, c, h, lo, c, v])


def realtime_bar(
    req_id: int, start: int, o: Decimal, h: Decimal, lo: Decimal, c: Decimal, volume: int, count: int
) -> bytes:
    """One 5-second bar (IB's real-time bars), `start`: epoch seconds of its first second."""
    return encode([50, 3, req_id, start, o, h, lo, c, volume, c, count])


def tick_price(req_id: int, tick_type: int, price: Decimal, size: int) -> bytes:
    return encode([1, 6, req_id, tick_type, price, size, 0])


def order_status(
    order_id: int, status: str, filled: int, remaining: int, avg_price: Decimal | str, perm_id: int,
    last_price: Decimal | str, client_id: int,
) -> bytes:  # fmt: skip
    return encode(
        [3, order_id, status, filled, remaining, avg_price, perm_id, 0, last_price, client_id, "", ""]
    )


@dataclass(frozen=True, slots=True)
class OrderView:
    """What openOrder and execDetails need to know about an order."""

    order_id: int
    perm_id: int
    client_id: int
    month: ListedMonth
    action: str
    qty: int
    order_type: str
    limit: Decimal | None
    order_ref: str
    account: str


def open_order(o: OrderView, status: str) -> bytes:
    """openOrder: everything we do not use is empty (the decoder keeps its defaults); counts are 0."""
    lmt = "" if o.limit is None else o.limit
    head: list[Field] = [o.action, o.qty, o.order_type, lmt, "", "DAY", "", o.account, "", 0, o.order_ref]
    fields: list[Field] = [
        5, o.order_id, *o.month.contract_fields(), *head, o.client_id, o.perm_id,
        *[""] * 38,  # outsideRth .. deltaNeutralAuxPrice (no delta-neutral order)
        *[""] * 7,  # continuousUpdate .. comboLegsDescrip
        0, 0, 0,  # combo legs, order combo legs, smart combo routing params
        "", "", "",  # scale init/subs level size, scale price increment
        "",  # hedge type
        "", "", "", "", 0,  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld; no delta neutral
        "",  # algo strategy
        "", "", status, *[""] * 16,  # solicited, whatIf, status, margins .. randomizePrice
        0,  # conditions
        *[""] * 16,  # adjustedOrderType .. usePriceMgmtAlgo
        "", "", "",  # duration, postToAts, autoCancelParent (server >= 159, 160, 162)
        *[""] * 5,  # minTradeQty .. midOffsetAtHalf (server >= 170)
    ]  # fmt: skip
    return encode(fields)


def exec_details(
    req_id: int, o: OrderView, exec_id: str, ts: float, side: str, qty: int, price: Decimal, cum_qty: int
) -> bytes:
    when = time.strftime("%Y%m%d %H:%M:%S UTC", time.gmtime(ts))
    fields: list[Field] = [
        11, req_id, o.order_id, *o.month.contract_fields(),
        exec_id, when, o.account, o.month.exchange, side, qty, price, o.perm_id, o.client_id, 0, cum_qty,
        price, o.order_ref, "", "", "", 1,
    ]  # fmt: skip
    return encode(fields)


def exec_details_end(req_id: int) -> bytes:
    return encode([55, 1, req_id])


def commission_report(exec_id: str, commission: Decimal) -> bytes:
    return encode([59, 1, exec_id, commission, "USD", "", "", ""])
