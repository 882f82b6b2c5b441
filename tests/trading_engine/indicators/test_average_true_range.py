"""The ATR behind exits in volatility units and the sim broker's volatility slippage."""

from __future__ import annotations

import pytest

from regime.contracts import ExitReason, Regime, Side
from trading_engine.broker.port import MinuteBar
from trading_engine.config import ConfigError, StrategyConfig
from trading_engine.indicators.average_true_range import AverageTrueRange, atr_ticks
from trading_engine.strategy.zscore_strategy import ZScoreStrategy


def test_true_ranges_count_the_gap_from_the_previous_close() -> None:
    atr = AverageTrueRange(2)
    atr.push(110, 100, 105)
    assert atr.value is None  # not yet 2 bars
    atr.push(120, 115, 118)  # gap up: true range 120 - 105 = 15, not 5
    assert atr.value == (10 + 15) / 2
    atr.push(119, 117, 118)
    assert atr.value == (15 + 2) / 2
    atr.reset()
    atr.push(10, 4, 5)
    atr.push(6, 5, 6)
    assert atr.value == (6 + 1) / 2  # a new run: no gap from before the reset


@pytest.mark.parametrize(
    ("multiple", "atr", "expected"),
    [(0.0, 7.0, 4), (1.5, None, 4), (1.5, 7.0, 11), (0.1, 3.0, 1), (0.5, 5.0, 3)],
)
def test_atr_ticks_rounds_half_up_to_at_least_one_tick(
    multiple: float, atr: float | None, expected: int
) -> None:
    assert atr_ticks(multiple, atr, fallback=4) == expected


def test_the_stop_and_target_follow_the_atr_at_the_entry_fill() -> None:
    strategy = ZScoreStrategy(StrategyConfig(lookback_bars=2, stop_atr=1.0, target_atr=2.0, atr_bars=2))
    strategy.on_bar(MinuteBar(1, 100, 110, 100, 105, 1))
    strategy.on_bar(MinuteBar(2, 105, 115, 105, 110, 1))  # ATR (10 + 10) / 2 = 10 ticks
    strategy.open_trade(Side.BUY, Regime.TREND, 110)
    trade = strategy.trade
    assert trade is not None and trade.stop.offset == 10 and trade.target == 130
    assert strategy.exit_signal(125, None) is None
    assert strategy.exit_signal(130, None) is ExitReason.TARGET
    strategy.open_trade(Side.SELL, Regime.TREND, 110)
    assert strategy.exit_signal(119, None) is None and strategy.exit_signal(120, None) is ExitReason.TRAIL


def test_negative_multiples_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"strategy\.stop_atr"):
        StrategyConfig(stop_atr=-1.0).check()
    with pytest.raises(ConfigError, match=r"strategy\.atr_bars"):
        StrategyConfig(atr_bars=0).check()
