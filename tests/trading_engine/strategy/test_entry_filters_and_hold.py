"""The wider family of the z-score strategy: a minimum vote confidence, entry windows of exchange time, an
ATR percentile band (entries) and a maximum holding time (an exit with its own reason). Each is off by
default; the fast engine restates each (tests/trading_engine/backtest/test_fast_engine.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from regime.contracts import ExitReason, Regime, Side
from trading_engine.broker.port import MinuteBar
from trading_engine.config import ConfigError, HostConfig, StrategyConfig, parse_config, strategy_hash
from trading_engine.strategy.zscore_strategy import ZScoreStrategy, in_windows

NOON_UTC = datetime(2026, 2, 11, 12, 0, tzinfo=UTC).timestamp()  # 07:00 in New York (EST)


def _warm(config: StrategyConfig, tz: str = "UTC") -> ZScoreStrategy:
    s = ZScoreStrategy(dataclasses.replace(config, lookback_bars=4), tz)
    for minute, close in enumerate([1000, 1002, 998, 1000]):  # z(1004) ~ 2.45: a range entry (SELL)
        s.on_bar(MinuteBar(minute, close, close, close, close, 1))
    return s


def test_below_the_minimum_vote_confidence_no_entry() -> None:
    s = _warm(StrategyConfig(min_confidence=2.0))
    z = s.zscore(1004)
    assert s.entry_signal(z, Regime.RANGE, NOON_UTC, 1.99) is None
    assert s.entry_signal(z, Regime.RANGE, NOON_UTC, 2.0) is Side.SELL  # at the minimum: allowed
    assert s.entry_signal(z, Regime.RANGE, NOON_UTC, None) is Side.SELL  # a fixed regime has no confidence
    assert _warm(StrategyConfig()).entry_signal(z, Regime.RANGE, NOON_UTC, 0.1) is Side.SELL  # off by default


def test_entries_only_inside_the_windows_of_exchange_time() -> None:
    config = StrategyConfig(entry_windows=("06:30-07:00", "09:00-11:30"))
    z = _warm(config).zscore(1004)
    # 12:00 UTC is 07:00 in New York: just outside the first window (its end is excluded) ...
    assert _warm(config, "America/New_York").entry_signal(z, Regime.RANGE, NOON_UTC, None) is None
    assert _warm(config, "America/New_York").entry_signal(z, Regime.RANGE, NOON_UTC - 60, None) is Side.SELL
    # ... and the same instant is 12:00 on a session kept in UTC (the synthetic market): outside both.
    assert _warm(config, "UTC").entry_signal(z, Regime.RANGE, NOON_UTC, None) is None
    assert _warm(config, "UTC").entry_signal(z, Regime.RANGE, NOON_UTC - 2 * 3600, None) is Side.SELL


def test_a_window_whose_end_is_before_its_start_runs_past_midnight() -> None:
    overnight = ((22 * 60, 2 * 60),)
    assert in_windows(23 * 60, overnight) and in_windows(0, overnight) and in_windows(119, overnight)
    assert not in_windows(120, overnight) and not in_windows(12 * 60, overnight)
    assert in_windows(12 * 60, ())  # no windows: any time


def _bars(s: ZScoreStrategy, ranges: list[int], start: int = 0) -> None:
    for k, r in enumerate(ranges):
        s.on_bar(MinuteBar(start + k, 1000, 1000 + r, 1000, 1000, 1))


def test_the_atr_percentile_band_is_causal_and_filters_entries() -> None:
    config = StrategyConfig(lookback_bars=4, atr_bars=1, atr_pct_bars=4, atr_pct_low=50.0, atr_pct_high=100.0)
    s = ZScoreStrategy(config)
    _bars(s, [4, 3, 2])
    assert s.atr_pct.value is None  # fewer than 4 ATR values: no percentile, no entry
    _bars(s, [5], start=3)
    assert s.atr_pct.value == 100.0  # 5 is the highest of 4, 3, 2, 5
    _bars(s, [1], start=4)
    assert s.atr_pct.value == 25.0  # 1 among 3, 2, 5, 1: only itself at or below
    assert not s.entry_allowed(NOON_UTC, None)
    _bars(s, [3], start=5)
    assert s.atr_pct.value == 75.0  # 3 among 2, 5, 1, 3: 2, 1 and itself at or below
    assert s.entry_allowed(NOON_UTC, None)
    _bars(s, [9], start=100)  # after the daily break: the ATR restarts, its history does not
    assert s.atr_pct.value == 100.0
    assert ZScoreStrategy(StrategyConfig()).entry_allowed(NOON_UTC, None)  # band off: no history needed


def test_a_position_held_max_hold_bars_closes_with_its_own_reason() -> None:
    s = _warm(StrategyConfig(max_hold_bars=3))
    s.open_trade(Side.BUY, Regime.TREND, 1000)
    _bars(s, [1, 1], start=4)
    assert s.exit_signal(1000, 0.0) is None  # two bars held
    _bars(s, [1], start=6)
    assert s.exit_signal(1000, 0.0) is ExitReason.MAX_HOLD
    assert s.exit_signal(996, 0.0) is ExitReason.TRAIL  # the stop's own exit keeps its reason
    s.open_trade(Side.SELL, Regime.TREND, 1000)  # a new trade counts from its own entry
    assert s.exit_signal(1000, 0.0) is None
    unlimited = _warm(StrategyConfig())
    unlimited.open_trade(Side.BUY, Regime.TREND, 1000)
    _bars(unlimited, [1] * 50, start=4)
    assert unlimited.exit_signal(1000, 0.0) is None


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ({"min_confidence": 3.5}, "strategy.min_confidence"),
        ({"entry_windows": ["9:00-9:00"]}, "entry_windows"),
        ({"entry_windows": ["nine to five"]}, "entry_windows"),
        ({"entry_windows": "09:00-10:00"}, "entry_windows"),
        ({"max_hold_bars": -1}, "strategy.max_hold_bars"),
        ({"atr_pct_low": 60.0, "atr_pct_high": 40.0}, "atr_pct_low"),
        ({"atr_pct_bars": 0}, "strategy.atr_pct_bars"),
    ],
)
def test_a_bad_family_value_is_an_error_naming_it(strategy: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"strategy": strategy})


def test_windows_from_toml_arrays_and_the_hash_of_configs_without_the_family() -> None:
    config = parse_config({"strategy": {"entry_windows": ["09:00-11:30"], "max_hold_bars": 30}})
    assert config.strategy.entry_windows == ("09:00-11:30",)
    hash(config)  # hashable: the fast engine keys its caches on configuration parts
    # The rules left off do not enter the hash: evidence recorded before them still names its config.
    assert strategy_hash(HostConfig()) == "c69aec401268"  # its value before the family
    assert strategy_hash(config) != strategy_hash(HostConfig())
