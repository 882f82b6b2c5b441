"""The six classifiers: class balancing moves every model's probabilities toward a balanced prior."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from regime.models import MODEL_NAMES, TrainConfig, balanced_weights, fit_models, predict_positive


def test_balanced_weights_give_each_class_half_the_total() -> None:
    y = np.array([True] + [False] * 4)
    w = balanced_weights(y)
    assert w[y].sum() == pytest.approx(w[~y].sum()) and w.mean() == pytest.approx(1.0)


def test_balanced_training_lifts_the_minority_class_in_every_model() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1200, 6)).astype(np.float32)
    noisy = x[:, 0] + rng.normal(scale=1.5, size=len(x))
    y = noisy > np.quantile(noisy, 0.8)  # 20% positives, not separable
    config = TrainConfig(gbt_iterations=40, svm_max_samples=400)
    plain = predict_positive(fit_models(x, y, y, config), x).mean(axis=0)
    balanced = predict_positive(fit_models(x, y, y, replace(config, balanced=True)), x)
    lift = balanced.mean(axis=0) - plain
    assert (plain < 0.35).all(), dict(zip(MODEL_NAMES, plain.round(3), strict=True))
    assert (lift > 0.1).all(), dict(zip(MODEL_NAMES, lift.round(3), strict=True))
