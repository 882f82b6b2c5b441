"""The fast engine's per-tick inputs are the reference's own: z-scores ZScoreStrategy's, tick for tick, to
the last bit; ATR totals AverageTrueRange's, bar for bar; regimes RegimeTimeline.regime_at's, tick for
tick."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from regime.synthetic import synthetic_days
from trading_engine.backtest.fast.inputs import _CODES, TapeArrays, bar_atr_totals, tick_regimes, tick_zscores
from trading_engine.broker.port import MinuteBar
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import StrategyConfig
from trading_engine.indicators.average_true_range import AverageTrueRange
from trading_engine.regime_source import RegimeTimeline
from trading_engine.strategy.zscore_strategy import ZScoreStrategy


def _holed(tape: TapeArrays) -> TapeArrays:
    """The tape's bars with holes (so that runs restart and ticks fall between runs)."""
    keep = np.ones(tape.bar_minute.shape[0], dtype=bool)
    keep[300:340] = False
    keep[900:903] = False
    return dataclasses.replace(
        tape,
        bar_end=np.ascontiguousarray(tape.bar_end[keep]),
        bar_minute=tape.bar_minute[keep],
        bar_close=tape.bar_close[keep],
        bar_high=tape.bar_high[keep],
        bar_low=tape.bar_low[keep],
    )


def _reference(tape: TapeArrays, lookback: int, reset_gap: int) -> np.ndarray:
    """ZScoreStrategy.zscore(last) at each tick, the bars complete by the tick's time pushed first."""
    strategy = ZScoreStrategy(StrategyConfig(lookback_bars=lookback, reset_gap_minutes=reset_gap))
    out, k = np.empty(tape.time.shape[0]), 0
    for i, (t, last) in enumerate(zip(tape.time.tolist(), tape.last.tolist(), strict=True)):
        while k < tape.bar_end.shape[0] and tape.bar_end[k] <= t:
            b = MinuteBar(int(tape.bar_minute[k]), 0, int(tape.bar_high[k]), int(tape.bar_low[k]),
                          int(tape.bar_close[k]), 0)  # fmt: skip
            strategy.on_bar(b)
            k += 1
        z = strategy.zscore(last)
        out[i] = np.nan if z is None else z
    return out


@pytest.mark.parametrize(("lookback", "reset_gap"), [(20, 5), (7, 1)])
def test_the_tick_zscores_are_the_strategys(lookback: int, reset_gap: int) -> None:
    tape = _holed(TapeArrays.from_tape(MarketTape.from_synthetic(synthetic_days(2, seed=11))))
    ours = tick_zscores(tape, lookback, reset_gap)
    theirs = _reference(tape, lookback, reset_gap)
    np.testing.assert_array_equal(ours, theirs)  # NaN where the strategy has none, else the same bits
    assert np.isfinite(ours).sum() > tape.time.shape[0] // 2


def test_a_tick_earlier_than_the_one_before_reads_the_bars_complete_by_its_own_time() -> None:
    market = synthetic_days(1, seed=2)
    tape = TapeArrays.from_tape(MarketTape.from_synthetic(market))
    order = np.arange(tape.time.shape[0])
    order[1000:3000] = order[1000:3000][::-1]  # a stretch of ticks out of time order
    shuffled = dataclasses.replace(tape, time=tape.time[order], last=tape.last[order])
    z = tick_zscores(shuffled, 20, 5)
    np.testing.assert_array_equal(z, tick_zscores(tape, 20, 5)[order])


@pytest.mark.parametrize(("window", "reset_gap"), [(14, 5), (3, 1), (14, None)])
def test_the_atr_totals_are_average_true_ranges(window: int, reset_gap: int | None) -> None:
    tape = _holed(TapeArrays.from_tape(MarketTape.from_synthetic(synthetic_days(2, seed=4))))
    total, full = bar_atr_totals(tape, window, reset_gap)
    atr, previous = AverageTrueRange(window), None
    for k, (minute, high, low, close) in enumerate(
        zip(
            *(a.tolist() for a in (tape.bar_minute, tape.bar_high, tape.bar_low, tape.bar_close)), strict=True
        )
    ):
        if reset_gap is not None and previous is not None and minute - previous > reset_gap:
            atr.reset()
        previous = minute
        atr.push(high, low, close)
        assert bool(full[k]) == (atr.total is not None), k
        if atr.total is not None:
            assert int(total[k]) == atr.total, k
    assert total.dtype == np.int64 and full.sum() > len(full) // 2


def test_the_tick_regimes_are_the_timelines() -> None:
    tape = TapeArrays.from_tape(MarketTape.from_synthetic(synthetic_days(2, seed=6)))
    minutes = int(tape.time[-1] // 60 - tape.time[0] // 60)
    codes = np.random.default_rng(1).integers(0, 3, minutes // 2).astype(np.int8)
    # the timeline starts after the first tick and ends before the last: ticks outside it are `nothing`
    timeline = RegimeTimeline(int(tape.time[0] // 60) + minutes // 4, codes)
    theirs = np.array([_CODES[timeline.regime_at(t)] for t in tape.time.tolist()], dtype=np.int8)
    ours = tick_regimes(timeline, tape.time)
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == np.int8 and (ours == 0).sum() > len(ours) // 3 and len(set(ours.tolist())) == 3
