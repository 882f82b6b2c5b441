"""Calibrated RBF SVMs as ONNX algebra: scikit-learn's probabilities, far-away rows included, one SVM or
several sharing one chain of nodes."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from regime.graph_part import INPUT
from regime.models import TrainConfig, build_classifier
from regime.svm_graph import calibrated_svms_onnx


@pytest.fixture(scope="module")
def fitted() -> Any:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(900, 12)).astype(np.float32)
    y = x[:, 0] * x[:, 1] + rng.normal(scale=0.5, size=len(x)) > 0.2  # not linear: the kernel matters
    model = build_classifier("svm", TrainConfig())
    return model.fit(x, y)


@pytest.fixture(scope="module")
def another(fitted: Any) -> Any:
    """A second SVM on other rows, scaled otherwise, with another number of support vectors."""
    rng = np.random.default_rng(8)
    x = (rng.normal(size=(600, 12)) * 3 + 1).astype(np.float32)
    y = np.sin(x[:, 2]) + x[:, 3] > 1
    model = build_classifier("svm", TrainConfig())
    return model.fit(x, y)


def run(models: list[Any], x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(
        calibrated_svms_onnx(models, x.shape[1]).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (out,) = session.run(None, {INPUT: x.astype(np.float32)})
    return np.asarray(out)


def positive(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict_proba(x)[:, 1:])


def test_matches_scikit_learn(fitted: Any) -> None:
    rng = np.random.default_rng(4)
    unseen = rng.normal(size=(500, 12)).astype(np.float32)
    expected = positive(fitted, unseen)
    got = run([fitted], unseen)
    assert got.shape == (500, 1)
    assert np.abs(got - expected).max() <= 1e-6
    assert ((got > 0.5) == (expected > 0.5)).all()


def test_several_svms_share_one_graph_and_give_each_its_own_answer(fitted: Any, another: Any) -> None:
    """Two SVMs with their own scalers and support vectors in one graph: column j is SVM j, exactly what
    the graph of that SVM alone gives, and scikit-learn's probabilities to 1e-6 (one row, many rows)."""
    assert len(fitted[-1].calibrated_classifiers_[0].estimator.support_vectors_) != len(
        another[-1].calibrated_classifiers_[0].estimator.support_vectors_
    )
    unseen = np.random.default_rng(6).normal(size=(300, 12)).astype(np.float32) * 2
    both = run([fitted, another], unseen)
    assert both.shape == (300, 2)
    np.testing.assert_array_equal(both[:, :1], run([fitted], unseen))
    np.testing.assert_array_equal(both[:, 1:], run([another], unseen))
    expected = np.hstack([positive(fitted, unseen), positive(another, unseen)])
    assert np.abs(both - expected).max() <= 1e-6
    np.testing.assert_array_equal(run([another, fitted], unseen[:1]), both[:1, ::-1])


def test_rows_far_from_every_support_vector_stay_finite(fitted: Any, another: Any) -> None:
    far = np.vstack([np.full(12, 1e4), np.full(12, -3e4), np.r_[1e5, np.zeros(11)]]).astype(np.float32)
    got = run([fitted, another], far)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, np.hstack([positive(fitted, far), positive(another, far)]), atol=1e-6)


def test_refuses_what_it_cannot_write() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(200, 3)), rng.random(200) > 0.5
    linear = build_classifier("svm", TrainConfig())
    linear.set_params(calibratedclassifiercv__estimator__kernel="linear").fit(x, y)
    with pytest.raises(ValueError, match="RBF kernel"):
        calibrated_svms_onnx([linear], 3)
