"""MonitorView: the session's state as JSON-ready frames for the page (pure reads, never a mutation).

A `snapshot` carries everything a browser needs when it connects (the tap's rings, the fills and round
trips, the current state); an `update` carries only what is new since the cursor, plus the current state.
Prices go out in the contract's units (ticks times the tick size, rounded to its decimals), money as exact
Decimal strings; times are epoch seconds on the broker's clock, `wall` the host's clock.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Any

from regime.contracts import Regime, RegimeItem
from trader_host.monitor.tap import BarPoint, MonitorTap, TickPoint
from trading_engine.execution.order import Order
from trading_engine.regime_source import FixedRegime
from trading_engine.session import TradingSession

FILL_HISTORY = 500  # fills and round trips a connecting browser gets
FINISHED_ORDERS = 8  # final orders listed below the working ones


@dataclass(slots=True)
class Cursor:
    """How far a stream has been sent: the last sequence numbers and list lengths."""

    tick: int = 0
    bar: int = 0
    regime: int = 0
    fill: int = 0
    trip: int = 0


class MonitorView:
    """Reads a TradingSession and its tap; runs on the session's loop between its awaits."""

    def __init__(self, session: TradingSession, tap: MonitorTap) -> None:
        self.session = session
        self.tap = tap
        spec = session.trader.spec
        self._tick = float(spec.tick_size)
        exponent = spec.tick_size.normalize().as_tuple().exponent
        self._decimals = max(0, -exponent) if isinstance(exponent, int) else 6

    # -- frames ----------------------------------------------------------------------------------------------
    def snapshot(self) -> tuple[dict[str, Any], Cursor]:
        """Everything kept, for a browser that just connected, and the cursor it leaves."""
        trader = self.session.trader
        ledger = trader.ledger
        cfg = trader.config.strategy
        cursor = Cursor()
        frame: dict[str, Any] = {
            "symbol": trader.spec.symbol,
            "price_decimals": self._decimals,
            "strategy": {
                "lookback_bars": cfg.lookback_bars,
                "z_thresh": cfg.z_thresh,
                "z_thresh_up": cfg.z_thresh_up,
                "z_target": cfg.z_target,
                "stop_offset_ticks": cfg.stop_offset_ticks,
            },
        }
        cursor.fill = max(0, len(ledger.fills) - FILL_HISTORY)
        cursor.trip = max(0, len(ledger.round_trips) - FILL_HISTORY)
        frame.update(self._new(cursor))
        return frame, cursor

    def update(self, cursor: Cursor) -> dict[str, Any]:
        """What is new since `cursor` (which moves on), with the current state."""
        return self._new(cursor)

    def skip(self, cursor: Cursor) -> None:
        """Move `cursor` to now without building a frame (nobody is watching)."""
        tap, ledger = self.tap, self.session.trader.ledger
        cursor.tick, cursor.bar, cursor.regime = tap.tick_seq, tap.bar_seq, tap.regime_seq
        cursor.fill, cursor.trip = len(ledger.fills), len(ledger.round_trips)

    def _new(self, cursor: Cursor) -> dict[str, Any]:
        tap, ledger = self.tap, self.session.trader.ledger
        ticks = [self._tick_row(t) for t in _after(tap.ticks, cursor.tick, tap.tick_seq)]
        bars = [self._bar_row(b) for b in _after(tap.bars, cursor.bar, tap.bar_seq)]
        regimes = [
            {"seq": r.seq, "ts": r.ts, "regime": r.regime.value}
            for r in _after(tap.regimes, cursor.regime, tap.regime_seq)
        ]
        fills = [f.to_dict() for f in ledger.fills[cursor.fill :]]
        trips = [t.to_dict() for t in ledger.round_trips[cursor.trip :]]
        self.skip(cursor)
        return {
            "ticks": ticks,
            "bars": bars,
            "regimes": regimes,
            "fills": fills,
            "trips": trips,
            "state": self.state(),
        }

    # -- rows ------------------------------------------------------------------------------------------------
    def _price(self, ticks: float) -> float:
        return round(ticks * self._tick, self._decimals)

    def _tick_row(self, t: TickPoint) -> list[Any]:
        z = None if t.z is None else round(t.z, 4)
        tick, price = t.tick, self._price
        return [t.seq, t.wall, tick.ts, price(tick.bid), price(tick.ask), price(tick.last), z]

    def _bar_row(self, b: BarPoint) -> dict[str, Any]:
        bar = b.bar
        return {
            "seq": b.seq,
            "ts": bar.minute * 60.0,
            "open": self._price(bar.open),
            "high": self._price(bar.high),
            "low": self._price(bar.low),
            "close": self._price(bar.close),
            "volume": bar.volume,
            "mean": None if b.mean is None else round(b.mean * self._tick, self._decimals + 3),
            "sd": None if b.sd is None else round(b.sd * self._tick, self._decimals + 3),
        }

    # -- state -----------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The panels: position and P&L, orders, regime, connection, risk."""
        session, tap = self.session, self.tap
        trader = session.trader
        now = session.broker.now()
        stats = trader.strategy.stats
        sd = stats.sd if stats.zscore(0) is not None else None
        return {
            "now": now,
            "wall": time.time(),
            "z": None if trader.last_z is None else round(trader.last_z, 4),
            "mean": None if sd is None else self._price(stats.mean),
            "sd": None if sd is None else round(sd * self._tick, self._decimals + 3),
            "position": self._position(),
            "orders": self._orders(now),
            "regime": self._regime(now),
            "connection": {
                "connected": trader.connected,
                "feed_ended": trader.feed_ended,
                "last_tick_age_s": None if trader.last_tick is None else now - trader.last_tick.ts,
                "disconnects": tap.disconnects,
                "events": tap.events,
            },
            "risk": self._risk(),
        }

    def _position(self) -> dict[str, Any]:
        trader = self.session.trader
        ledger, spec = trader.ledger, trader.spec
        last = trader.last_tick.last if trader.last_tick is not None else None
        unreal_ticks = ledger.unrealised_ticks(last) if last is not None else 0.0
        unreal_usd = unreal_ticks * float(spec.tick_value_usd)
        trade = trader.strategy.trade
        return {
            "qty": ledger.position,
            "side": None if ledger.open_side is None else ledger.open_side.value,
            "regime": None if ledger.open_regime is None else ledger.open_regime.value,
            "entry_price": None if trade is None else self._price(trade.entry_price),
            "stop": None if trade is None else self._price(trade.stop.level),
            "last": None if last is None else self._price(last),
            "unrealised_ticks": round(unreal_ticks, 2),
            "unrealised_usd": f"{unreal_usd:.2f}",
            "realised_net_usd": str(ledger.realised_net_usd),
            "fees_usd": str(ledger.fees_usd),
            "fills": len(ledger.fills),
            "round_trips": len(ledger.round_trips),
        }

    def _orders(self, now: float) -> list[dict[str, Any]]:
        executor = self.session.trader.executor
        working = list(executor.active.values())
        finished = [o for o in islice(reversed(executor.orders.values()), 4 * FINISHED_ORDERS) if o.is_final]
        return [self._order_row(o, now) for o in working + finished[:FINISHED_ORDERS]]

    def _order_row(self, o: Order, now: float) -> dict[str, Any]:
        r = o.request
        return {
            "id": o.order_id,
            "side": r.side.value,
            "qty": r.qty,
            "type": r.order_type.value,
            "limit": None if r.limit is None else self._price(r.limit),
            "role": o.role.value,
            "state": o.state.value,
            "filled": o.filled_qty,
            "age_s": round((o.final_at if o.final_at is not None else now) - o.submitted_at, 3),
            "stale": o.stale,
            "reason": o.final_reason or (o.exit_reason.value if o.exit_reason is not None else ""),
        }

    def _regime(self, now: float) -> dict[str, Any]:
        source = self.session.regime
        current = source.regime_at(now)
        changes = self.tap.regimes
        since = changes[-1].ts if changes and changes[-1].regime is current else None
        out: dict[str, Any] = {"tradable": current.value, "since": since}
        item = getattr(source, "item", None)  # the DynamoDB reader keeps the decision it read
        if isinstance(item, RegimeItem):
            confidence = {Regime.TREND: item.trend_confidence, Regime.RANGE: item.range_confidence}
            out.update(
                source="cloud",
                decided=item.regime.value,
                confidence=confidence.get(item.regime, max(item.trend_confidence, item.range_confidence)),
                trend_confidence=item.trend_confidence,
                range_confidence=item.range_confidence,
                age_s=now - item.window_end.timestamp(),
                window_end=item.window_end.timestamp(),
                valid_until=item.valid_until.timestamp(),
                model_version=item.model_version,
                probabilities=dict(item.probabilities) or None,
                reason=item.reason,
                note="" if item.probabilities else "this decision carries no per-model probabilities",
            )
        elif isinstance(source, FixedRegime):
            out.update(
                source="fixed",
                decided=source.regime.value,
                age_s=None if since is None else now - since,
                probabilities=None,
                note="fixed regime (--regime): no model decision, so no confidence or probabilities",
            )
        else:
            out.update(
                source=type(source).__name__,
                decided=None,
                age_s=None if since is None else now - since,
                probabilities=None,
                note="no decision record yet" if hasattr(source, "item") else "this source keeps no record",
            )
        return out

    def _risk(self) -> dict[str, Any]:
        session = self.session
        trader = session.trader
        risk, cfg = trader.risk, trader.config.risk
        ks = session.kill_switch
        return {
            "kill_reason": risk.kill_reason,
            "kill_switch": None if ks is None else ks.state,
            "shutting_down": risk.shutting_down,
            "failure": session.failure,
            "loss_limit_hit": risk.loss_limit_hit,
            "day_realised_net_usd": str(trader.ledger.realised_net_usd - risk.day_start_net),
            "max_daily_loss_usd": cfg.max_daily_loss_usd,
            "max_position": cfg.max_position,
            "halted": risk.kill_reason is not None or session.failure is not None,
        }


def _after[T](ring: deque[T], seq: int, last: int) -> list[T]:
    """The ring's items with a sequence number above `seq` (the newest `last - seq`, at most the ring)."""
    n = min(last - seq, len(ring))
    if n <= 0:
        return []
    return list(islice(ring, len(ring) - n, None))
