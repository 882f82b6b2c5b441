"""The Bar contract: one 1-minute OHLCV bar, as it travels on Kinesis (JSON, partition key = symbol).

Its bounds are defined here once, for every reader of bars (ingest, the command line's bars-file loaders):
a price or a volume a DynamoDB Number cannot hold (38 digits, 1E-130 to 1E+126) fails a whole write batch,
and one the contract's tick arithmetic cannot hold (prices become integer ticks) fails a replay. The bounds
below are far inside both and far outside any real market's prices.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from regime.contracts.timestamps import format_minute


class BarError(ValueError):
    """A bar that breaks the contract; the message names the field and what is wrong with it."""


class BarSource(StrEnum):
    IB = "ib"
    SIM = "sim"
    REPLAY = "replay"


_PRICES = ("open", "high", "low", "close")
_REQUIRED = ("symbol", "ts", "open", "high", "low", "close", "volume", "source")

PRICE_MIN = 1e-6  # a price under this is a unit error (no tick is smaller)
PRICE_MAX = 1e7  # ten million per unit: no futures contract trades near it
VOLUME_MAX = 10**12  # contracts (or trades, for `count`) in one minute
TS_MIN = datetime(1970, 1, 1, tzinfo=UTC)  # a bar's minute is inside [TS_MIN, TS_MAX)
TS_MAX = datetime(2100, 1, 1, tzinfo=UTC)
PRICE_JUMP_MAX = 5.0  # a bar this many times above or below the last known close is a bad print


def price_problem(value: float, field: str) -> str | None:
    """What is wrong with `value` as the price `field` (None: nothing): finite, in [PRICE_MIN, PRICE_MAX]."""
    if not math.isfinite(value):
        return f"{field}: must be a finite number, got {value!r}"
    if not PRICE_MIN <= value <= PRICE_MAX:
        return f"{field}: must be between {PRICE_MIN:g} and {PRICE_MAX:g}, got {value!r}"
    return None


def volume_problem(value: int, field: str) -> str | None:
    """What is wrong with `value` as the count `field` (volume, count): whole, in [0, VOLUME_MAX]."""
    if not 0 <= value <= VOLUME_MAX:
        return f"{field}: must be between 0 and {VOLUME_MAX:,}, got {value!r}"
    return None


def minute_problem(ts: datetime, field: str = "ts") -> str | None:
    """What is wrong with `ts` as a bar's minute (None: nothing): inside [TS_MIN, TS_MAX)."""
    if not TS_MIN <= ts < TS_MAX:
        return f"{field}: must be in {TS_MIN.year}-{TS_MAX.year - 1}, got {ts.isoformat()}"
    return None


def jump_problem(bar: Bar, last_close: float | None) -> str | None:
    """A bar more than PRICE_JUMP_MAX times above or below the last known close of its symbol (None: it is
    not, or no close is known): a bad print, however valid each number is alone."""
    if last_close is None or last_close <= 0:
        return None
    for field, price in (("high", bar.high), ("low", bar.low)):
        ratio = price / last_close
        if ratio > PRICE_JUMP_MAX or ratio < 1 / PRICE_JUMP_MAX:
            return (
                f"{field}: {price!r} is {ratio:.3g}x the last close {last_close!r} "
                f"(more than {PRICE_JUMP_MAX:g}x away)"
            )
    return None


def parse_minute(value: object, field: str = "ts") -> datetime:
    """Parse a UTC ISO-8601 minute start ('2026-01-15T18:49:00Z'); anything else is a BarError."""
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise BarError(f"{field}: not an ISO-8601 timestamp: {value!r}") from exc
    else:
        raise BarError(f"{field}: expected an ISO-8601 string, got {type(value).__name__}")
    if ts.tzinfo is None or ts.utcoffset() != UTC.utcoffset(None):
        raise BarError(f"{field}: must be UTC with an explicit offset: {value!r}")
    if ts.second or ts.microsecond:
        raise BarError(f"{field}: must be a minute start, got {value!r}")
    return ts.astimezone(UTC)


def _price(record: dict[str, Any], field: str) -> float:
    value = record[field]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BarError(f"{field}: expected a number, got {value!r}")
    try:
        price = float(value)
    except OverflowError:  # an integer beyond any float
        raise BarError(f"{field}: must be between {PRICE_MIN:g} and {PRICE_MAX:g}, got {value!r}") from None
    problem = price_problem(price, field)
    if problem:
        raise BarError(problem)
    return price


