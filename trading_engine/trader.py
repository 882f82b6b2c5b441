"""Trader: the pure core of one symbol. Broker events in, commands and trade records out.

The same object runs live (IB), against the simulated broker and in backtests: it never performs I/O, it
never reads a clock (every call carries `now`, the broker's time), and it does not know which broker it
talks to. The session that owns it sends its commands and ships its records.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from regime.contracts import ExitReason, Regime, Side, TradeRecord
from trading_engine.broker.port import (
    BrokerEvent,
    ConnectionChanged,
    Execution,
    FeedEnded,
    MinuteBar,
    OpenOrder,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderStatus,
    OrderType,
    SeriesRestarted,
    Tick,
)
from trading_engine.config import HostConfig
from trading_engine.execution.commands import Command
from trading_engine.execution.exit_policy import ExitOrder, exit_order
from trading_engine.execution.ledger import FillContext, PositionLedger
from trading_engine.execution.order import Order, Role
from trading_engine.execution.order_executor import OrderExecutor
from trading_engine.execution.order_outcome import order_outcome
from trading_engine.instruments import ContractSpec
from trading_engine.risk.risk_gate import RiskGate
from trading_engine.strategy.zscore_strategy import ZScoreStrategy
from trading_engine.trader_snapshot import OpenTripState, RiskState, TraderSnapshot, ZScoreBand

log = logging.getLogger(__name__)
_NO_CONTEXT = FillContext(None, Regime.NOTHING, 0.0, None)  # not our order: the ledger infers its role


class Trader:
    """Strategy + execution + risk + ledger for one symbol."""

    def __init__(self, spec: ContractSpec, config: HostConfig, id_prefix: str = "o") -> None:
        self.spec = spec
        self.config = config
        self.strategy = ZScoreStrategy(config.strategy, spec.session.tz)
        self.executor = OrderExecutor(spec.symbol, config.execution, id_prefix)
        self.ledger = PositionLedger(spec)
        self.risk = RiskGate(config.risk, spec)
        self.last_tick: Tick | None = None
        self.last_z: float | None = None
        self.connected = True
        self.disconnects = 0  # connection losses seen (the host's metrics count them)
        self.feed_ended = False
        self.max_abs_position = 0
        self._exit_reason: ExitReason | None = None  # the exit under way for the open position
        self._exit_to_market = False  # a stale exit: the rest goes at market
        self._restart_flatten = False  # a position found at restart, to close at market
        self._adopt_pending = False  # ... or to keep: its trailing stop is armed on the next tick
        self._records: list[TradeRecord] = []

    # -- queries ---------------------------------------------------------------------------------------------
    @property
    def position(self) -> int:
        return self.ledger.position

    @property
    def is_idle(self) -> bool:
        """Flat with no live order."""
        return self.ledger.position == 0 and not self.executor.active

    def snapshot(self) -> TraderSnapshot:
        """The Trader's state as values, for its readers (monitor, metrics, reports)."""
        ledger, risk, trade = self.ledger, self.risk, self.strategy.trade
        last = None if self.last_tick is None else self.last_tick.last
        trip = None
        if ledger.open_side is not None:
            entry, stop = (None, None) if trade is None else (trade.entry_price, trade.stop.level)
            trip = OpenTripState(ledger.open_side, ledger.open_regime, entry, stop)
        stats = self.strategy.stats
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
            working_orders=len(self.executor.active),
            rejects=self.executor.rejects,
            disconnects=self.disconnects,
            risk=RiskState(
                kill_reason=risk.kill_reason,
                shutting_down=risk.shutting_down,
                loss_limit_hit=risk.loss_limit_hit,
                loss_limit_days=risk.loss_limit_days,
                day_realised_net_usd=ledger.realised_net_usd - risk.day_start_net,
                max_daily_loss_usd=risk.max_daily_loss_usd,
            ),
        )

    def reemit(self, record: TradeRecord) -> None:
        """Hand a record to the sinks again (a round trip a kill kept out of the journal)."""
        self._records.append(record)

    def take_records(self) -> list[TradeRecord]:
        """Records produced since the last call (for the sinks): fills and round trips, then the outcome of
        every order that reached its final state, then the risk gate's events."""
        records, self._records = self._records, []
        records += [order_outcome(o, self.spec) for o in self.executor.take_finished()]
        records += self.risk.take_events()
        return records

    def next_deadline(self) -> float | None:
        return self.executor.next_deadline()

    # -- control ---------------------------------------------------------------------------------------------
    def kill(self, now: float, source: str) -> list[Command]:
        """Kill switch: halt for good and flatten."""
        self.risk.engage_kill(now, source)
        return self.on_time(now)

    def adopt_orphan(self, open_order: OpenOrder, now: float) -> list[Command]:
        """A working order left by a previous process: cancel it, and book whatever it fills meanwhile."""
        role = Role.of_effect(self.ledger.position, open_order.request.side)
        return [self.executor.adopt(open_order, role, now)]

    def on_restart_position(self) -> None:
        """An open position survived a restart: flatten it at market, or adopt it (risk.restart_position)."""
        if self.config.risk.restart_position == "adopt":
            self._adopt_pending = True
            log.warning(
                "restart: adopting position %d; its trailing stop is armed on the next tick", self.position
            )
        else:
            self._restart_flatten = True
            log.warning("restart: flattening position %d at market", self.position)

    def shutdown(self, now: float) -> list[Command]:
        """Orderly stop: no more entries, close the position."""
        self.risk.begin_shutdown()
        return self.on_time(now)

    # -- events ----------------------------------------------------------------------------------------------
    def on_event(
        self,
        event: BrokerEvent | None,
        now: float,
        regime: Regime,
        decision: datetime | None = None,
        confidence: float | None = None,
    ) -> list[Command]:
        """Handle one broker event (None: a timer wake-up) and return the commands to send.

        `decision` is the window_end of the ML decision behind `regime` (recorded on entry fills), if any;
        `confidence` its vote confidence (strategy.min_confidence), None for a regime without one.
        """
        if isinstance(event, Tick):
            return self.on_tick(event, now, regime, decision, confidence)
        if isinstance(event, MinuteBar):
            self.strategy.on_bar(event)
            return self.on_time(now)
        if isinstance(event, SeriesRestarted):
            self.strategy.restart_series()
            for bar in event.bars:
                self.strategy.on_bar(bar)
            log.warning("price series restarts (%s): warmed up again with %d bar(s)", event.reason,
                        len(event.bars))  # fmt: skip
            return self.on_time(now)
        if isinstance(event, Execution):
            self.executor.on_execution(event)
        elif isinstance(event, OrderAccepted):
            self.executor.on_accepted(event)
        elif isinstance(event, OrderCancelled):
            commands = self.executor.on_cancelled(event)
            self._book_fills(now)
            return commands + self.on_time(now)
        elif isinstance(event, OrderRejected):
            self.executor.on_rejected(event)
        elif isinstance(event, OrderStatus):
            commands = self.executor.on_status(event)
            self._book_fills(now)
            return commands + self.on_time(now)
        elif isinstance(event, ConnectionChanged):
            self.connected = event.connected
            self.disconnects += not event.connected
            log.warning("broker %s at %.3f", "connected" if event.connected else "DISCONNECTED", now)
            if event.connected:
                return self.executor.query_all(now) + self.on_time(now)
            return []
        elif isinstance(event, FeedEnded):
            self.feed_ended = True
        self._book_fills(now)
        return self.on_time(now)

    def on_tick(
        self,
        tick: Tick,
        now: float,
        regime: Regime,
        decision: datetime | None = None,
        confidence: float | None = None,
    ) -> list[Command]:
        self.last_tick = tick
        z = self.last_z = self.strategy.zscore(tick.last)
        if self._adopt_pending:
            self._adopt_pending = False
            side = self.ledger.open_side
            if side is not None:
                self.strategy.open_trade(side, self.ledger.open_regime or Regime.NOTHING, tick.last)
        commands = self.executor.on_time(now) if self.executor.active else []
        if self.ledger.position:
            reason = self.strategy.exit_signal(tick.last, z)  # every tick: it ratchets the trailing stop
            if reason is not None and self._exit_reason is None:
                log.info(
                    "exit signal %s at %.3f: last %d z %s stop %s",
                    reason,
                    now,
                    tick.last,
                    z,
                    self.strategy.trade.stop.level if self.strategy.trade else None,
                )
                self._exit_reason = reason
        commands += self._manage(now)
        if self.is_idle and not self.feed_ended:
            commands += self._maybe_enter(tick, z, now, regime, decision, confidence)
        return commands

    def on_time(self, now: float) -> list[Command]:
        """Timeouts and position management without a new tick."""
        commands = self.executor.on_time(now) if self.executor.active else []
        return commands + self._manage(now)

    def send_failed(self, order_id: str, now: float, reason: str) -> list[Command]:
        """A place request could not be sent: the order is rejected; the next tick decides again."""
        self.executor.send_failed(order_id, now, reason)
        return []

    # -- internals -------------------------------------------------------------------------------------------
    def _book_fills(self, now: float) -> None:
        for ex, order in self.executor.take_fills():
            ctx = (
                _NO_CONTEXT
                if order is None
                else FillContext(
                    order.role,
                    order.regime,
                    order.zscore,
                    order.exit_reason,
                    order.submitted_at,
                    order.acked_at,
                    order.signal_price,
                    "market" if order.is_market else "limit",
                    order.decision_window_end,
                )
            )
            before = self.ledger.position
            fill, closed = self.ledger.apply(ex, ctx)
            self._records.append(fill)
            self._records.extend(closed)
            after = self.ledger.position
            self.max_abs_position = max(self.max_abs_position, abs(after))
            log.info(
                "fill %s %s %s x%d @%s comm %s: position %d -> %d",
                ex.execution_id,
                ex.order_id,
                ex.side,
                ex.qty,
                fill.price,
                ex.commission_usd,
                before,
                after,
            )
            if closed or after == 0:
                self.strategy.close_trade()
                self._exit_reason = None
                self._exit_to_market = False
                self._restart_flatten = False
            if after != 0 and (before == 0 or closed):
                side = Side.BUY if after > 0 else Side.SELL
                self.strategy.open_trade(side, order.regime if order else Regime.NOTHING, ex.price)

    def _manage(self, now: float) -> list[Command]:
        """Work the exit of an open position: flatten demanded by risk, or the strategy's exit."""
        self._book_fills(now)
        tick = self.last_tick
        unreal = self.ledger.unrealised_ticks(tick.last) if tick is not None else 0.0
        forced = self.risk.flatten_reason(now, self.ledger.realised_net_usd, unreal)
        if any(o.stale for o in self.executor.alive(Role.EXIT)):
            self._exit_to_market = True
        if forced is None and self._restart_flatten and self.ledger.position:
            forced = ExitReason.FLATTEN
        if forced is not None:
            return self._work_exit(forced, now, market=True)
        if self._exit_reason is not None and self.ledger.position:
            return self._work_exit(self._exit_reason, now, market=self._exit_to_market)
        return []

    def _work_exit(self, reason: ExitReason, now: float, *, market: bool) -> list[Command]:
        commands: list[Command] = []
        # Nothing new goes out while any order lives: a late fill could otherwise overshoot the position.
        for order in list(self.executor.active.values()):
            if order.role is Role.ENTRY or (market and not order.is_market):
                replaced = order.role is Role.EXIT and reason in (ExitReason.TARGET, ExitReason.TRAIL)
                cancel = self.executor.cancel(order, now, "replaced by market" if replaced else reason.value)
                if cancel is not None:
                    commands.append(cancel)
        position = self.ledger.position
        if self.executor.active or position == 0 or not self.connected or self.last_tick is None:
            return commands
        side = Side.SELL if position > 0 else Side.BUY
        if market:
            how = ExitOrder(OrderType.MARKET, None)
            if reason in (ExitReason.TARGET, ExitReason.TRAIL):
                reason = ExitReason.STALE_TO_MARKET  # a stale exit's market replacement
        else:
            # A stop exit sent at market by design (stop_exit = "market") keeps its reason TRAIL.
            tick = self.last_tick
            how = exit_order(side, reason, tick.bid, tick.ask, self.config.execution.stop_exit)
        commands.append(
            self.executor.place(
                side,
                abs(position),
                how.order_type,
                how.limit,
                Role.EXIT,
                now,
                self._trade_regime(),
                self.last_z or 0.0,
                reason,
                signal_price=self.last_tick.last,
            )
        )
        return commands

    def _trade_regime(self) -> Regime:
        trade = self.strategy.trade
        return trade.regime if trade is not None else Regime.NOTHING

    def _maybe_enter(
        self,
        tick: Tick,
        z: float | None,
        now: float,
        regime: Regime,
        decision: datetime | None,
        confidence: float | None,
    ) -> list[Command]:
        side = self.strategy.entry_signal(z, regime, tick.ts, confidence)
        if side is None or z is None or not self.connected:
            return []
        qty = self.config.execution.order_qty
        blocked = self.risk.entry_block(
            now, tick.ts, abs(self.ledger.position) + self.executor.open_qty(Role.ENTRY), qty
        )
        if blocked:
            log.debug("entry %s at z %.3f refused: %s", side, z, blocked)
            return []
        self.risk.record_entry(now)
        limit = tick.bid if side is Side.BUY else tick.ask
        log.info(
            "entry signal %s at %.3f: regime %s z %.3f last %d bid %d ask %d",
            side,
            now,
            regime,
            z,
            tick.last,
            tick.bid,
            tick.ask,
        )
        return [
            self.executor.place(
                side,
                qty,
                OrderType.LIMIT,
                limit,
                Role.ENTRY,
                now,
                regime,
                z,
                signal_price=tick.last,
                decision_window_end=decision,
            )
        ]

    def realised_net_usd(self) -> Decimal:
        return self.ledger.realised_net_usd

    def order(self, order_id: str) -> Order | None:
        return self.executor.orders.get(order_id)
