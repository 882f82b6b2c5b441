"""Which futures month to trade: the front month from IB's contract details, rolled before expiry.

Asked at every connect and reconnect; IB Gateway's daily restart makes that at least once a day.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from trader_host.broker.ib import parsing
from trader_host.broker.ib.bounded import bounded
from trader_host.broker.ib.config import IbConfig
from trader_host.broker.ib.ib_api import IB, Contract, RequestError
from trader_host.broker.ib.setup_errors import ContractNotListed, MonthsMixed

log = logging.getLogger(__name__)


def held_month(held: list[tuple[Contract, int]], current: Contract | None) -> tuple[Contract | None, int]:
    """The month our position is in (it stays the traded month until flat) and the position; else the
    current month, flat. A position in two months at once is not this host's doing: it stops."""
    if len(held) > 1:
        months = ", ".join(f"{c.localSymbol} {qty:+d}" for c, qty in held)
        raise MonthsMixed(f"positions in several months of {held[0][0].symbol} ({months}): flatten all but "
                          "one at the broker, then restart")  # fmt: skip
    if held:
        return held[0]
    return current, 0


async def trading_month(
    ib: IB, config: IbConfig, now: float, current: Contract | None, position: int
) -> Contract:
    """The month to trade at `now`; keeps `current` while it holds a position (unless carrying is allowed)."""
    query = parsing.futures_query(config.symbol, config.exchange, config.currency)
    unknown = ContractNotListed(
        f"IB lists no {config.symbol} future on {config.exchange} ({config.currency}): check the symbol and "
        "exchange, and that the account may see this market"
    )
    try:
        details = await bounded(
            lambda: ib.reqContractDetailsAsync(query),
            "contract details",
            "reqContractDetails",
            config.contract_details_timeout_s,
            config.request_attempts,
        )
    except RequestError as exc:
        if exc.code == parsing.NO_SECURITY_DEFINITION:
            raise unknown from None
        raise
    if not details:
        raise unknown
    today = datetime.fromtimestamp(now, tz=UTC).date()
    try:
        month = parsing.front_month(details, today, config.roll_days)
    except ValueError as exc:
        raise ContractNotListed(f"{exc}: the listing has no month to trade") from None
    if current is not None and current.conId != month.conId:
        if position and not config.carry_across_roll:
            log.warning(
                "roll due to %s but %d contract(s) open in %s: staying on %s until flat",
                month.localSymbol,
                position,
                current.localSymbol,
                current.localSymbol,
            )  # IB's full definition of it (a position's contract lacks the exchange)
            return next(
                (d.contract for d in details if d.contract and d.contract.conId == current.conId), current
            )
        log.warning("rolling %s -> %s (last trade %s)", current.localSymbol, month.localSymbol,
                    parsing.last_trade_date(current))  # fmt: skip
    else:
        log.info("trading %s (last trade %s)", month.localSymbol, parsing.last_trade_date(month))
    return month
