"""Contract specifications: tick size, tick value and the trading calendar of each futures symbol.

Prices inside the host are whole ticks (int); a spec converts them to exact Decimal prices and USD.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from regime.contracts.synthetic_calendar import DAILY_BREAK_END_UTC, DAILY_BREAK_START_UTC


class UnknownInstrument(KeyError):
    """A symbol with no contract specification."""


@dataclass(frozen=True, slots=True)
class SessionHours:
    """A daily session that closes at `close` and reopens at `reopen` (exchange local time, `tz`).

    CME Globex energy and equity futures: Sunday-Friday 18:00-17:00 New York time, a one-hour daily break.
    The synthetic market uses the same shape in UTC (`regime.contracts.synthetic_calendar`), see
    `SYNTHETIC_SESSION`.
    """

    tz: str
    close: time
    reopen: time

    def _local(self, ts: float) -> datetime:
        return datetime.fromtimestamp(ts, tz=ZoneInfo(self.tz))

    def next_close(self, ts: float) -> float:
        """Epoch seconds of the first session close at or after `ts` (Saturday/Sunday have none)."""
        local = self._local(ts)
        day = local.date()
        if local.time() >= self.close:
            day += timedelta(days=1)
        while day.weekday() >= 5:  # no session closes on Saturday or Sunday
            day += timedelta(days=1)
        return datetime.combine(day, self.close, ZoneInfo(self.tz)).timestamp()

    def seconds_to_close(self, ts: float) -> float:
        """Seconds until the next daily break (or weekend close)."""
        return self.next_close(ts) - ts

    def is_open(self, ts: float) -> bool:
        """True inside a session: not in the daily break, not over the weekend."""
        local = self._local(ts)
        t, wd = local.time(), local.weekday()
        in_break = self.close <= t < self.reopen
        weekend = wd == 5 or (wd == 4 and t >= self.close) or (wd == 6 and t < self.reopen)
        return not in_break and not weekend

    def trading_date(self, ts: float) -> date:
        """The session date `ts` belongs to: the date of the close that ends its session."""
        return datetime.fromtimestamp(self.next_close(ts), tz=ZoneInfo(self.tz)).date()


CME_GLOBEX = SessionHours(tz="America/New_York", close=time(17, 0), reopen=time(18, 0))
SYNTHETIC_SESSION = SessionHours(tz="UTC", close=DAILY_BREAK_START_UTC, reopen=DAILY_BREAK_END_UTC)


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """One futures contract: price grid, money per tick, exchange and calendar."""

    symbol: str
    exchange: str
    tick_size: Decimal
    tick_value_usd: Decimal
    session: SessionHours
    description: str = ""
    # Posted margin per contract, for the return on margin (infra/athena/trade_statistics.sql holds the same
    # numbers: a test keeps them equal). Approximate exchange initial margins; a broker may ask for more.
    margin_usd: Decimal = Decimal("0")

    def to_ticks(self, price: float | Decimal | str) -> int:
        """Nearest whole tick of a price; a price off the grid by more than a rounding error is an error."""
        exact = Decimal(str(price)) / self.tick_size
        ticks = int(exact.to_integral_value())
        if abs(exact - ticks) > Decimal("0.001"):
            raise ValueError(f"{self.symbol}: price {price} is not on the {self.tick_size} tick grid")
        return ticks

    def price(self, ticks: int) -> Decimal:
        """The exact price of a whole number of ticks."""
        return ticks * self.tick_size

    def usd(self, ticks: int) -> Decimal:
        """USD value of a P&L in ticks (per contract already multiplied in)."""
        return ticks * self.tick_value_usd

    def with_session(self, session: SessionHours) -> ContractSpec:
        """The same contract on another calendar (the synthetic market's UTC break)."""
        return replace(self, session=session)


CONTRACTS: dict[str, ContractSpec] = {
    "CL": ContractSpec(
        "CL", "NYMEX", Decimal("0.01"), Decimal("10"), CME_GLOBEX, "WTI crude oil, 1,000 bbl", Decimal("5000")
    ),
    "MCL": ContractSpec(
        "MCL",
        "NYMEX",
        Decimal("0.01"),
        Decimal("1"),
        CME_GLOBEX,
        "Micro WTI crude oil, 100 bbl",
        Decimal("500"),
    ),
    "MES": ContractSpec(
        "MES",
        "CME",
        Decimal("0.25"),
        Decimal("1.25"),
        CME_GLOBEX,
        "Micro E-mini S&P 500, 5 USD x",
        Decimal("1500"),
    ),
}


def contract(symbol: str) -> ContractSpec:
    """The spec of `symbol`; an unknown symbol names the known ones."""
    try:
        return CONTRACTS[symbol.upper()]
    except KeyError:
        raise UnknownInstrument(
            f"no contract spec for {symbol!r}; known: {', '.join(sorted(CONTRACTS))}"
        ) from None


def utc(ts: float) -> datetime:
    """Epoch seconds as an aware UTC datetime (records carry datetimes)."""
    return datetime.fromtimestamp(ts, tz=UTC)
