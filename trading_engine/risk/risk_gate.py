"""RiskGate: may we open a position now, and must we close the one we have?

Entries are refused when halted (kill switch), after the day's loss limit, beyond the orders-per-minute
limit, when the position plus working entry orders would exceed the maximum, near the daily break, inside a
blackout window, or on a stale quote. A flatten is demanded by the kill switch (KILL), by the loss limit,
by the approaching daily break and by shutdown (FLATTEN). Exits are never throttled: refusing one only adds
risk. When the gate stops trading (the loss limit, a kill) it records a RiskEvent for the lake (take_events).
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from regime.contracts import ExitReason, RiskEvent, RiskEventKind
from regime.contracts.timestamps import format_utc
from trading_engine.config import WEEKDAYS, RiskConfig
from trading_engine.instruments import ContractSpec

log = logging.getLogger(__name__)
_MONEY = Decimal("0.0001")  # the lake's decimal(12,4)


class RiskGate:
    """Risk limits of one symbol, checked on every tick with cheap arithmetic (the calendar is cached)."""

    def __init__(self, config: RiskConfig, spec: ContractSpec) -> None:
        config.check()
        self.config = config
        self.spec = spec
        self.kill_reason: str | None = None
        self.shutting_down = False
        self._next_close = float("-inf")
        self._day_start_net = Decimal(0)
        self._last_net = Decimal(0)
        self._loss_hit_close: float | None = None  # the session (by its close) that hit the loss limit
        self.loss_limit_days = 0  # trading days stopped by the daily loss limit (backtest reports)
        self._entries: deque[float] = deque()
        self._zones = {b.tz: ZoneInfo(b.tz) for b in config.blackout}
        self._events: list[RiskEvent] = []

    # -- state changes ---------------------------------------------------------------------------------------
    def engage_kill(self, now: float, source: str) -> None:
        """Halt for good: flatten and never enter again in this process."""
        if self.kill_reason is None:
            self.kill_reason = source
            log.warning("kill switch engaged at %.3f by %s: flatten and halt", now, source)
            if now >= self._next_close:
                self._roll_day(now)
            self._record(RiskEventKind.KILL, now, self._last_net - self._day_start_net, source)

    def restore_day(self, net_at_day_start: Decimal) -> None:
        """After a restart: the realised net when the current trading day began (the rest counts today)."""
        self._last_net = net_at_day_start
        self._next_close = float("-inf")

    def begin_shutdown(self) -> None:
        self.shutting_down = True

    def record_entry(self, now: float) -> None:
        """Count an entry order against the per-minute limit."""
        self._entries.append(now)

    def take_events(self) -> list[RiskEvent]:
        """Risk events since the last call (for the record sinks)."""
        events, self._events = self._events, []
        return events

    def _record(self, kind: RiskEventKind, now: float, day_net: Decimal, detail: str) -> None:
        self._events.append(
            RiskEvent(
                symbol=self.spec.symbol,
                ts=datetime.fromtimestamp(now, UTC),
                kind=kind,
                trading_day=self.spec.session.trading_date(now),
                day_net_usd=day_net.quantize(_MONEY),
                detail=detail,
            )
        )

    # -- queries ---------------------------------------------------------------------------------------------
    @property
    def loss_limit_hit(self) -> bool:
        """True once the current trading day's loss limit was reached (read-only: for the monitor)."""
        return self._loss_hit_close is not None and self._loss_hit_close == self._next_close

    @property
    def day_start_net(self) -> Decimal:
        """The realised net when the current trading day began (read-only: for the monitor)."""
        return self._day_start_net

    def seconds_to_break(self, now: float) -> float:
        if now >= self._next_close:
            self._roll_day(now)
        return self._next_close - now

    def _roll_day(self, now: float) -> None:
        # A new trading day starts at each session close: its loss is counted from the net at that point.
        self._next_close = self.spec.session.next_close(now)
        self._day_start_net = self._last_net
        log.info("trading day until %.0f starts, realised net so far %s", self._next_close, self._last_net)

    def daily_pnl_usd(self, now: float, realised_net: Decimal, unrealised_ticks: float) -> float:
        """Realised net since the day began plus the open P&L, USD."""
        if now >= self._next_close:
            self._roll_day(now)
        self._last_net = realised_net
        return float(realised_net - self._day_start_net) + unrealised_ticks * float(self.spec.tick_value_usd)

    def flatten_reason(self, now: float, realised_net: Decimal, unrealised_ticks: float) -> ExitReason | None:
        """Why any position must be closed now, or None."""
        if self.kill_reason is not None:
            return ExitReason.KILL
        if self.shutting_down:
            return ExitReason.FLATTEN
        pnl = self.daily_pnl_usd(now, realised_net, unrealised_ticks)
        if self._loss_hit_close == self._next_close:
            return ExitReason.FLATTEN
        if pnl <= -self.config.max_daily_loss_usd:
            if self._loss_hit_close != self._next_close:
                self.loss_limit_days += 1
                log.warning(
                    "daily loss limit hit at %s: %.2f USD <= -%.2f: flatten, no more entries today",
                    format_utc(datetime.fromtimestamp(now, UTC)),
                    pnl,
                    self.config.max_daily_loss_usd,
                )
                day_net = (
                    realised_net
                    - self._day_start_net
                    + self.spec.tick_value_usd * Decimal(repr(unrealised_ticks))
                )
                self._record(
                    RiskEventKind.LOSS_LIMIT,
                    now,
                    day_net,
                    f"day net {pnl:.2f} USD <= -{self.config.max_daily_loss_usd:.2f} USD: "
                    "flatten, no entries until the session close",
                )
            self._loss_hit_close = self._next_close
            return ExitReason.FLATTEN
        if self.seconds_to_break(now) <= self.config.flatten_before_break_minutes * 60:
            return ExitReason.FLATTEN
        return None

    def entry_block(self, now: float, quote_ts: float, exposure: int, qty: int) -> str | None:
        """Why a new entry of `qty` is refused now, or None if it may go. `exposure`: position + working."""
        cfg = self.config
        if self.kill_reason is not None:
            return f"halted by kill switch ({self.kill_reason})"
        if self.shutting_down:
            return "shutting down"
        if self._loss_hit_close == self._next_close and now < self._next_close:
            return "daily loss limit reached"
        if exposure + qty > cfg.max_position:
            return f"max position {cfg.max_position}: exposure {exposure} + {qty}"
        if now - quote_ts > cfg.max_quote_age_s:
            return f"stale quote ({now - quote_ts:.1f}s old)"
        if self.seconds_to_break(now) <= cfg.no_entry_before_break_minutes * 60:
            return "too close to the daily break"
        while self._entries and self._entries[0] <= now - 60.0:
            self._entries.popleft()
        if len(self._entries) >= cfg.max_orders_per_minute:
            return f"max {cfg.max_orders_per_minute} entry orders per minute"
        blackout = self._blackout(now)
        if blackout:
            return blackout
        return None

    def _blackout(self, now: float) -> str | None:
        for b in self.config.blackout:
            local = datetime.fromtimestamp(now, tz=self._zones[b.tz])
            if WEEKDAYS[local.weekday()] in b.days and b.start <= local.time() < b.end:
                return f"blackout {','.join(b.days)} {b.start}-{b.end} {b.tz}"
        return None
