"""The calibrated RBF SVM as ONNX algebra: scikit-learn's probabilities, far-away rows included."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from regime.models import TrainConfig, build_classifier
from regime.svm_graph import INPUT, calibrated_svm_onnx


@pytest.fixture(scope="module")
def fitted() -> Any:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(900, 12)).astype(np.float32)
    y = x[:, 0] * x[:, 1] + rng.normal(scale=0.5, size=len(x)) > 0.2  # not linear: the kernel matters
    model = build_classifier("svm", TrainConfig())
    return model.fit(x, y)


def run(model: Any, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(
        calibrated_svm_onnx(model, x.shape[1]).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (out,) = session.run(None, {INPUT: x.astype(np.float32)})
    return np.asarray(out)


def test_matches_scikit_learn(fitted: Any) -> None:
    rng = np.random.default_rng(4)
    unseen = rng.normal(size=(500, 12)).astype(np.float32)
    expected = fitted.predict_proba(unseen)
    got = run(fitted, unseen)
    assert np.abs(got - expected).max() <= 1e-6
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


def test_rows_far_from_every_support_vector_stay_finite(fitted: Any) -> None:
    far = np.vstack([np.full(12, 1e4), np.full(12, -3e4), np.r_[1e5, np.zeros(11)]]).astype(np.float32)
    got = run(fitted, far)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, fitted.predict_proba(far), atol=1e-6)


def test_refuses_what_it_cannot_write() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(200, 3)), rng.random(200) > 0.5
    linear = build_classifier("svm", TrainConfig())
    linear.set_params(calibratedclassifiercv__estimator__kernel="linear").fit(x, y)
    with pytest.raises(ValueError, match="RBF kernel"):
        calibrated_svm_onnx(linear, 3)
