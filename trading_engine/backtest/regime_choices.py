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
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from regime.bar_series import BarSeries
from regime.contracts import Regime
from regime.contracts.cadence import DECISION_EVERY_MINUTES, VALIDITY_MINUTES
from regime.features import FeatureSpec
from regime.labels import LabelSpec, make_labels
from regime.vote import NOTHING, RANGE, TREND, RegimeVote, regime_codes
from trading_engine.regime_source import FixedRegime, RegimeSource, RegimeTimeline

if TYPE_CHECKING:
    from regime.inference import RegimeModel

CHOICES = ("ml", "truth", "hindsight", "range", "trend", "random")


def _span(series: BarSeries) -> tuple[int, int]:
    first = int(series.minute[0])
    return first, int(series.minute[-1]) - first + 2


def _decision_bars(series: BarSeries) -> npt.NDArray[np.int64]:
    """The bars whose window ends on a 5-minute boundary: where a decision is made."""
    return np.flatnonzero((series.minute + 1) % DECISION_EVERY_MINUTES == 0)


def _held(
    series: BarSeries,
    at: npt.NDArray[np.int64],
    decided: npt.NDArray[np.int8],
    confidence: npt.NDArray[np.float64] | None = None,
) -> RegimeTimeline:
    """Each decision (and its confidence) acted on from its window's end for VALIDITY_MINUTES (expired ->
    nothing)."""
    first, n = _span(series)
    ends = series.minute + 1  # a bar's window ends at the end of its minute
    codes = np.full(n, NOTHING, dtype=np.int8)
    confidences = None if confidence is None else np.zeros(n)
    for j, (i, code) in enumerate(zip(at.tolist(), decided.tolist(), strict=True)):
        start = int(ends[i]) - first
        codes[start : start + VALIDITY_MINUTES] = code  # a later decision overwrites the overlap
        if confidences is not None and confidence is not None:
            confidences[start : start + VALIDITY_MINUTES] = confidence[j]
    return RegimeTimeline(first, codes, confidences)


def decided_confidence(probabilities: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The vote confidence of each decision (of the hemisphere it went to; 0 for nothing or too little
    history), from the models' probabilities (n, 6) as RegimeVote polls them."""
    ok = ~np.isnan(probabilities).any(axis=1)
    out = np.zeros(probabilities.shape[0])
    if ok.any():
        h = probabilities.shape[1] // 2
        vote = RegimeVote.of(probabilities[ok, :h], probabilities[ok, h:])
        out[ok] = np.where(
            vote.code == TREND,
            vote.trend.confidence,
            np.where(vote.code == RANGE, vote.range.confidence, 0.0),
        )
    return out


def ml_timeline(series: BarSeries, model: RegimeModel) -> tuple[RegimeTimeline, dict[str, float]]:
    """Decisions of `model` at every 5-minute boundary of `series` with their vote confidence, and the share
    of each regime."""
    at = _decision_bars(series)
    decisions = model.decide_batch(series, at)
    confidence = decided_confidence(decisions.probabilities)
    return _held(series, decisions.index, decisions.code, confidence), _shares(decisions.code)


def score_timeline(
    series: BarSeries, model: RegimeModel, trend_min: float, range_min: float
) -> tuple[RegimeTimeline, dict[str, float]]:
    """Trades from the model's scores instead of its vote: a window is range when the range hemisphere's
    mean probability reaches `range_min`, trend when the trend one reaches `trend_min` (the one further
    above its bar when both do), else nothing."""
    at = _decision_bars(series)
    p = model.decide_batch(series, at).probabilities
    trend, rng = p[:, :3].mean(axis=1), p[:, 3:].mean(axis=1)  # NaN (too little history) reaches nothing
    over_t, over_r = trend - trend_min, rng - range_min
    code = np.where((over_r >= 0) & ~(over_t > over_r), RANGE, np.where(over_t >= 0, TREND, NOTHING)).astype(
        np.int8
    )
    return _held(series, at, code), _shares(code)


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
    if choice in ("hindsight", "ml"):
        from regime.inference import RegimeModel  # onnxruntime: imported only where a model is read
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
