"""The fast engine gives exactly the reference engine's fills and round trips, record for record.

Each case replays a whole tape through both: the reference (SimBroker + TradingSession + Trader) and the
fast loop, then compares every Fill (execution id, order id, side, qty, price, time, commission, regime,
z-score, role, signal and acknowledgement times, order type) and every RoundTrip.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from regime.bar_file import load_bar_file
from regime.bar_series import BarSeries
from regime.contracts import Regime
from regime.synthetic import SyntheticMarket, synthetic_days
from trading_engine.backtest.backtest_results import TripColumns, summarize
from trading_engine.backtest.fast.fast_engine import FastEngine, run_fast_backtest
from trading_engine.backtest.regime_choices import hindsight_timeline, random_timeline
from trading_engine.backtest.risk_caps import without_risk_caps
from trading_engine.backtest.runner import run_backtest
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import HostConfig, load_config
from trading_engine.fees import RETAIL, TIERED, FeeSchedule, fee_schedule
from trading_engine.instruments import SYNTHETIC_SESSION, ContractSpec, contract
from trading_engine.regime_source import FixedRegime, RegimeSource, RegimeTimeline

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    logging.disable(logging.WARNING)  # the reference logs every order
    yield
    logging.disable(logging.NOTSET)


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return synthetic_days(2, seed=3)


def _same(
    tape: MarketTape, spec: ContractSpec, config: HostConfig, fees: FeeSchedule, regime: RegimeSource
) -> int:
    """Run both engines; assert identical records; return the number of fills."""
    _, trader = run_backtest("ref", tape, spec, config, fees, regime)
    engine = FastEngine(tape, spec, fees)
    run = engine.run(config, regime)
    fills, trips = engine.records(run)
    assert run.loss_limit_days == trader.snapshot().risk.loss_limit_days
    ref_fills, ref_trips = trader.fills(), trader.round_trips()
    assert len(fills) == len(ref_fills)
    for ours, theirs in zip(fills, ref_fills, strict=True):
        assert ours == theirs
    assert trips == ref_trips
    assert engine.columns(run) == TripColumns.of(ref_trips)  # the figures without booking: the same trips
    return len(fills)


def _with(config: HostConfig, **sections: dict[str, object]) -> HostConfig:
    parts = {name: dataclasses.replace(getattr(config, name), **values) for name, values in sections.items()}
    return dataclasses.replace(config, **parts)


CASES: dict[str, dict[str, dict[str, object]]] = {
    "defaults": {},
    "stop exits at the touch, 1 tick of slippage": {
        "execution": {"stop_exit": "touch"},
        "sim": {"slippage_ticks": 1},
    },
    "stop exits at market, tight limits": {
        "execution": {"stop_exit": "market", "fill_timeout_s": 1.0},
        "risk": {"max_daily_loss_usd": 25.0, "max_orders_per_minute": 1},
        "strategy": {"z_thresh": 1.5, "z_target": 0.0, "stop_offset_ticks": 2},
    },
    "exits in ATR units, slippage growing with volatility": {
        "strategy": {"stop_atr": 1.5, "target_atr": 2.0, "atr_bars": 5},
        "sim": {"slippage_atr": 0.5, "slippage_atr_bars": 3},
        "execution": {"stop_exit": "market"},
    },
    "the wider family: entry windows, an ATR percentile band, a maximum holding time": {
        "strategy": {
            "entry_windows": ("01:00-09:30", "13:00-21:00"),
            "atr_pct_low": 15.0,
            "atr_pct_high": 85.0,
            "atr_pct_bars": 120,
            "max_hold_bars": 4,
        },
    },
    "two contracts, slow acknowledgements": {
        "execution": {"order_qty": 2},
        "risk": {"max_position": 2},
        "sim": {"ack_latency_s": 0.8},
        "strategy": {"lookback_bars": 10},
    },
}


@pytest.mark.parametrize("case", list(CASES))
def test_same_fills_on_synthetic_days(market: SyntheticMarket, case: str) -> None:
    tape = MarketTape.from_synthetic(market)
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    config = _with(load_config(), **CASES[case])
    total = 0
    for regime in (
        FixedRegime(Regime.RANGE),
        FixedRegime(Regime.TREND),
        random_timeline(market.bars, seed=4),
    ):
        total += _same(tape, spec, config, TIERED, regime)
    assert total > 20  # the comparison is about trades, not about two empty lists


FAMILY = "the wider family: entry windows, an ATR percentile band, a maximum holding time"


def _confident(series: BarSeries, seed: int) -> RegimeTimeline:
    """A random regime for each 5-minute window with a random vote confidence (1 to 3, as three models'
    agreeing probabilities sum), as a model's timeline carries them."""
    timeline = random_timeline(series, seed)
    rng = np.random.default_rng(seed)
    per_window = rng.uniform(1.0, 3.0, size=timeline.codes.shape[0] // 5 + 2)
    minutes = np.arange(timeline.codes.shape[0]) + timeline.first_minute
    return RegimeTimeline(timeline.first_minute, timeline.codes, per_window[minutes // 5 - minutes[0] // 5])


def test_the_family_rules_change_the_trades_and_the_engines_agree(market: SyntheticMarket) -> None:
    """Each rule of the family bites (fewer entries, max-hold exits), identically in both engines; the
    minimum vote confidence under a timeline that carries confidences."""
    tape = MarketTape.from_synthetic(market)
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    engine, base = FastEngine(tape, spec, TIERED), load_config()
    regime = _confident(market.bars, seed=5)
    family = _with(base, **CASES[FAMILY])
    confident = _with(base, strategy={"min_confidence": 2.2})
    runs = {name: engine.records(engine.run(c, regime))[1] for name, c in
            (("base", base), ("family", family), ("confident", confident))}  # fmt: skip
    assert len(runs["family"]) < len(runs["base"]) and len(runs["confident"]) < len(runs["base"])
    assert any(t.exit_reason == "max-hold" for t in runs["family"])
    both = _with(family, strategy={**CASES[FAMILY]["strategy"], "min_confidence": 2.2})
    assert _same(tape, spec, confident, TIERED, regime) > 10
    assert _same(tape, spec, both, TIERED, regime) > 10


def test_same_fills_from_bars_with_hindsight_regimes(market: SyntheticMarket) -> None:
    """The bars-only path (intra-bar walk, modelled spread) under a minute-by-minute regime timeline."""
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    tape = MarketTape.from_bars(market.bars, spec, spread_ticks=2)
    from regime.features import FeatureSpec
    from regime.labels import LabelSpec

    timeline = hindsight_timeline(market.bars, LabelSpec(), FeatureSpec(tick_size=0.01))
    assert _same(tape, spec, load_config(), RETAIL, timeline) > 10


def test_a_second_run_reuses_the_prepared_tape(market: SyntheticMarket) -> None:
    tape = MarketTape.from_synthetic(market)
    engine = FastEngine(tape, contract("CL").with_session(SYNTHETIC_SESSION), TIERED)
    regime = FixedRegime(Regime.TREND)
    first = engine.run(load_config(), regime)
    again = engine.run(load_config(), regime)
    np.testing.assert_array_equal(first.fills, again.fills)
    looser = engine.run(_with(load_config(), strategy={"z_thresh": 1.5}), regime)
    assert looser.n_fills != first.n_fills  # the parameters do reach the loop


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "symbol"), [("MCL_1m_2026-01-15_2026-02-27.csv", "MCL"), ("MES_1m_2023.csv", "MES")]
)
def test_same_fills_on_a_slice_of_real_bars(name: str, symbol: str) -> None:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip("../shared/data is not present on this machine")
    series = load_bar_file(path, symbol=symbol).series
    series = series.take(np.arange(6000, 12000))  # about four trading days: the daily break, the blackout
    spec = contract(symbol)
    tape = MarketTape.from_bars(series, spec, 1)
    config = _with(load_config(), risk={"max_daily_loss_usd": 60.0})
    total = sum(
        _same(tape, spec, config, fee_schedule("ib-tiered", symbol), regime)
        for regime in (FixedRegime(Regime.RANGE), FixedRegime(Regime.TREND), random_timeline(series, seed=2))
    )
    assert total > 100
    # The wider family, in the instrument's own exchange time (New York), a model-like confident timeline.
    family = _with(
        config,
        strategy={
            "entry_windows": ("03:00-11:30", "13:00-16:00"),
            "atr_pct_low": 20.0,
            "atr_pct_high": 90.0,
            "max_hold_bars": 6,
            "min_confidence": 2.0,
        },
    )
    fees = fee_schedule("ib-tiered", symbol)
    assert (
        _same(tape, spec, family, fees, _confident(series, seed=2))
        + _same(tape, spec, family, fees, FixedRegime(Regime.RANGE))
        > 30
    )


def test_a_new_regime_source_never_reads_a_freed_ones_regimes(market: SyntheticMarket) -> None:
    """Regimes are cached per source: a source created after another was freed (often at the same address,
    so with the same id) must get its own."""
    tape = MarketTape.from_synthetic(market)
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    trend = FastEngine(tape, spec, TIERED).run(load_config(), FixedRegime(Regime.TREND)).fills
    engine, config = FastEngine(tape, spec, TIERED), load_config()
    for _ in range(5):
        first = FixedRegime(Regime.RANGE)
        engine.run(config, first)
        del first  # freed: the next object of its size usually takes its place, and its id
        np.testing.assert_array_equal(engine.run(config, FixedRegime(Regime.TREND)).fills, trend)


@pytest.mark.realdata
@pytest.mark.slow
def test_the_commands_figures_are_the_ledgers_on_a_whole_year() -> None:
    """`regime-trader backtest` takes its figures from the fill rows: over the whole MES year (32,000
    executions) they are exactly those of the records PositionLedger books, to the cent and the bit."""
    path = SHARED_DATA / "MES_1m_2023.csv"
    if not path.exists():
        pytest.skip("../shared/data is not present on this machine")
    spec = contract("MES")
    engine = FastEngine(
        MarketTape.from_bars(load_bar_file(path).series, spec, 1), spec, fee_schedule("ib-tiered", "MES")
    )
    # Caps lifted: MES's default loss limit (30 ticks a day) would stop most days after a few trips.
    config, regime = without_risk_caps(load_config()), FixedRegime(Regime.RANGE)
    result = run_fast_backtest("range", engine, config, regime)
    run = engine.run(config, regime)
    _, trips = engine.records(run)
    assert len(trips) > 10_000
    expected = summarize(
        "range",
        trips,
        hours=engine.n_bars / 60.0,
        ticks=engine.n_ticks,
        bars=engine.n_bars,
        seconds=result.seconds,
        loss_limit_days=run.loss_limit_days,
        engine="fast",
    )
    assert result == expected


def test_a_batch_gives_each_configuration_exactly_what_it_gives_alone(market: SyntheticMarket) -> None:
    """`run_many`: configurations of different lookbacks, stops, ATR exits and regimes in compiled batches
    across the cores; each run equals its run alone, including one that outgrows its fill rows."""
    tape = MarketTape.from_synthetic(market)
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    base = load_config()
    configs = [
        _with(base, strategy={"z_thresh": 1.5, "stop_offset_ticks": 2}),
        _with(base, strategy={"lookback_bars": 10}),
        _with(base, **CASES[FAMILY]),
        _with(base, strategy={"min_confidence": 2.2, "atr_pct_low": 10.0}),
        _with(base, **CASES["exits in ATR units, slippage growing with volatility"]),
        _with(base, **CASES["stop exits at market, tight limits"]),
        base,
    ]
    regimes: list[RegimeSource] = [FixedRegime(Regime.RANGE), _confident(market.bars, seed=4)]
    jobs = [(c, r) for c in configs for r in regimes]
    engine = FastEngine(tape, spec, TIERED)
    alone = [engine.run(c, r) for c, r in jobs]
    engine._capacity = 64  # fewer fill rows than the busiest configurations need: those run again alone
    assert max(run.n_fills for run in alone) > engine._capacity
    for batch in (3, 16):
        together = engine.run_many(jobs, batch=batch)
        assert len(together) == len(jobs)
        for one, many in zip(alone, together, strict=True):
            np.testing.assert_array_equal(many.fills, one.fills)
            assert (many.n_orders, many.end_time, many.loss_limit_days) == (
                one.n_orders,
                one.end_time,
                one.loss_limit_days,
            )
    assert sum(run.n_fills for run in alone) > 100
