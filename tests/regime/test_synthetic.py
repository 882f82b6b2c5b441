"""The synthetic market: deterministic, on the tick grid, bars true to the ticks, regimes as specified."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from regime.contracts.synthetic_calendar import SESSION_MINUTES
from regime.synthetic import MarketSpec, affine_scan, generate, synthetic_days
from regime.vote import NOTHING, RANGE, TREND


def test_same_seed_same_market_other_seed_other_market() -> None:
    a, b, c = synthetic_days(2, seed=5), synthetic_days(2, seed=5), synthetic_days(2, seed=6)
    np.testing.assert_array_equal(a.ticks.last_ticks, b.ticks.last_ticks)
    np.testing.assert_array_equal(a.truth, b.truth)
    assert not np.array_equal(a.bars.close[:500], c.bars.close[:500])


def test_quotes_are_on_the_grid_and_trades_at_the_touch() -> None:
    t = synthetic_days(2, seed=1).ticks
    assert (t.ask_ticks > t.bid_ticks).all()
    spread = t.ask_ticks - t.bid_ticks
    assert set(np.unique(spread).tolist()) <= {1, 2} and (spread == 1).mean() > 0.9
    assert ((t.last_ticks == t.bid_ticks) | (t.last_ticks == t.ask_ticks)).all()
    assert (np.diff(t.time) >= 0).all() and (t.size >= 1).all()


def test_bars_are_the_ticks_aggregated() -> None:
    m = synthetic_days(1, seed=2)
    t, bars = m.ticks, m.bars
    minute = (t.time // 60).astype(np.int64)
    i = 700
    sel = minute == bars.minute[i]
    assert bars.open[i] == pytest.approx(t.last_ticks[sel][0] * 0.01)
    assert bars.close[i] == pytest.approx(t.last_ticks[sel][-1] * 0.01)
    assert bars.high[i] == pytest.approx(t.last_ticks[sel].max() * 0.01)
    assert bars.volume[i] == t.size[sel].sum()
    assert np.allclose(np.round(bars.close / 0.01), bars.close / 0.01)  # on the grid


def test_sessions_have_the_daily_break_and_skip_weekends() -> None:
    m = synthetic_days(6, seed=3, first_day=datetime(2026, 1, 9, tzinfo=UTC).date())  # a Friday
    assert len(m.bars) == 6 * SESSION_MINUTES
    assert len(m.bars.segment_bounds()) == 6
    starts = [datetime.fromtimestamp(int(m.bars.minute[a]) * 60, UTC) for a, _ in m.bars.segment_bounds()]
    assert [s.hour for s in starts] == [22] * 6
    assert starts[1].weekday() == 6  # Friday's session, then Sunday evening for Monday
    no_gaps = generate(MarketSpec(days=2, session_gaps=False))
    assert len(no_gaps.bars.segment_bounds()) == 1


def test_regimes_switch_with_bounded_durations() -> None:
    spec = MarketSpec(days=10, seed=4)
    truth = generate(spec).truth
    changes = np.flatnonzero(np.diff(truth)) + 1
    runs = np.diff(np.concatenate(([0], changes, [truth.shape[0]])))
    assert runs[1:-1].min() >= spec.regime_min_minutes and runs.max() <= spec.regime_max_minutes
    shares = np.bincount(truth, minlength=3) / truth.shape[0]
    assert all(0.15 < shares[c] < 0.55 for c in (NOTHING, TREND, RANGE))


def test_trends_travel_and_ranges_stay() -> None:
    m = synthetic_days(10, seed=8)
    close, truth = m.bars.close, m.truth
    moves = {c: [] for c in (TREND, RANGE)}  # type: dict[int, list[float]]
    for start in range(0, len(close) - 30, 30):
        window = truth[start : start + 30]
        if (window == window[0]).all() and window[0] in moves:
            moves[int(window[0])].append(abs(close[start + 29] - close[start]))
    assert np.median(moves[TREND]) > 2 * np.median(moves[RANGE])


@pytest.mark.parametrize("seed", [3, 8])  # seeds whose trends once walked the price to zero and below
def test_weeks_of_sessions_stay_plausible(seed: int) -> None:
    close = synthetic_days(30, seed=seed).bars.close
    assert close.min() > 0.6 * 70.0 and close.max() < 1.4 * 70.0


def test_prices_stay_positive_even_without_reversion_near_zero() -> None:
    m = generate(MarketSpec(days=5, seed=1, start_price=0.5, reversion_scale=1e6, jump_prob_per_minute=0.05))
    assert m.ticks.bid_ticks.min() >= 1 and m.bars.low.min() >= 0.01


@pytest.mark.parametrize(
    ("field", "value"),
    [("days", 0), ("start_price", -1.0), ("reversion_scale", 0.0), ("vol_persistence", 1.0)],
)
def test_an_impossible_spec_is_refused_by_name(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"MarketSpec.{field} must be"):
        MarketSpec(**{field: value})  # type: ignore[arg-type]


def test_jumps_are_optional() -> None:
    calm = generate(MarketSpec(days=1, seed=9))
    jumpy = generate(MarketSpec(days=1, seed=9, jump_prob_per_minute=0.01, jump_ticks=30))
    assert np.abs(np.diff(jumpy.bars.close)).max() > np.abs(np.diff(calm.bars.close)).max()


def test_affine_scan_matches_the_recursion() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 1.0, 1000), rng.normal(size=1000)
    x, expected = 3.0, []
    for ak, bk in zip(a, b, strict=True):
        x = ak * x + bk
        expected.append(x)
    np.testing.assert_allclose(affine_scan(a, b, 3.0, chunk=64), expected, rtol=1e-9, atol=1e-9)
