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
from trading_engine.trader_snapshot import RiskState, TraderSnapshot

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

    def __init__(self, session: TradingSession, tap: MonitorTap, notice: str = "") -> None:
        self.session = session
        self.notice = notice  # e.g. an unproven live start (--accept-unproven)
        self.tap = tap
        spec = session.trader.spec
        self._tick = float(spec.tick_size)
        self._tick_value = float(spec.tick_value_usd)
        exponent = spec.tick_size.normalize().as_tuple().exponent
        self._decimals = max(0, -exponent) if isinstance(exponent, int) else 6

    # -- frames ----------------------------------------------------------------------------------------------
    def snapshot(self) -> tuple[dict[str, Any], Cursor]:
        """Everything kept, for a browser that just connected, and the cursor it leaves."""
        trader = self.session.trader
        cfg = trader.config.strategy
        cursor = Cursor()
        frame: dict[str, Any] = {
            "symbol": trader.spec.symbol,
            "price_decimals": self._decimals,
            "notice": self.notice,
            "strategy": {
                "lookback_bars": cfg.lookback_bars,
                "z_thresh": cfg.z_thresh,
                "z_thresh_up": cfg.z_thresh_up,
                "z_target": cfg.z_target,
                "stop_offset_ticks": cfg.stop_offset_ticks,
            },
        }
        snap = trader.snapshot()
        cursor.fill = max(0, snap.fills - FILL_HISTORY)
        cursor.trip = max(0, snap.round_trips - FILL_HISTORY)
        frame.update(self._new(cursor))
        return frame, cursor

    def update(self, cursor: Cursor) -> dict[str, Any]:
        """What is new since `cursor` (which moves on), with the current state."""
        return self._new(cursor)

    def skip(self, cursor: Cursor) -> None:
        """Move `cursor` to now without building a frame (nobody is watching)."""
        tap, snap = self.tap, self.session.trader.snapshot()
        cursor.tick, cursor.bar, cursor.regime = tap.tick_seq, tap.bar_seq, tap.regime_seq
        cursor.fill, cursor.trip = snap.fills, snap.round_trips

    def _new(self, cursor: Cursor) -> dict[str, Any]:
        tap, trader = self.tap, self.session.trader
        ticks = [self._tick_row(t) for t in _after(tap.ticks, cursor.tick, tap.tick_seq)]
        bars = [self._bar_row(b) for b in _after(tap.bars, cursor.bar, tap.bar_seq)]
        regimes = [
            {"seq": r.seq, "ts": r.ts, "regime": r.regime.value}
            for r in _after(tap.regimes, cursor.regime, tap.regime_seq)
        ]
        fills = [f.to_dict() for f in trader.fills(cursor.fill)]
        trips = [t.to_dict() for t in trader.round_trips(cursor.trip)]
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
        now = session.broker.now()
        snap = session.trader.snapshot()
        band = snap.band
        return {
            "now": now,
            "wall": time.time(),
            "z": None if snap.z is None else round(snap.z, 4),
            "mean": None if band is None else self._price(band.mean),
            "sd": None if band is None else round(band.sd * self._tick, self._decimals + 3),
            "position": self._position(snap),
            "orders": self._orders(now),
            "regime": self._regime(now),
            "connection": {
                "connected": snap.connected,
                "feed_ended": snap.feed_ended,
                "last_tick_age_s": None if snap.last_tick_ts is None else now - snap.last_tick_ts,
                "disconnects": tap.disconnects,
                "events": tap.events,
            },
            "risk": self._risk(snap.risk),
        }

    def _position(self, snap: TraderSnapshot) -> dict[str, Any]:
        trip = snap.open_trip
        entry, stop = (None, None) if trip is None else (trip.entry_price, trip.stop)
        unreal_usd = snap.unrealised_ticks * self._tick_value
        return {
            "qty": snap.position,
            "side": None if trip is None else trip.side.value,
            "regime": None if trip is None or trip.regime is None else trip.regime.value,
            "entry_price": None if entry is None else self._price(entry),
            "stop": None if stop is None else self._price(stop),
            "last": None if snap.last is None else self._price(snap.last),
            "unrealised_ticks": round(snap.unrealised_ticks, 2),
            "unrealised_usd": f"{unreal_usd:.2f}",
            "realised_net_usd": str(snap.realised_net_usd),
            "fees_usd": str(snap.fees_usd),
            "fills": snap.fills,
            "round_trips": snap.round_trips,
        }

    def _orders(self, now: float) -> list[dict[str, Any]]:
        trader = self.session.trader
        working = trader.working_orders()
        finished = [o for o in islice(trader.recent_orders(), 4 * FINISHED_ORDERS) if o.is_final]
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

    def _risk(self, risk: RiskState) -> dict[str, Any]:
        session = self.session
        cfg = session.trader.config.risk
        ks = session.kill_switch
        return {
            "kill_reason": risk.kill_reason,
            "kill_switch": None if ks is None else ks.state,
            "shutting_down": risk.shutting_down,
            "failure": session.failure,
            "loss_limit_hit": risk.loss_limit_hit,
            "day_realised_net_usd": str(risk.day_realised_net_usd),
            "max_daily_loss_usd": risk.max_daily_loss_usd,
            "max_position": cfg.max_position,
            "halted": risk.kill_reason is not None or session.failure is not None,
        }


def _after[T](ring: deque[T], seq: int, last: int) -> list[T]:
    """The ring's items with a sequence number above `seq` (the newest `last - seq`, at most the ring)."""
    n = min(last - seq, len(ring))
    if n <= 0:
        return []
    return list(islice(ring, len(ring) - n, None))
