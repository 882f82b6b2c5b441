"""Trader: the pure core of one symbol. Broker events in, commands and trade records out.

The same object runs live (IB), against the simulated broker and in backtests: it never performs I/O, it
never reads a clock (every call carries `now`, the broker's time), and it does not know which broker it
talks to. The session that owns it sends its commands and ships its records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

from regime.contracts import ExitReason, Fill, Regime, RoundTrip, Side, TradeRecord
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
from trading_engine.trader_snapshot import Sensed, TraderSnapshot, snapshot_of

log = logging.getLogger(__name__)
_NO_CONTEXT = FillContext(None, Regime.NOTHING, 0.0, None)  # not our order: the ledger infers its role


class Trader:
    """Strategy + execution + risk + ledger for one symbol."""

    def __init__(self, spec: ContractSpec, config: HostConfig, id_prefix: str = "o") -> None:
        self._spec = spec
        self._config = config
        self._strategy = ZScoreStrategy(config.strategy, spec.session.tz)
        self._executor = OrderExecutor(spec.symbol, config.execution, id_prefix)
        self._ledger = PositionLedger(spec)
        self._risk = RiskGate(config.risk, spec)
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

    # -- queries: values and records, never the parts themselves --------------------------------------------
    @property
    def spec(self) -> ContractSpec:
        """The contract traded (a frozen value)."""
        return self._spec

    @property
    def config(self) -> HostConfig:
        """The configuration traded under (a frozen value)."""
        return self._config

    @property
    def position(self) -> int:
        return self._ledger.position

    @property
    def is_idle(self) -> bool:
        """Flat with no live order."""
        return self._ledger.position == 0 and not self._executor.active

    @property
    def kill_reason(self) -> str | None:
        """Why trading is halted for good (the kill switch, a failure), or None."""
        return self._risk.kill_reason

    def snapshot(self) -> TraderSnapshot:
        """The Trader's state as values, for its readers (monitor, metrics, reports)."""
        return snapshot_of(
            self._ledger,
            self._risk,
            self._strategy,
            self._executor,
            Sensed(self.last_tick, self.last_z, self.connected, self.feed_ended, self.disconnects),
        )

    def fills(self, start: int = 0) -> list[Fill]:
        """The fills booked, from the `start`-th on (a copy)."""
        return self._ledger.fills[start:]

    def round_trips(self, start: int = 0) -> list[RoundTrip]:
        """The round trips closed, from the `start`-th on (a copy)."""
        return self._ledger.round_trips[start:]

    def working_orders(self) -> list[Order]:
        """The orders not yet in a final state, oldest first."""
        return list(self._executor.active.values())

    def recent_orders(self) -> Iterator[Order]:
        """Every order of this process, newest first."""
        return reversed(self._executor.orders.values())

    def order(self, order_id: str) -> Order | None:
        return self._executor.orders.get(order_id)

    def realised_net_usd(self) -> Decimal:
        return self._ledger.realised_net_usd

    def has_seen(self, execution_id: str) -> bool:
        """Whether this execution is booked already (executions are deduplicated by id)."""
        return execution_id in self._executor.seen

    def next_deadline(self) -> float | None:
        return self._executor.next_deadline()

    def reemit(self, record: TradeRecord) -> None:
        """Hand a record to the sinks again (a round trip a kill kept out of the journal)."""
        self._records.append(record)

    def take_records(self) -> list[TradeRecord]:
        """Records produced since the last call (for the sinks): fills and round trips, then the outcome of
        every order that reached its final state, then the risk gate's events."""
        records, self._records = self._records, []
        records += [order_outcome(o, self._spec) for o in self._executor.take_finished()]
        records += self._risk.take_events()
        return records

    # -- control ---------------------------------------------------------------------------------------------
    def kill(self, now: float, source: str) -> list[Command]:
        """Kill switch: halt for good and flatten."""
        self._risk.engage_kill(now, source)
        return self.on_time(now)

    def halt(self, now: float, reason: str) -> None:
        """Halt for good (a failure): no more entries; the position is closed at market by the next call."""
        self._risk.engage_kill(now, reason)

    def warm_up(self, bars: Iterable[MinuteBar]) -> None:
        """Feed the strategy the minute bars before the start (its rolling window)."""
        for bar in bars:
            self._strategy.on_bar(bar)

    def replay_fill(self, ex: Execution, ctx: FillContext) -> list[RoundTrip]:
        """Book a journaled fill again at restart, silently (it was recorded and shipped already); returns
        the round trips it closes."""
        self._executor.seen.add(ex.execution_id)
        return self._ledger.apply(ex, ctx)[1]

    def restore_day(self, net_at_day_start: Decimal) -> None:
        """At restart: the realised net at which the current trading day began (its loss limit counts from
        there)."""
        self._risk.restore_day(net_at_day_start)

    def book_missed(self, ex: Execution) -> None:
        """An execution the broker made while the journal did not see it: booked by the next `on_time`."""
        self._executor.on_execution(ex)

    def adopt_orphan(self, open_order: OpenOrder, now: float) -> list[Command]:
        """A working order left by a previous process: cancel it, and book whatever it fills meanwhile."""
        role = Role.of_effect(self._ledger.position, open_order.request.side)
        return [self._executor.adopt(open_order, role, now)]

    def on_restart_position(self) -> None:
        """An open position survived a restart: flatten it at market, or adopt it (risk.restart_position)."""
        if self._config.risk.restart_position == "adopt":
            self._adopt_pending = True
            log.warning(
                "restart: adopting position %d; its trailing stop is armed on the next tick", self.position
            )
        else:
            self._restart_flatten = True
            log.warning("restart: flattening position %d at market", self.position)

    def shutdown(self, now: float) -> list[Command]:
        """Orderly stop: no more entries, close the position."""
        self._risk.begin_shutdown()
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
            self._strategy.on_bar(event)
            return self.on_time(now)
        if isinstance(event, SeriesRestarted):
            self._strategy.restart_series()
            for bar in event.bars:
                self._strategy.on_bar(bar)
            log.warning("price series restarts (%s): warmed up again with %d bar(s)", event.reason,
                        len(event.bars))  # fmt: skip
            return self.on_time(now)
        if isinstance(event, Execution):
            self._executor.on_execution(event)
        elif isinstance(event, OrderAccepted):
            self._executor.on_accepted(event)
        elif isinstance(event, OrderCancelled):
            commands = self._executor.on_cancelled(event)
            self._book_fills(now)
            return commands + self.on_time(now)
        elif isinstance(event, OrderRejected):
            self._executor.on_rejected(event)
        elif isinstance(event, OrderStatus):
            commands = self._executor.on_status(event)
            self._book_fills(now)
            return commands + self.on_time(now)
        elif isinstance(event, ConnectionChanged):
            self.connected = event.connected
            self.disconnects += not event.connected
            log.warning("broker %s at %.3f", "connected" if event.connected else "DISCONNECTED", now)
            if event.connected:
                return self._executor.query_all(now) + self.on_time(now)
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
        z = self.last_z = self._strategy.zscore(tick.last)
        if self._adopt_pending:
            self._adopt_pending = False
            side = self._ledger.open_side
            if side is not None:
                self._strategy.open_trade(side, self._ledger.open_regime or Regime.NOTHING, tick.last)
        commands = self._executor.on_time(now) if self._executor.active else []
        if self._ledger.position:
            reason = self._strategy.exit_signal(tick.last, z)  # every tick: it ratchets the trailing stop
            if reason is not None and self._exit_reason is None:
                log.info(
                    "exit signal %s at %.3f: last %d z %s stop %s",
                    reason,
                    now,
                    tick.last,
                    z,
                    self._strategy.trade.stop.level if self._strategy.trade else None,
                )
                self._exit_reason = reason
        commands += self._manage(now)
        if self.is_idle and not self.feed_ended:
            commands += self._maybe_enter(tick, z, now, regime, decision, confidence)
        return commands

    def on_time(self, now: float) -> list[Command]:
        """Timeouts and position management without a new tick."""
        commands = self._executor.on_time(now) if self._executor.active else []
        return commands + self._manage(now)

    def send_failed(self, order_id: str, now: float, reason: str) -> list[Command]:
        """A place request could not be sent: the order is rejected; the next tick decides again."""
        self._executor.send_failed(order_id, now, reason)
        return []

    # -- internals -------------------------------------------------------------------------------------------
    def _book_fills(self, now: float) -> None:
        for ex, order in self._executor.take_fills():
            ctx = _NO_CONTEXT if order is None else FillContext.of(order)
            before = self._ledger.position
            fill, closed = self._ledger.apply(ex, ctx)
            self._records.append(fill)
            self._records.extend(closed)
            after = self._ledger.position
            self.max_abs_position = max(self.max_abs_position, abs(after))
            log.info("fill %s %s %s x%d @%s comm %s: position %d -> %d", ex.execution_id, ex.order_id,
                     ex.side, ex.qty, fill.price, ex.commission_usd, before, after)  # fmt: skip
            if closed or after == 0:
                self._strategy.close_trade()
                self._exit_reason = None
                self._exit_to_market = False
                self._restart_flatten = False
            if after != 0 and (before == 0 or closed):
                side = Side.BUY if after > 0 else Side.SELL
                self._strategy.open_trade(side, order.regime if order else Regime.NOTHING, ex.price)

    def _manage(self, now: float) -> list[Command]:
        """Work the exit of an open position: flatten demanded by risk, or the strategy's exit."""
        self._book_fills(now)
        tick = self.last_tick
        unreal = self._ledger.unrealised_ticks(tick.last) if tick is not None else 0.0
        forced = self._risk.flatten_reason(now, self._ledger.realised_net_usd, unreal)
        if any(o.stale for o in self._executor.alive(Role.EXIT)):
            self._exit_to_market = True
        if forced is None and self._restart_flatten and self._ledger.position:
            forced = ExitReason.FLATTEN
        if forced is not None:
            return self._work_exit(forced, now, market=True)
        if self._exit_reason is not None and self._ledger.position:
            return self._work_exit(self._exit_reason, now, market=self._exit_to_market)
        return []

    def _work_exit(self, reason: ExitReason, now: float, *, market: bool) -> list[Command]:
        commands: list[Command] = []
        # Nothing new goes out while any order lives: a late fill could otherwise overshoot the position.
        for order in list(self._executor.active.values()):
            if order.role is Role.ENTRY or (market and not order.is_market):
                replaced = order.role is Role.EXIT and reason in (ExitReason.TARGET, ExitReason.TRAIL)
                cancel = self._executor.cancel(order, now, "replaced by market" if replaced else reason.value)
                if cancel is not None:
                    commands.append(cancel)
        position = self._ledger.position
        if self._executor.active or position == 0 or not self.connected or self.last_tick is None:
            return commands
        side = Side.SELL if position > 0 else Side.BUY
        if market:
            how = ExitOrder(OrderType.MARKET, None)
            if reason in (ExitReason.TARGET, ExitReason.TRAIL):
                reason = ExitReason.STALE_TO_MARKET  # a stale exit's market replacement
        else:
            # A stop exit sent at market by design (stop_exit = "market") keeps its reason TRAIL.
            tick = self.last_tick
            how = exit_order(side, reason, tick.bid, tick.ask, self._config.execution.stop_exit)
        commands.append(
            self._executor.place(
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
        trade = self._strategy.trade
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
        side = self._strategy.entry_signal(z, regime, tick.ts, confidence)
        if side is None or z is None or not self.connected:
            return []
        qty = self._config.execution.order_qty
        blocked = self._risk.entry_block(
            now, tick.ts, abs(self._ledger.position) + self._executor.open_qty(Role.ENTRY), qty
        )
        if blocked:
            log.debug("entry %s at z %.3f refused: %s", side, z, blocked)
            return []
        self._risk.record_entry(now)
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
            self._executor.place(
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
