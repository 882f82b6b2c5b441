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
from trader_host.broker.ib.setup_errors import ContractNotListed

log = logging.getLogger(__name__)


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
            )
            return current
        log.warning("rolling %s -> %s (last trade %s)", current.localSymbol, month.localSymbol,
                    parsing.last_trade_date(current))  # fmt: skip
    else:
        log.info("trading %s (last trade %s)", month.localSymbol, parsing.last_trade_date(month))
    return month
