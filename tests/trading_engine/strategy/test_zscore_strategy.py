"""The entry matrix, both exits, the trailing stop and the minute statistics."""

from __future__ import annotations

import statistics

import pytest

from regime.contracts import ExitReason, Regime, Side
from trading_engine.broker.port import MinuteBar
from trading_engine.config import StrategyConfig
from trading_engine.indicators.rolling_stats import RollingStats
from trading_engine.strategy.trailing_stop import TrailingStop
from trading_engine.strategy.zscore_strategy import ZScoreStrategy, entry_side


@pytest.mark.parametrize(
    ("z", "regime", "expected"),
    [
        (2.2, Regime.RANGE, Side.SELL),
        (-2.2, Regime.RANGE, Side.BUY),
        (2.2, Regime.TREND, Side.BUY),
        (-2.2, Regime.TREND, Side.SELL),
        (2.0, Regime.RANGE, Side.SELL),  # both band edges are inside
        (-2.5, Regime.TREND, Side.SELL),
        (1.99, Regime.RANGE, None),  # below the threshold
        (2.51, Regime.TREND, None),  # too far gone: do not chase
        (-3.0, Regime.RANGE, None),
        (2.2, Regime.NOTHING, None),
        (-2.2, Regime.NOTHING, None),
    ],
)
def test_entry_matrix(z: float, regime: Regime, expected: Side | None) -> None:
    assert entry_side(z, regime, 2.0, 0.5) is expected


def test_rolling_stats_match_the_unbiased_estimator() -> None:
    stats = RollingStats(5)
    closes = [7000, 7003, 6998, 7010, 7001, 6995, 7004]
    for c in closes:
        stats.push(c)
    window = closes[-5:]
    assert stats.mean == pytest.approx(statistics.mean(window))
    assert stats.sd == pytest.approx(statistics.stdev(window))  # n - 1 denominator
    z = stats.zscore(7012)
    assert z == pytest.approx((7012 - statistics.mean(window)) / statistics.stdev(window))


def test_rolling_stats_need_a_full_window_and_some_variance() -> None:
    stats = RollingStats(3)
    stats.push(100)
    stats.push(101)
    assert stats.zscore(105) is None  # window not full
    stats.push(102)
    assert stats.zscore(105) is not None
    flat = RollingStats(3)
    for _ in range(3):
        flat.push(100)
    assert flat.zscore(101) is None  # sd = 0: no z-score
    with pytest.raises(ValueError, match="window"):
        RollingStats(1)


def _strategy(**overrides: object) -> ZScoreStrategy:
    s = ZScoreStrategy(StrategyConfig(lookback_bars=4, **overrides))  # type: ignore[arg-type]
    for minute, close in enumerate([1000, 1002, 998, 1000]):  # mean 1000, sd ~1.633
        s.on_bar(MinuteBar(minute, close, close, close, close, 1))
    return s


def test_strategy_z_uses_completed_bars_and_resets_after_a_long_gap() -> None:
    s = _strategy()
    z = s.zscore(1004)
    assert z == pytest.approx(4 / statistics.stdev([1000, 1002, 998, 1000]))
    s.on_bar(MinuteBar(3, 1, 1, 1, 1, 1))  # a replayed minute is ignored
    assert s.zscore(1004) == pytest.approx(z)
    s.on_bar(MinuteBar(100, 1000, 1000, 1000, 1000, 1))  # 97 minutes later: a new session
    assert s.zscore(1004) is None


def test_range_trade_exits_at_the_z_target() -> None:
    s = _strategy()
    s.open_trade(Side.BUY, Regime.RANGE, 996)
    assert s.exit_signal(997, -1.0) is None
    assert s.exit_signal(998, -0.25) is None
    assert s.exit_signal(999, -0.2) is ExitReason.TARGET
    s.open_trade(Side.SELL, Regime.RANGE, 1004)
    assert s.exit_signal(1003, 0.21) is None
    assert s.exit_signal(999, -0.5) is ExitReason.TARGET  # a jump across the mean also counts


def test_trend_trade_has_no_target_only_the_trailing_stop() -> None:
    s = _strategy()
    s.open_trade(Side.BUY, Regime.TREND, 1004)
    assert s.exit_signal(1001, 0.0) is None  # z near the mean: no target exit for trend
    assert s.exit_signal(1000, -0.1) is ExitReason.TRAIL  # 4 ticks under the entry


def test_trailing_stop_ratchets_and_never_loosens() -> None:
    stop = TrailingStop(Side.BUY, 1000, 4)
    assert stop.level == 996
    assert not stop.update(1006)
    assert stop.level == 1002
    assert not stop.update(1003)
    assert stop.level == 1002  # a pullback does not lower it
    assert stop.update(1002)
    short = TrailingStop(Side.SELL, 1000, 4)
    assert not short.update(995)
    assert short.level == 999
    assert not short.update(998)
    assert short.update(999)
    with pytest.raises(ValueError, match="offset"):
        TrailingStop(Side.BUY, 1000, 0)


def test_range_trade_is_also_protected_by_the_trailing_stop() -> None:
    s = _strategy()
    s.open_trade(Side.SELL, Regime.RANGE, 1004)
    assert s.exit_signal(1008, 2.4) is ExitReason.TRAIL


def test_no_signal_without_statistics() -> None:
    s = ZScoreStrategy(StrategyConfig(lookback_bars=20))
    assert s.entry_signal(s.zscore(1000), Regime.RANGE, 0.0) is None
    assert s.exit_signal(1000, None) is None  # no open trade
