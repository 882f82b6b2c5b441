"""Fill and round-trip records: what the host sends to Firehose and Athena queries.

Money is exact: prices and USD amounts are Decimal, P&L is counted in whole ticks first. JSON carries them as
numbers (a price on the 0.01 grid prints exactly).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from regime.contracts.numbers import json_number as _num
from regime.contracts.regime_item import Regime
from regime.contracts.timestamps import format_minute
from regime.contracts.timestamps import format_utc as _iso


def _iso_or_none(ts: datetime | None) -> str | None:
    return None if ts is None else _iso(ts)


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell."""
        return 1 if self is Side.BUY else -1


class Role(StrEnum):
    """What an execution did to the position: opened or increased it (entry), reduced or closed it (exit)."""

    ENTRY = "entry"
    EXIT = "exit"

    @classmethod
    def of_effect(cls, position: int, side: Side) -> Role:
        """The role of an execution on `side` against a signed `position`, from its effect alone.

        For a fill whose order the host does not know (placed elsewhere, or before a restart): it opens or
        increases the position -> entry; it reduces or closes it -> exit (a flip closes first, so exit).
        """
        return cls.EXIT if position * side.sign < 0 else cls.ENTRY


class ExitReason(StrEnum):
    TARGET = "target"
    TRAIL = "trail"
    STALE_TO_MARKET = "stale-to-market"
    FLATTEN = "flatten"
    KILL = "kill"
    MAX_HOLD = "max-hold"  # held strategy.max_hold_bars minute bars (the fast engine's code 5: keep last)


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution; `execution_id` is the dedupe key everywhere downstream."""

    execution_id: str
    order_id: str
    symbol: str
    side: Side
    qty: int
    price: Decimal
    ts: datetime
    commission_usd: Decimal
    regime: Regime
    zscore: float
    role: Role
    # Optional, for execution quality (trader_host/analytics/queries/execution_quality.sql); empty until the
    # host sets them.
    signal_ts: datetime | None = None  # when the strategy decided to send the order
    ack_ts: datetime | None = None  # when the broker acknowledged the order
    signal_price: Decimal | None = None  # the last price the signal saw (slippage is measured against it)
    order_type: str = ""  # "limit" or "market" (a stale exit replaced by a market order is "market")
    # An entry's ML decision (its window_end, the decision's key in the regimes table); None on exits, in
    # backtests and for orders that are not ours. P&L by regime joins on it, whatever the clocks did.
    decision_window_end: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "execution_id": self.execution_id,
            "order_id": self.order_id,
            "symbol": self.symbol,
            "side": self.side.value,
            "qty": self.qty,
            "price": _num(self.price),
            "ts": _iso(self.ts),
            "commission_usd": _num(self.commission_usd),
            "regime": self.regime.value,
            "zscore": round(self.zscore, 6),
            "role": self.role.value,
            "signal_ts": _iso_or_none(self.signal_ts),
            "ack_ts": _iso_or_none(self.ack_ts),
            "signal_price": None if self.signal_price is None else _num(self.signal_price),
            "order_type": self.order_type,
            "decision_window_end": (
                None if self.decision_window_end is None else format_minute(self.decision_window_end)
            ),  # the same text as the regimes table's window_end
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """An entry and its exit, with P&L in ticks, then gross, fees and net in USD."""

    trip_id: str
    symbol: str
    side: Side  # side of the entry
    qty: int
    entry_ts: datetime
    exit_ts: datetime
    entry_price: Decimal
    exit_price: Decimal
    regime: Regime
    zscore: float
    exit_reason: ExitReason
    pnl_ticks: int
    gross_usd: Decimal
    fees_usd: Decimal
    entry_execution_ids: tuple[str, ...] = ()
    exit_execution_ids: tuple[str, ...] = ()

    @property
    def net_usd(self) -> Decimal:
        return self.gross_usd - self.fees_usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "trip_id": self.trip_id,
            "symbol": self.symbol,
            "side": self.side.value,
            "qty": self.qty,
            "entry_ts": _iso(self.entry_ts),
            "exit_ts": _iso(self.exit_ts),
            "entry_price": _num(self.entry_price),
            "exit_price": _num(self.exit_price),
            "regime": self.regime.value,
            "zscore": round(self.zscore, 6),
            "exit_reason": self.exit_reason.value,
            "pnl_ticks": self.pnl_ticks,
            "gross_usd": _num(self.gross_usd),
            "fees_usd": _num(self.fees_usd),
            "net_usd": _num(self.net_usd),
            "entry_execution_ids": list(self.entry_execution_ids),
            "exit_execution_ids": list(self.exit_execution_ids),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))
