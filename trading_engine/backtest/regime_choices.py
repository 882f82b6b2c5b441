"""Where a backtest's regime comes from: the ONNX ensemble, the true regime, the labels in hindsight, a fixed
regime, or chance.

The ML timeline mimics production: a decision at every 5-minute boundary from the bars up to it (batch
inference, same features and vote as the Lambda), acted on from that boundary for `validity` minutes
(expired -> nothing). The true regime (synthetic data only) is known in hindsight, minute by minute. The
hindsight regime is what the model is trained to predict: each 5-minute window's own labels, known only once
it is over (real data has no true regime, but it has this oracle).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries
from regime.contracts import Regime
from regime.contracts.cadence import DECISION_EVERY_MINUTES, VALIDITY_MINUTES
from regime.features import FeatureSpec
from regime.inference import RegimeModel
from regime.labels import LabelSpec, make_labels
from regime.vote import NOTHING, RANGE, TREND, regime_codes
from trading_engine.regime_source import FixedRegime, RegimeSource, RegimeTimeline

CHOICES = ("ml", "truth", "hindsight", "range", "trend", "random")


def _span(series: BarSeries) -> tuple[int, int]:
    first = int(series.minute[0])
    return first, int(series.minute[-1]) - first + 2


def ml_timeline(series: BarSeries, model: RegimeModel) -> tuple[RegimeTimeline, dict[str, float]]:
    """Decisions of `model` at every 5-minute boundary of `series`, and the share of each regime."""
    first, n = _span(series)
    ends = series.minute + 1  # a bar's window ends at the end of its minute
    at = np.flatnonzero(ends % DECISION_EVERY_MINUTES == 0)
    decisions = model.decide_batch(series, at)
    codes = np.full(n, NOTHING, dtype=np.int8)
    for i, code in zip(decisions.index.tolist(), decisions.code.tolist(), strict=True):
        start = int(ends[i]) - first
        codes[start : start + VALIDITY_MINUTES] = code  # a later decision overwrites the overlap
    return RegimeTimeline(first, codes), _shares(decisions.code)


def truth_timeline(series: BarSeries, truth: npt.NDArray[np.int8]) -> RegimeTimeline:
    """The synthetic market's true regime of every minute (hindsight)."""
    if truth.shape[0] != len(series):
        raise ValueError(f"truth: {truth.shape[0]} codes for {len(series)} bars")
    first, n = _span(series)
    codes = np.full(n, NOTHING, dtype=np.int8)
    codes[series.minute - first] = truth
    return RegimeTimeline(first, codes)


def hindsight_timeline(series: BarSeries, label_spec: LabelSpec, feature_spec: FeatureSpec) -> RegimeTimeline:
    """Each 5-minute window traded under its own labels, coded by the vote's rule (`regime_codes`: a window
    labelled both goes to range, as a confidence tie does in the vote)."""
    first, n = _span(series)
    labels = make_labels(series, label_spec, feature_spec)
    ends = series.minute + 1
    codes = np.full(n, NOTHING, dtype=np.int8)
    at = np.flatnonzero((ends % DECISION_EVERY_MINUTES == 0) & labels.valid)
    code = regime_codes(labels.trend, labels.range)
    for i in at.tolist():
        start = int(ends[i]) - first
        codes[start : start + label_spec.horizon] = code[i]
    return RegimeTimeline(first, codes)


def random_timeline(series: BarSeries, seed: int = 0) -> RegimeTimeline:
    """A uniformly random regime for every 5-minute window (what a useless model would do)."""
    first, n = _span(series)
    rng = np.random.default_rng(seed)
    per_window = rng.choice(
        np.array([NOTHING, TREND, RANGE], dtype=np.int8), size=n // DECISION_EVERY_MINUTES + 2
    )
    k = np.arange(first, first + n)
    return RegimeTimeline(first, per_window[k // DECISION_EVERY_MINUTES - first // DECISION_EVERY_MINUTES])


def _shares(codes: npt.NDArray[np.int8]) -> dict[str, float]:
    total = max(1, codes.shape[0])
    return {
        r.value: float((codes == c).sum()) / total
        for c, r in ((NOTHING, Regime.NOTHING), (TREND, Regime.TREND), (RANGE, Regime.RANGE))
    }


def regime_source(
    choice: str,
    series: BarSeries,
    *,
    model_path: Path | None = None,
    truth: npt.NDArray[np.int8] | None = None,
    seed: int = 0,
    tick_size: float = 0.01,
) -> RegimeSource:
    """The regime source named `choice` (one of CHOICES); a missing input is a clear error."""
    if choice == "range":
        return FixedRegime(Regime.RANGE)
    if choice == "trend":
        return FixedRegime(Regime.TREND)
    if choice == "random":
        return random_timeline(series, seed)
    if choice == "truth":
        if truth is None:
            raise ValueError("regime 'truth' needs synthetic data (a bars file has no true regime)")
        return truth_timeline(series, truth)
    if choice == "hindsight":
        if model_path is not None:  # the labels the model was trained on
            md = RegimeModel.load(model_path).metadata
            return hindsight_timeline(
                series, LabelSpec.from_dict(md.label_spec), FeatureSpec.from_dict(md.feature_spec)
            )
        return hindsight_timeline(series, LabelSpec(), FeatureSpec(tick_size=tick_size))
    if choice == "ml":
        if model_path is None:
            raise ValueError("regime 'ml' needs --model PATH to an ensemble.onnx (see `regime-trader train`)")
        return ml_timeline(series, RegimeModel.load(model_path, threads=0))[0]  # batch: every core
    raise ValueError(f"unknown regime source {choice!r}; choose from {', '.join(CHOICES)}")
