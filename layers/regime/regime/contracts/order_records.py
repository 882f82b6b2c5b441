"""Order outcomes and risk events: what the host sends to the lake beside its fills and round trips.

An OrderOutcome is written once per order, when the order reaches its one final state (filled, cancelled or
rejected): it is how the lake sees the orders that never filled (a stale entry given up, a stale exit
replaced by a market order, a broker reject). A RiskEvent is written when the risk gate stops trading: the
daily loss limit, or a kill. Dedupe keys downstream: `order_id`; `event_id` (symbol, kind, trading day).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from regime.contracts.numbers import json_number as _num
from regime.contracts.regime_item import Regime
from regime.contracts.timestamps import format_utc as _iso
from regime.contracts.trade_records import ExitReason, Fill, Role, RoundTrip, Side

ORDER_TYPES = ("limit", "market")


class OrderFinalState(StrEnum):
    """The final states of an order (the executor's OrderState holds the same values)."""

    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class RiskEventKind(StrEnum):
    # The day's net reached -max_daily_loss_usd: flatten, no entries until the session close.
    LOSS_LIMIT = "loss-limit"
    KILL = "kill"  # halted for good: the kill switch, or a failure of the host


def _ts(value: Any, key: str) -> datetime:
    try:
        ts = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{key}: not an ISO-8601 time: {value!r}") from None
    if ts.tzinfo is None:
        raise ValueError(f"{key}: no time zone: {value!r}")
    return ts


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """One order at its final state: what was asked, when, how it ended and why."""

    order_id: str
    symbol: str
    role: Role
    side: Side
    qty: int
    order_type: str  # "limit" | "market"
    limit_price: Decimal | None  # on the tick grid; None for a market order
    placed_ts: datetime
    final_ts: datetime
    final_state: OrderFinalState
    filled_qty: int
    stale: bool  # timed out before it was completely filled (a cancel was sent)
    # Why it ended: "filled", "stale timeout", "stale timeout, replaced by market", "flatten", ...
    reason: str
    regime: Regime = Regime.NOTHING  # the regime the order was sent under
    exit_reason: ExitReason | None = None  # for an exit: why the position was being closed
    signal_price: Decimal | None = None  # the last price the decision saw
    # 0, or how many times the outcome was revised: an execution reported after the order's final state (a
    # cancel that lost the race with a fill) is told by a new record of the same order; readers keep the
    # highest revision.
    revision: int = 0

    def __post_init__(self) -> None:
        if self.qty < 1:
            raise ValueError(f"order {self.order_id}: qty must be >= 1, got {self.qty}")
        if self.filled_qty < 0:
            raise ValueError(f"order {self.order_id}: filled_qty must be >= 0, got {self.filled_qty}")
        if self.revision < 0:
            raise ValueError(f"order {self.order_id}: revision must be >= 0, got {self.revision}")
        if self.order_type not in ORDER_TYPES:
            raise ValueError(f"order {self.order_id}: order_type must be one of {ORDER_TYPES}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "symbol": self.symbol,
            "role": self.role.value,
            "side": self.side.value,
            "qty": self.qty,
            "order_type": self.order_type,
            "limit_price": None if self.limit_price is None else _num(self.limit_price),
            "placed_ts": _iso(self.placed_ts),
            "final_ts": _iso(self.final_ts),
            "final_state": self.final_state.value,
            "filled_qty": self.filled_qty,
            "stale": self.stale,
            "reason": self.reason,
            "regime": self.regime.value,
            "exit_reason": None if self.exit_reason is None else self.exit_reason.value,
            "signal_price": None if self.signal_price is None else _num(self.signal_price),
            "revision": self.revision,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OrderOutcome:
        """The record back from its JSON; raises ValueError naming the bad field."""
        try:
            exit_reason = d.get("exit_reason")
            return cls(
                order_id=str(d["order_id"]),
                symbol=str(d["symbol"]),
                role=Role(d["role"]),
                side=Side(d["side"]),
                qty=int(d["qty"]),
                order_type=str(d["order_type"]),
                limit_price=_dec(d.get("limit_price")),
                placed_ts=_ts(d["placed_ts"], "placed_ts"),
                final_ts=_ts(d["final_ts"], "final_ts"),
                final_state=OrderFinalState(d["final_state"]),
                filled_qty=int(d["filled_qty"]),
                stale=bool(d["stale"]),
                reason=str(d["reason"]),
                regime=Regime(d.get("regime", Regime.NOTHING.value)),
                exit_reason=None if exit_reason is None else ExitReason(exit_reason),
                signal_price=_dec(d.get("signal_price")),
                revision=int(d.get("revision", 0)),
            )
        except KeyError as exc:
            raise ValueError(f"order outcome: missing {exc.args[0]}") from None


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """The risk gate stopped trading `symbol` on `trading_day` (the session date, as the gate counts days)."""

    symbol: str
    ts: datetime
    kind: RiskEventKind
    trading_day: date
    day_net_usd: Decimal  # the day's net at the event: realised since the day began plus the open P&L
    detail: str

    @property
    def event_id(self) -> str:
        """The dedupe key: one event of a kind per symbol and trading day (a restart that trips it again
        the same day repeats the id, so the lake keeps one)."""
        return f"{self.symbol}:{self.kind.value}:{self.trading_day.isoformat()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "symbol": self.symbol,
            "ts": _iso(self.ts),
            "kind": self.kind.value,
            "trading_day": self.trading_day.isoformat(),
            "day_net_usd": _num(self.day_net_usd),
            "detail": self.detail,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RiskEvent:
        """The record back from its JSON; raises ValueError naming the bad field."""
        try:
            return cls(
                symbol=str(d["symbol"]),
                ts=_ts(d["ts"], "ts"),
                kind=RiskEventKind(d["kind"]),
                trading_day=date.fromisoformat(str(d["trading_day"])),
                day_net_usd=Decimal(str(d["day_net_usd"])),
                detail=str(d["detail"]),
            )
        except KeyError as exc:
            raise ValueError(f"risk event: missing {exc.args[0]}") from None


# Everything the trader hands to its record sink (the journal), each kind to its own lake table.
TradeRecord = Fill | RoundTrip | OrderOutcome | RiskEvent
