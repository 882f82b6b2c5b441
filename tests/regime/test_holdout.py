"""Held-out scoring: the scores' definitions, the training span, and synthetic sessions after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.metrics import roc_auc_score

from regime.bar_series import datetime_of
from regime.holdout import TrainingOverlap, refuse_training_data
from regime.inference import RegimeModel
from regime.scores import auc, base_rate_log_loss, calibration, log_loss
from regime.synthetic import sessions_after, sessions_before, synthetic_days
from regime.training import TrainedEnsemble


def test_auc_and_log_loss_match_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(3)
    y = rng.random(500) < 0.3
    p = np.clip(np.round(0.3 + 0.2 * y + rng.normal(0, 0.2, 500), 1), 0.05, 0.95)  # many ties
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, p))
    assert base_rate_log_loss(y) > log_loss(y, p)  # informative probabilities beat the base rate
    assert np.isnan(auc(np.ones(3, bool), np.array([0.1, 0.2, 0.3])))


def test_calibration_counts_every_sample_once() -> None:
    y = np.array([True, False, True, True])
    p = np.array([0.05, 0.15, 0.95, 1.0])
    rows = calibration(y, p)
    assert sum(r["samples"] for r in rows) == 4
    assert rows[9]["samples"] == 2 and rows[9]["observed"] == 1.0 and rows[3]["predicted"] is None


def test_the_training_span_reaches_from_the_first_feature_window_to_the_last_label(
    small_ensemble: TrainedEnsemble,
) -> None:
    md = small_ensemble.metadata
    span = md.training_span()
    assert span is not None
    first = datetime.fromisoformat(md.training_range["first_window_end"])
    assert (first - span[0]).total_seconds() == 60 * md.min_bars
    inside = span[1] - timedelta(minutes=1)
    assert md.training_overlap(inside, span[1].replace(year=2027)) is not None
    assert md.training_overlap(span[1], span[1].replace(year=2027)) is None


def test_sessions_after_the_training_are_new_and_later(small_ensemble: TrainedEnsemble) -> None:
    span = small_ensemble.metadata.training_span()
    assert span is not None
    later = sessions_after(span[1], 2, seed=11)
    assert datetime_of(int(later.bars.minute[0])) >= span[1]
    assert len(later.bars) == 2 * len(synthetic_days(1).bars) == later.truth.shape[0]
    assert later.ticks.time[0] >= later.bars.minute[0] * 60
    assert later.ticks.time[-1] < later.bars.minute[-1] * 60 + 60
    assert sessions_before(datetime(2026, 1, 5, tzinfo=UTC)) == 1  # the session for Jan 5 opens on the 4th
    model = RegimeModel.load(small_ensemble.onnx_bytes)
    refuse_training_data(model, later.bars)  # no overlap: no exception
    with pytest.raises(TrainingOverlap, match="overlaps the training span"):
        refuse_training_data(model, synthetic_days(2, seed=11).bars)
