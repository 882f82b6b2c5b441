"""ZScoreStrategy: the article's entry matrix and exits, as pure decisions on bars and ticks.

Entry (flat, regime trend or range, Z_THRESH <= |z| <= Z_THRESH + Z_THRESH_UP):

    regime  | z above      | z below
    range   | SELL (fade)  | BUY (fade)
    trend   | BUY (follow) | SELL (follow)

Exits: a range trade closes when z is back within Z_TARGET of the mean (z >= -Z_TARGET for a long, z <=
Z_TARGET for a short, so a jump across the mean also counts); a trailing stop of STOP_OFFSET ticks protects
both kinds and is the only exit of a trend trade.
"""

from __future__ import annotations

from dataclasses import dataclass

from regime.contracts import ExitReason, Regime, Side
from trading_engine.broker.port import MinuteBar
from trading_engine.config import StrategyConfig
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


def entry_side(z: float, regime: Regime, z_thresh: float, z_thresh_up: float) -> Side | None:
    """The entry matrix: the side to take at z-score `z` under `regime`, or None."""
    if regime is Regime.NOTHING or not z_thresh <= abs(z) <= z_thresh + z_thresh_up:
        return None
    high = z > 0
    if regime is Regime.RANGE:
        return Side.SELL if high else Side.BUY
    return Side.BUY if high else Side.SELL


class ZScoreStrategy:
    """Minute statistics, tick z-score, entry signal, exit signal. Knows nothing of orders or brokers."""

    def __init__(self, config: StrategyConfig) -> None:
        config.check()
        self.config = config
        self.stats = RollingStats(config.lookback_bars)
        self.atr = AverageTrueRange(config.atr_bars)
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

    def zscore(self, last: int) -> float | None:
        return self.stats.zscore(last)

    def entry_signal(self, z: float | None, regime: Regime) -> Side | None:
        """Side to enter, if any (the caller checks flatness and risk)."""
        if z is None:
            return None
        return entry_side(z, regime, self.config.z_thresh, self.config.z_thresh_up)

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
        """TRAIL or TARGET when the open trade should close on this tick; None otherwise."""
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
        return None
