"""What the Trader answers to its readers: one frozen snapshot of its state.

The monitor, the host's metrics and the backtest reports read this instead of reaching into the strategy,
the executor, the ledger and the risk gate: they see values, never the live objects, so no reader can
change the Trader's state and the Trader's parts can change without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from regime.contracts import Regime, Side


@dataclass(frozen=True, slots=True)
class OpenTripState:
    """The open position: the ledger's side and regime, the strategy's entry and stop (prices in ticks)."""

    side: Side
    regime: Regime | None  # the regime at entry, as the ledger books it
    entry_price: int | None  # None while the strategy manages no trade (e.g. a position found at restart)
    stop: int | None  # the trailing stop's level now


@dataclass(frozen=True, slots=True)
class RiskState:
    """The risk gate's answers: halted, why, and the day's P&L against its loss limit."""

    kill_reason: str | None
    shutting_down: bool
    loss_limit_hit: bool
    loss_limit_days: int  # trading days the daily loss limit stopped
    day_realised_net_usd: Decimal  # realised net since the current trading day began
    max_daily_loss_usd: float  # the day's loss limit for this instrument


@dataclass(frozen=True, slots=True)
class ZScoreBand:
    """The strategy's rolling window of minute closes, in ticks: the z-score is (price - mean) / sd."""

    mean: float
    sd: float


@dataclass(frozen=True, slots=True)
class TraderSnapshot:
    """Position, P&L, counters and risk state at one moment."""

    position: int  # signed contracts
    band: ZScoreBand | None  # None until the strategy has a z-score (full window, closes not all equal)
    open_trip: OpenTripState | None
    last: int | None  # the last traded price seen, in ticks
    unrealised_ticks: float  # the open position marked at `last` (0 without a price)
    realised_net_usd: Decimal
    fees_usd: Decimal
    fills: int
    round_trips: int
    working_orders: int
    rejects: int  # orders that ended rejected
    disconnects: int  # connection losses seen
    risk: RiskState
