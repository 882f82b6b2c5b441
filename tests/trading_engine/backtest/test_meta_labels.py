"""P&L-aligned labels: each window is labelled by what trading it in each regime netted, after fees."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator

import numpy as np
import pytest

from regime.contracts import Regime
from regime.dataset import build_dataset
from regime.features import FeatureSpec
from regime.labels import LabelSpec
from regime.models import TrainConfig
from regime.synthetic import synthetic_days
from trading_engine.backtest.fast.engine import FastEngine
from trading_engine.backtest.meta_labels import compare_label_sets, pnl_dataset, window_net
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import load_config
from trading_engine.fees import fee_schedule
from trading_engine.instruments import SYNTHETIC_SESSION, contract
from trading_engine.regime_source import FixedRegime


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def test_window_net_sums_the_trips_entered_in_each_window() -> None:
    entry = np.array([0.0, 30.0, 60.0, 299.0, 300.0])
    net = np.array([1.0, -3.0, 5.0, 2.0, 7.0])
    assert window_net(entry, net, np.array([0.0, 60.0, 300.0, 900.0]), 300.0).tolist() == [
        5.0,
        14.0,
        7.0,
        0.0,
    ]


def test_labels_are_the_net_of_each_regime_over_the_next_window() -> None:
    market = synthetic_days(2, seed=3)
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    engine = FastEngine(MarketTape.from_synthetic(market), spec, fee_schedule("ib-tiered", "CL"))
    config = load_config()
    ds = build_dataset(market.bars, FeatureSpec(tick_size=0.01), LabelSpec())
    meta = pnl_dataset(ds, engine, config, horizon=5)
    assert 0.0 < meta.range.mean() < 1.0 and 0.0 < meta.trend.mean() < 1.0
    # Against the ledger's own round-trip records, window by window.
    for regime, labels in ((Regime.RANGE, meta.range), (Regime.TREND, meta.trend)):
        _, trips = engine.records(engine.run(config, FixedRegime(regime)))
        for k in range(0, len(ds), 37):
            start = (int(ds.minute[k]) + 1) * 60.0
            total = sum(float(t.net_usd) for t in trips if start <= t.entry_ts.timestamp() < start + 300.0)
            assert labels[k] == (total > 0)


@pytest.mark.slow
def test_both_label_sets_side_by_side_out_of_sample() -> None:
    market = synthetic_days(8, seed=8)
    bars = market.bars
    cut = int(np.searchsorted(bars.minute, bars.minute[0] + 6 * 1440))
    train, test = bars.take(np.arange(cut)), bars.take(np.arange(cut, len(bars)))
    small = TrainConfig(folds=2, mlp_max_iter=60, svm_max_samples=400, gbt_iterations=30)
    spec = contract("CL").with_session(SYNTHETIC_SESSION)
    out = compare_label_sets(train, test, spec, load_config(), fee_schedule("ib-tiered", "CL"), small)
    assert set(out) == {"price", "pnl"}
    for figures in out.values():
        if "error" in figures:  # too few winning windows to fit a hemisphere: said plainly, not crashed on
            assert figures["error"].startswith("pnl labels:")
            continue
        assert figures["train_samples"] > 100 and figures["test_samples"] > 50
        for auc in figures["auc"].values():
            assert math.isnan(auc) or 0.0 <= auc <= 1.0
        assert figures["trips"] >= 0
    assert "error" not in out["price"]
    if "error" not in out["pnl"]:
        assert out["price"]["base_rate"] != out["pnl"]["base_rate"]  # two different questions
