"""Labels that fit the trades (meta-labeling): a window is `range` when trading it as a range would have
netted more than zero after fees, `trend` likewise, instead of the price-shape labels of regime.labels.

For each decision window (the `horizon` minutes after a 5-minute boundary), each hemisphere's label is
whether the round trips that the always-range (always-trend) strategy entered in that window netted more
than zero, fees included (fast engine, same configuration as the backtest). `compare_label_sets` trains one
ensemble on each label set over a training span and reports, on a later span, the ROC AUC of each hemisphere
against that set's own labels and the ML backtest's net ticks per round trip.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries
from regime.contracts import Regime
from regime.dataset import Dataset, build_dataset
from regime.inference import RegimeModel
from regime.models import TrainConfig
from trading_engine.backtest.fast.engine import FastEngine
from trading_engine.backtest.regime_choices import ml_timeline
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import HostConfig
from trading_engine.fees import FeeSchedule
from trading_engine.instruments import ContractSpec
from trading_engine.regime_source import FixedRegime

LABEL_SETS = ("price", "pnl")
HEMISPHERE = 3  # models per hemisphere in the ensemble's output (trend first, then range)


def window_net(
    entry_ts: npt.NDArray[np.float64],
    net: npt.NDArray[np.float64],
    starts: npt.NDArray[np.float64],
    width: float,
) -> npt.NDArray[np.float64]:
    """Net USD of the round trips entered in [start, start + width) for each start."""
    order = np.argsort(entry_ts, kind="stable")
    ts, cs = entry_ts[order], np.concatenate(([0.0], np.cumsum(net[order])))
    lo = np.searchsorted(ts, starts, side="left")
    hi = np.searchsorted(ts, starts + width, side="left")
    return cs[hi] - cs[lo]


def pnl_dataset(ds: Dataset, engine: FastEngine, config: HostConfig, horizon: int) -> Dataset:
    """`ds` with its labels replaced by the P&L of trading each regime over each sample's next window."""
    starts = (ds.minute.astype(np.float64) + 1.0) * 60.0
    labels = {}
    for regime in (Regime.TREND, Regime.RANGE):
        entry_ts, net = engine.trip_entries(engine.run(config, FixedRegime(regime)))
        labels[regime] = window_net(entry_ts, net, starts, horizon * 60.0) > 0
    return Dataset(ds.x, labels[Regime.TREND], labels[Regime.RANGE], ds.minute, ds.truth)


def _auc(labels: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> float:
    from sklearn.metrics import roc_auc_score

    if labels.all() or not labels.any():
        return float("nan")  # one class only: no ranking to score
    return float(roc_auc_score(labels, score))


def compare_label_sets(
    train: BarSeries,
    test: BarSeries,
    spec: ContractSpec,
    config: HostConfig,
    fees: FeeSchedule,
    train_config: TrainConfig,
) -> dict[str, Any]:
    """Train on `train` with each label set; score each on `test` (AUC per hemisphere, ML backtest)."""
    from regime.training import train_on_dataset

    engines = {
        name: FastEngine(MarketTape.from_bars(s, spec, config.sim.spread_ticks), spec, fees)
        for name, s in (("train", train), ("test", test))
    }
    fs, ls = train_config.feature_spec, train_config.label_spec
    out: dict[str, Any] = {}
    for label_set in LABEL_SETS:
        sets = {}
        for name, s in (("train", train), ("test", test)):
            ds = build_dataset(s, fs, ls, stride=train_config.stride)
            sets[name] = pnl_dataset(ds, engines[name], config, ls.horizon) if label_set == "pnl" else ds
        try:
            ensemble = train_on_dataset(
                sets["train"], train_config, source={"labels": label_set}, evaluate=False
            )
        except ValueError as exc:  # e.g. a regime that never nets anything: one class, nothing to learn
            out[label_set] = {"error": f"{label_set} labels: {exc}"}
            continue
        model = RegimeModel.load(ensemble.onnx_bytes)
        probs = model.probabilities(sets["test"].x)
        timeline, shares = ml_timeline(test, model)
        engine = engines["test"]
        run = engine.run(config, timeline)
        _, net = engine.trips(run)
        ticks = engine.trip_ticks(run)
        out[label_set] = {
            "train_samples": len(sets["train"]),
            "test_samples": len(sets["test"]),
            "base_rate": {
                "trend": float(sets["test"].trend.mean()),
                "range": float(sets["test"].range.mean()),
            },
            "auc": {
                "trend": _auc(sets["test"].trend, probs[:, :HEMISPHERE].mean(axis=1)),
                "range": _auc(sets["test"].range, probs[:, HEMISPHERE:].mean(axis=1)),
            },
            "regime_shares": shares,
            "trips": int(net.shape[0]),
            "net_usd": float(net.sum()),
            "net_ticks_per_trip": float(ticks.mean()) if ticks.size else 0.0,
        }
    return out
