"""Labels that fit the trades (meta-labeling): a window is `range` when trading it as a range would have
netted more than zero after fees, `trend` likewise, instead of the price-shape labels of regime.labels.

For each decision window (the `horizon` minutes after a 5-minute boundary) in which both the always-range and
the always-trend strategy entered a round trip, each hemisphere's label is whether that strategy's round
trips netted more than zero, fees included (fast engine, same configuration as the backtest); a window
without a trade has no such answer and is not labelled. `compare_label_sets` trains one ensemble on each
label set over a training span and reports, on a later span, the ROC AUC of each hemisphere against that
set's own labels, the backtest of the trades its scores give (the vote, a threshold or the top k), and the
net of each hemisphere's traded windows by decile of the model's score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries
from regime.contracts import Regime
from regime.dataset import Dataset, build_dataset
from regime.inference import RegimeModel
from regime.models import Progress, TrainConfig
from regime.scores import auc
from trading_engine.backtest.fast.fast_engine import FastEngine
from trading_engine.backtest.regime_choices import ml_timeline, score_timeline
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


@dataclass(frozen=True)
class WindowPnl:
    """Per sample of a dataset: the net USD each fixed regime's round trips entered in its next window
    made, and whether that regime traded there at all."""

    net: dict[Regime, npt.NDArray[np.float64]]
    traded: dict[Regime, npt.NDArray[np.bool_]]

    @property
    def both_traded(self) -> npt.NDArray[np.bool_]:
        return self.traded[Regime.TREND] & self.traded[Regime.RANGE]


def window_pnl(ds: Dataset, engine: FastEngine, config: HostConfig, horizon: int) -> WindowPnl:
    """What trading each regime over each sample's next `horizon` minutes netted, and whether it traded."""
    starts = (ds.minute.astype(np.float64) + 1.0) * 60.0
    net, traded = {}, {}
    for regime in (Regime.TREND, Regime.RANGE):
        entry_ts, trip_net = engine.trip_entries(engine.run(config, FixedRegime(regime)))
        net[regime] = window_net(entry_ts, trip_net, starts, horizon * 60.0)
        ones = np.ones_like(trip_net)
        traded[regime] = window_net(entry_ts, ones, starts, horizon * 60.0) > 0
    return WindowPnl(net, traded)


def pnl_dataset(
    ds: Dataset, engine: FastEngine, config: HostConfig, horizon: int, *, traded_only: bool = True
) -> Dataset:
    """`ds` with its labels replaced by the P&L of trading each regime over each sample's next window;
    `traded_only`: only the windows in which both regimes traded (elsewhere "no trade" is no answer to
    "would it have earned", and labelling it a loss makes the AUC measure whether a trade happens)."""
    pnl = window_pnl(ds, engine, config, horizon)
    out = Dataset(ds.x, pnl.net[Regime.TREND] > 0, pnl.net[Regime.RANGE] > 0, ds.minute, ds.truth)
    return out.take(np.flatnonzero(pnl.both_traded)) if traded_only else out


def by_decile(score: npt.NDArray[np.float64], net: npt.NDArray[np.float64]) -> list[dict[str, Any]]:
    """Windows grouped by decile of the model's score (lowest first): count and mean net USD of each."""
    if score.size < 10:
        return []
    edges = np.quantile(score, np.linspace(0, 1, 11))
    k = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, 9)
    return [
        {
            "decile": d + 1,
            "score_from": float(edges[d]),
            "windows": int((k == d).sum()),
            "mean_net_usd": float(net[k == d].mean()) if (k == d).any() else None,
        }
        for d in range(10)
    ]


@dataclass(frozen=True)
class ScoreRule:
    """How the model's scores become trades: its vote (neither set), a probability every hemisphere's mean
    must reach (`threshold`), or the share of windows with the highest scores on the TRAINING data
    (`top_k`: the bar is the training scores' quantile, never the test's)."""

    threshold: float | None = None
    top_k: float | None = None

    def bars(self, train_scores: npt.NDArray[np.float64]) -> tuple[float, float] | None:
        """(trend, range) minimum scores, or None for the vote."""
        if self.threshold is not None:
            return self.threshold, self.threshold
        if self.top_k is not None:
            q = 1.0 - self.top_k
            return float(np.quantile(train_scores[:, 0], q)), float(np.quantile(train_scores[:, 1], q))
        return None


def compare_label_sets(
    train: BarSeries,
    test: BarSeries,
    spec: ContractSpec,
    config: HostConfig,
    fees: FeeSchedule,
    train_config: TrainConfig,
    rule: ScoreRule | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train on `train` with each label set; score each on `test` (AUC per hemisphere on the windows it
    labels, the backtest of trades taken by `rule`, the P&L of each hemisphere's windows by score decile)."""
    from regime.training import train_on_dataset

    rule = rule or ScoreRule()
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
                sets["train"], train_config, source={"labels": label_set}, progress=progress, evaluate=False
            )
        except ValueError as exc:  # e.g. a regime that never nets anything: one class, nothing to learn
            out[label_set] = {"error": f"{label_set} labels: {exc}"}
            continue
        model = RegimeModel.load(ensemble.onnx_bytes)
        probs = model.probabilities(sets["test"].x)
        bars = rule.bars(_hemisphere_scores(model.probabilities(sets["train"].x)))
        timeline, shares = ml_timeline(test, model) if bars is None else score_timeline(test, model, *bars)
        engine = engines["test"]
        test_ds = build_dataset(test, fs, ls, stride=train_config.stride)
        pnl = window_pnl(test_ds, engine, config, ls.horizon)
        all_scores = _hemisphere_scores(model.probabilities(test_ds.x))
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
                "trend": auc(sets["test"].trend, probs[:, :HEMISPHERE].mean(axis=1)),
                "range": auc(sets["test"].range, probs[:, HEMISPHERE:].mean(axis=1)),
            },
            "rule": "vote" if bars is None else {"trend_min": bars[0], "range_min": bars[1]},
            "by_decile": {
                name: by_decile(all_scores[pnl.traded[r], h], pnl.net[r][pnl.traded[r]])
                for h, (name, r) in enumerate((("trend", Regime.TREND), ("range", Regime.RANGE)))
            },
            "regime_shares": shares,
            "trips": int(net.shape[0]),
            "net_usd": float(net.sum()),
            "net_ticks_per_trip": float(ticks.mean()) if ticks.size else 0.0,
        }
    return out


def _hemisphere_scores(probs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(n, 2): each hemisphere's mean probability, trend then range."""
    return np.column_stack((probs[:, :HEMISPHERE].mean(axis=1), probs[:, HEMISPHERE:].mean(axis=1)))