@dataclass(frozen=True, slots=True)
class Bar:
    """A 1-minute bar; `ts` is the UTC start of its minute."""

    symbol: str
    ts: datetime
    open: float
    high: float
    low: float
    close: float
    volume: int
    source: BarSource
    wap: float | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if not self.symbol or not self.symbol.isascii() or not self.symbol.replace("_", "").isalnum():
            raise BarError(f"symbol: expected a non-empty alphanumeric symbol, got {self.symbol!r}")
        if self.low > min(self.open, self.close) or self.high < max(self.open, self.close):
            raise BarError(
                f"ohlc: need low <= open,close <= high, got o={self.open} h={self.high} "
                f"l={self.low} c={self.close}"
            )
        problem = (
            minute_problem(self.ts)
            or next(filter(None, (price_problem(getattr(self, f), f) for f in _PRICES)), None)
            or (price_problem(self.wap, "wap") if self.wap is not None else None)
            or volume_problem(self.volume, "volume")
            or (volume_problem(self.count, "count") if self.count is not None else None)
        )
        if problem:
            raise BarError(problem)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Bar:
        """Validate a decoded record; raise BarError naming the first field that is wrong."""
        if not isinstance(record, dict):
            raise BarError(f"record: expected a JSON object, got {type(record).__name__}")
        missing = [f for f in _REQUIRED if f not in record]
        if missing:
            raise BarError(f"missing field(s): {', '.join(missing)}")
        symbol = record["symbol"]
        if not isinstance(symbol, str):
            raise BarError(f"symbol: expected a string, got {symbol!r}")
        try:
            source = BarSource(record["source"])
        except ValueError as exc:
            raise BarError(f"source: expected one of ib|sim|replay, got {record['source']!r}") from exc
        volume = record["volume"]
        if isinstance(volume, bool) or not isinstance(volume, int | float) or volume != int(volume):
            raise BarError(f"volume: expected a whole number, got {volume!r}")
        wap = _price(record, "wap") if record.get("wap") is not None else None
        count = record.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise BarError(f"count: expected a non-negative integer, got {count!r}")
        return cls(
            symbol=symbol,
            ts=parse_minute(record["ts"]),
            open=_price(record, "open"),
            high=_price(record, "high"),
            low=_price(record, "low"),
            close=_price(record, "close"),
            volume=int(volume),
            source=source,
            wap=wap,
            count=count,
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> Bar:
        """Decode and validate one Kinesis record payload."""
        try:
            record = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BarError(f"record: not valid JSON ({exc})") from exc
        return cls.from_dict(record)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready record (optional fields omitted when absent)."""
        record: dict[str, Any] = {
            "symbol": self.symbol,
            "ts": format_minute(self.ts),
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume": self.volume,
            "source": self.source.value,
        }
        if self.wap is not None:
            record["wap"] = self.wap
        if self.count is not None:
            record["count"] = self.count
        return record

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


# Bounds of a plausible bar, shared by ingest and the command line's bars files. Far outside any futures
# market (crude's record is under 150 USD, an index future's in the tens of thousands) yet well inside what
# DynamoDB's Number and a float's exact arithmetic on a tick grid can hold: a value outside them is a broken
# feed or a file in the wrong units, never a price.
MAX_PRICE = 1e7
MAX_VOLUME = 1e12
FIRST_BAR = datetime(1980, 1, 1, tzinfo=UTC)  # before electronic futures data
LAST_BAR = datetime(2200, 1, 1, tzinfo=UTC)  # a clock or file error, not a session


def check_bar_bounds(*, prices: dict[str, float], volume: float, ts: datetime) -> str | None:
    """What is out of bounds in one bar, as a phrase naming the field and the bound; None when all hold."""
    for name, value in prices.items():
        if not 0 < value <= MAX_PRICE:
            return f"{name} {value:g} is outside (0, {MAX_PRICE:g}]"
    if not 0 <= volume <= MAX_VOLUME:
        return f"volume {volume:g} is outside [0, {MAX_VOLUME:g}]"
    if not FIRST_BAR <= ts < LAST_BAR:
        return f"ts {ts.isoformat()} is outside [{FIRST_BAR:%Y-%m-%d}, {LAST_BAR:%Y-%m-%d})"
    return None
