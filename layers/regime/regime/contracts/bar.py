"""The Bar contract: one 1-minute OHLCV bar, as it travels on Kinesis (JSON, partition key = symbol)."""

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


_REQUIRED = ("symbol", "ts", "open", "high", "low", "close", "volume", "source")


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
    price = float(value)
    if not math.isfinite(price) or price <= 0:
        raise BarError(f"{field}: must be a positive finite number, got {value!r}")
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
        if self.volume < 0:
            raise BarError(f"volume: must be >= 0, got {self.volume}")

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
