"""What the Trader answers to its readers: one frozen snapshot of its state.

The monitor, the host's metrics and the backtest reports read this instead of reaching into the strategy,
the executor, the ledger and the risk gate: they see values, never the live objects, so no reader can
change the Trader's state and the Trader's parts can change without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from regime.contracts import Regime, Side
from trading_engine.broker.port import Tick

if TYPE_CHECKING:  # the parts, only to be read here
    from trading_engine.execution.ledger import PositionLedger
    from trading_engine.execution.order_executor import OrderExecutor
    from trading_engine.risk.risk_gate import RiskGate
    from trading_engine.strategy.zscore_strategy import ZScoreStrategy


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
    z: float | None = None  # the z-score of the last tick (None until the strategy's window is full)
    last_tick_ts: float | None = None  # broker time of the last tick seen
    connected: bool = True  # the broker's connection, as its last event said
    feed_ended: bool = False  # the market data ended (a replay's end)


@dataclass(frozen=True, slots=True)
class Sensed:
    """What the Trader itself last saw of the market and the broker (beside its parts)."""

    last_tick: Tick | None
    last_z: float | None
    connected: bool
    feed_ended: bool
    disconnects: int


def snapshot_of(
    ledger: PositionLedger, risk: RiskGate, strategy: ZScoreStrategy, executor: OrderExecutor, sensed: Sensed
) -> TraderSnapshot:
    """The snapshot of a Trader made of these parts (`Trader.snapshot`)."""
    trade, tick = strategy.trade, sensed.last_tick
    last = None if tick is None else tick.last
    trip = None
    if ledger.open_side is not None:
        entry, stop = (None, None) if trade is None else (trade.entry_price, trade.stop.level)
        trip = OpenTripState(ledger.open_side, ledger.open_regime, entry, stop)
    stats = strategy.stats
    return TraderSnapshot(
        position=ledger.position,
        band=None if stats.zscore(0) is None else ZScoreBand(stats.mean, stats.sd),
        open_trip=trip,
        last=last,
        unrealised_ticks=0.0 if last is None else ledger.unrealised_ticks(last),
        realised_net_usd=ledger.realised_net_usd,
        fees_usd=ledger.fees_usd,
        fills=len(ledger.fills),
        round_trips=len(ledger.round_trips),
        working_orders=len(executor.active),
        rejects=executor.rejects,
        disconnects=sensed.disconnects,
        risk=RiskState(
            kill_reason=risk.kill_reason,
            shutting_down=risk.shutting_down,
            loss_limit_hit=risk.loss_limit_hit,
            loss_limit_days=risk.loss_limit_days,
            day_realised_net_usd=ledger.realised_net_usd - risk.day_start_net,
            max_daily_loss_usd=risk.max_daily_loss_usd,
        ),
        z=sensed.last_z,
        last_tick_ts=None if tick is None else tick.ts,
        connected=sensed.connected,
        feed_ended=sensed.feed_ended,
    )
