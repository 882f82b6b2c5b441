"""Features: 50 inputs, no look-ahead, one answer from the single-window and batch paths, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from regime.bar_series import BarSeries
from regime.features import FeatureSpec, InsufficientHistory, feature_matrix, window_features
from regime.synthetic import SyntheticMarket

SPEC = FeatureSpec()


def test_about_fifty_named_inputs() -> None:
    assert len(SPEC.names) == 50 == len(set(SPEC.names))
    assert SPEC.min_bars == 65


def test_rows_have_values_once_history_is_long_enough(small_market: SyntheticMarket) -> None:
    bars = small_market.bars.take(slice(0, 300))
    f = feature_matrix(bars, SPEC)
    assert f.shape == (300, 50)
    assert np.isnan(f[: SPEC.min_bars - 1]).all()
    assert np.isfinite(f[SPEC.min_bars - 1 :]).all()
    assert np.abs(f[SPEC.min_bars - 1 :]).max() <= SPEC.clip


def test_bars_after_t_do_not_move_the_features_at_t(small_market: SyntheticMarket) -> None:
    s = small_market.bars.take(slice(0, 400))
    t = 250
    before = feature_matrix(s, SPEC)[: t + 1]
    rng = np.random.default_rng(0)
    shock = rng.uniform(0.5, 2.0, len(s) - t - 1)
    changed = BarSeries(
        s.symbol, s.minute,
        np.concatenate((s.open[: t + 1], s.open[t + 1 :] * shock)),
        np.concatenate((s.high[: t + 1], s.high[t + 1 :] * shock * 1.01)),
        np.concatenate((s.low[: t + 1], s.low[t + 1 :] * shock * 0.99)),
        np.concatenate((s.close[: t + 1], s.close[t + 1 :] * shock)),
        np.concatenate((s.volume[: t + 1], s.volume[t + 1 :] * 7)),
        s.segment, s.filled,
    )  # fmt: skip
    after = feature_matrix(changed, SPEC)
    np.testing.assert_array_equal(before, after[: t + 1])
    assert not np.allclose(feature_matrix(s, SPEC)[t + 1 :], after[t + 1 :])
    np.testing.assert_allclose(window_features(changed.take(slice(0, t + 1)), SPEC)[0], before[t], atol=1e-9)


def test_single_window_path_equals_batch_path(small_market: SyntheticMarket) -> None:
    s = small_market.bars.take(slice(0, 600))
    batch = feature_matrix(s, SPEC)
    for t in range(SPEC.min_bars - 1, 600, 37):
        np.testing.assert_allclose(
            window_features(s.take(slice(0, t + 1)), SPEC)[0], batch[t], rtol=0, atol=1e-9
        )


def assert_every_window_equals_the_batch_path(s: BarSeries, spec: FeatureSpec) -> int:
    """Every third window of `s`: the single-window path within 1e-9 of the batch path (or the error where
    the batch path has too little history). Returns how many windows were compared."""
    batch = feature_matrix(s, spec)
    compared = 0
    for t in range(spec.min_bars - 1, len(s), 3):
        if np.isnan(batch[t]).any():  # too little history since a break: an error on the window path
            with pytest.raises(InsufficientHistory):
                window_features(s.take(slice(0, t + 1)), spec)
            continue
        single = window_features(s.take(slice(0, t + 1)), spec)[0]
        np.testing.assert_allclose(single, batch[t], rtol=0, atol=1e-9)
        compared += 1
    return compared


def test_single_window_path_equals_the_batch_path_on_every_window(small_market: SyntheticMarket) -> None:
    """The decision's path computes only the last bars' indicators, by its own linear algebra (on closes
    centred on the last one): on every window of the first 1,500 bars (the daily break included) it gives
    the batch path's numbers to 1e-9."""
    assert assert_every_window_equals_the_batch_path(small_market.bars.take(slice(0, 1500)), SPEC) > 400


