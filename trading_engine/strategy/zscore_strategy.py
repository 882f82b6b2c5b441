"""ZScoreStrategy: the article's entry matrix and exits, as pure decisions on bars and ticks.

Entry (flat, regime trend or range, Z_THRESH <= |z| <= Z_THRESH + Z_THRESH_UP):

    regime  | z above      | z below
    range   | SELL (fade)  | BUY (fade)
    trend   | BUY (follow) | SELL (follow)

Exits: a range trade closes when z is back within Z_TARGET of the mean (z >= -Z_TARGET for a long, z <=
Z_TARGET for a short, so a jump across the mean also counts); a trailing stop of STOP_OFFSET ticks protects
both kinds and is the only exit of a trend trade.

The wider family (each off by default, see StrategyConfig): no entry below a minimum vote confidence,
outside the entry windows of exchange time, or while the ATR's percentile is outside a band; and a position
held `max_hold_bars` completed bars closes with exit reason max-hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from regime.contracts import ExitReason, Regime, Side
from trading_engine.broker.port import MinuteBar
from trading_engine.config import StrategyConfig, entry_window_minutes
from trading_engine.indicators.atr_percentile import AtrPercentile
from trading_engine.indicators.average_true_range import AverageTrueRange, atr_ticks
from trading_engine.indicators.rolling_stats import RollingStats
from trading_engine.strategy.trailing_stop import TrailingStop


@dataclass(slots=True)
class OpenTrade:
    """What the strategy remembers about the position it holds."""

    side: Side
    regime: Regime
    entry_price: int
    stop: TrailingStop
    target: int | None = None  # price target (ticks) of an exit in ATR units
    bars_held: int = 0  # minute bars completed since the entry fill


def entry_side(z: float, regime: Regime, z_thresh: float, z_thresh_up: float) -> Side | None:
    """The entry matrix: the side to take at z-score `z` under `regime`, or None."""
    if regime is Regime.NOTHING or not z_thresh <= abs(z) <= z_thresh + z_thresh_up:
        return None
    high = z > 0
    if regime is Regime.RANGE:
        return Side.SELL if high else Side.BUY
    return Side.BUY if high else Side.SELL


def in_windows(minute_of_day: int, windows: tuple[tuple[int, int], ...]) -> bool:
    """True inside one of `windows` ((start, end) minutes of the day, end excluded; end < start wraps
    past midnight); no windows: always."""
    if not windows:
        return True
    for start, end in windows:
        if (start <= minute_of_day < end) if start < end else (minute_of_day >= start or minute_of_day < end):
            return True
    return False


class ZScoreStrategy:
    """Minute statistics, tick z-score, entry signal, exit signal. Knows nothing of orders or brokers.

    `session_tz` is the instrument's exchange time zone (SessionHours.tz): the entry windows' clock."""

    def __init__(self, config: StrategyConfig, session_tz: str = "UTC") -> None:
        config.check()
        self.config = config
        self.stats = RollingStats(config.lookback_bars)
        self.atr = AverageTrueRange(config.atr_bars)
        self.atr_pct = AtrPercentile(config.atr_pct_bars)
        self.windows = entry_window_minutes(config.entry_windows)
        self.tz = ZoneInfo(session_tz)
        self._last_minute: int | None = None
        self.trade: OpenTrade | None = None

    def on_bar(self, bar: MinuteBar) -> None:
        """Add a completed bar's close; a long hole in the bars starts the statistics afresh."""
        if self._last_minute is not None:
            if bar.minute <= self._last_minute:
                return  # a bar replayed after a reconnect: already counted
            if bar.minute - self._last_minute > self.config.reset_gap_minutes:
                self.stats.clear()
                self.atr.reset()
        self._last_minute = bar.minute
        self.stats.push(bar.close)
        self.atr.push(bar.high, bar.low, bar.close)
        if self.config.atr_band_on:
            self.atr_pct.push(self.atr.total)
        if self.trade is not None:
            self.trade.bars_held += 1

    def restart_series(self) -> None:
        """Forget the bars (a roll to another month): the statistics start afresh from the next bar."""
        self.stats.clear()
        self.atr.reset()
        self.atr_pct.clear()
        self._last_minute = None

    def zscore(self, last: int) -> float | None:
        return self.stats.zscore(last)

    def entry_signal(
        self, z: float | None, regime: Regime, ts: float, confidence: float | None = None
    ) -> Side | None:
        """Side to enter at exchange time `ts` (epoch seconds), if any (the caller checks flatness and risk).

        `confidence` is the vote confidence of the decision behind `regime` (None: a regime without one)."""
        if z is None:
            return None
        side = entry_side(z, regime, self.config.z_thresh, self.config.z_thresh_up)
        if side is None or not self.entry_allowed(ts, confidence):
            return None
        return side

    def entry_allowed(self, ts: float, confidence: float | None) -> bool:
        """The family's entry filters: vote confidence, entry windows, ATR percentile band."""
        cfg = self.config
        if confidence is not None and confidence < cfg.min_confidence:
            return False
        if self.windows:
            local = datetime.fromtimestamp(ts, self.tz)
            if not in_windows(local.hour * 60 + local.minute, self.windows):
                return False
        if cfg.atr_band_on:
            pct = self.atr_pct.value
            if pct is None or not cfg.atr_pct_low <= pct <= cfg.atr_pct_high:
                return False
        return True

    def open_trade(self, side: Side, regime: Regime, entry_price: int) -> None:
        """A position was opened by a fill at `entry_price`: arm its trailing stop (and ATR target)."""
        cfg, atr = self.config, self.atr.value
        offset = atr_ticks(cfg.stop_atr, atr, cfg.stop_offset_ticks)
        target = None
        if cfg.target_atr > 0 and atr is not None:
            target = entry_price + side.sign * atr_ticks(cfg.target_atr, atr, 0)
        self.trade = OpenTrade(side, regime, entry_price, TrailingStop(side, entry_price, offset), target)

    def close_trade(self) -> None:
        self.trade = None

    def exit_signal(self, last: int, z: float | None) -> ExitReason | None:
        """TRAIL, TARGET or MAX_HOLD when the open trade should close on this tick; None otherwise."""
        trade = self.trade
        if trade is None:
            return None
        if trade.stop.update(last):
            return ExitReason.TRAIL
        if trade.target is not None and (last - trade.target) * trade.side.sign >= 0:
            return ExitReason.TARGET
        if trade.regime is Regime.RANGE and z is not None:
            target = self.config.z_target
            if (trade.side is Side.BUY and z >= -target) or (trade.side is Side.SELL and z <= target):
                return ExitReason.TARGET
        if 0 < self.config.max_hold_bars <= trade.bars_held:
            return ExitReason.MAX_HOLD
        return None