def rescaled(s: BarSeries, level: float, tick: float) -> BarSeries:
    """`s` (a market around 70 with a 0.01 tick) moved to around `level`, its moves counted in `tick`s."""
    base = s.close[0]

    def move(p: np.ndarray) -> np.ndarray:
        return np.asarray(np.round(level + (p - base) / 0.01 * tick, 4))

    return BarSeries(s.symbol, s.minute, move(s.open), move(s.high), move(s.low), move(s.close), s.volume,
                     s.segment, s.filled)  # fmt: skip


@pytest.mark.parametrize(("level", "tick"), [(4000.0, 0.25), (70.0, 0.01), (1.2, 0.0001)])
def test_single_window_path_holds_at_every_price_level(
    small_market: SyntheticMarket, level: float, tick: float
) -> None:
    """MES near 4,000 (tick 0.25), CL near 70 (tick 0.01), a currency near 1.2: the sums of the window path
    are on centred closes, so a high price level costs it no precision against the batch path."""
    s = rescaled(small_market.bars.take(slice(0, 900)), level, tick)
    assert assert_every_window_equals_the_batch_path(s, FeatureSpec(tick_size=tick)) > 250


def test_window_path_floors_as_the_batch_path_does() -> None:
    """Flat stretches: the ATR and the z-score's sd at their floors, a zero path (RSI and efficiency 0)."""
    n = 200
    rng = np.random.default_rng(7)
    steps = np.where(rng.random(n) < 0.15, rng.choice([-0.25, 0.25], n), 0.0)
    close = 4000.0 + np.cumsum(steps)
    close[120:] = close[119]  # the last 80 bars flat: every window of the last row is flat
    s = BarSeries.from_arrays("MES", np.arange(n), close, close, close, close, rng.integers(0, 50, n))
    spec = FeatureSpec(tick_size=0.25)
    assert assert_every_window_equals_the_batch_path(s, spec) > 40
    last = window_features(s, spec)[0]
    assert (last == 0.0).sum() >= 40  # nothing moves: returns, deviations, RSI, slope, efficiency, z-score


def test_too_short_history_is_a_clear_error(small_market: SyntheticMarket) -> None:
    with pytest.raises(InsufficientHistory, match=r"only 64 contiguous .* need 65"):
        window_features(small_market.bars.take(slice(0, 64)), SPEC)


def test_history_cut_by_a_gap_is_too_short(small_market: SyntheticMarket) -> None:
    s = small_market.bars
    # The first bars of the second session: the daily break cuts the history.
    second = int(np.flatnonzero(np.diff(s.segment))[0]) + 1
    with pytest.raises(InsufficientHistory, match="only 10 contiguous"):
        window_features(s.take(slice(0, second + 10)), SPEC)
    assert np.isnan(feature_matrix(s, SPEC)[second : second + SPEC.min_bars - 1]).all()


def test_flat_market_gives_finite_features() -> None:
    n = 100
    flat = np.full(n, 70.0)
    s = BarSeries.from_arrays("CL", np.arange(n), flat, flat, flat, flat, np.zeros(n))
    assert np.isfinite(window_features(s, SPEC)).all()


def test_features_are_indifferent_to_price_level(small_market: SyntheticMarket) -> None:
    s = small_market.bars.take(slice(0, 200))
    shifted = BarSeries(s.symbol, s.minute, s.open + 30, s.high + 30, s.low + 30, s.close + 30,
                        s.volume, s.segment, s.filled)  # fmt: skip
    np.testing.assert_allclose(feature_matrix(s, SPEC)[-1], feature_matrix(shifted, SPEC)[-1], atol=1e-8)


def test_window_path_follows_any_feature_spec(small_market: SyntheticMarket) -> None:
    """Other windows and lags (the weight matrix is built from the spec): the batch path's numbers still."""
    spec = FeatureSpec(
        sma=5, lma=30, rsi=7, atr=9, atr_long=40, slope=6, efficiency=8, zscore=12, volume=25, lags=3
    )
    assert spec.min_bars == 43
    assert assert_every_window_equals_the_batch_path(small_market.bars.take(slice(0, 600)), spec) > 150
    assert window_features(small_market.bars.take(slice(0, 100)), spec).shape == (1, 30)
