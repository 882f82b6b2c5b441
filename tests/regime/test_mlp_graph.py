"""The ensemble's nets as one block-diagonal ONNX net: skl2onnx's numbers for each net, one chain of nodes."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from skl2onnx import to_onnx
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from regime.mlp_graph import scaled_mlps_onnx


def fit(seed: int, hidden: tuple[int, ...], scale: float) -> Any:
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(800, 12)) * scale + seed).astype(np.float32)
    score = x[:, 0] * x[:, 1] - x[:, 2]
    y = score > np.median(score)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence: the test needs a fitted net, not a good one
        return make_pipeline(StandardScaler(), MLPClassifier(hidden, max_iter=60, random_state=seed)).fit(
            x, y
        )


def run_onnx(model: Any, x: np.ndarray) -> np.ndarray:
    """The model's probabilities (skl2onnx's second output) or p_positive (the joint net's only one)."""
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out = session.get_outputs()[-1].name
    return np.asarray(session.run([out], {session.get_inputs()[0].name: x})[0])


@pytest.fixture(scope="module")
def nets() -> list[Any]:
    return [fit(1, (32, 16), 1.0), fit(2, (8, 24), 5.0), fit(3, (16, 4), 0.2)]


def test_each_column_is_that_net_as_skl2onnx_writes_it(nets: list[Any]) -> None:
    """Columns of the joint net: bit for bit skl2onnx's P(positive) of each net alone (its Scaler and
    layers in float), and scikit-learn's to float rounding; one row as many rows."""
    x = np.random.default_rng(9).normal(size=(400, 12)).astype(np.float32) * 3
    got = run_onnx(scaled_mlps_onnx(nets, 12), x)
    assert got.shape == (400, 3)
    for j, net in enumerate(nets):
        alone = to_onnx(
            net, x[:1], options={id(net): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3}
        )
        np.testing.assert_array_equal(got[:, j], run_onnx(alone, x)[:, 1])
        assert np.abs(got[:, j] - net.predict_proba(x)[:, 1]).max() <= 1e-6
    np.testing.assert_array_equal(run_onnx(scaled_mlps_onnx(nets, 12), x[:1]), got[:1])


def test_refuses_what_it_cannot_write(nets: list[Any]) -> None:
    with pytest.raises(ValueError, match="one depth"):
        scaled_mlps_onnx([nets[0], fit(4, (8,), 1.0)], 12)
    tanh = fit(5, (8, 8), 1.0)
    tanh.steps[-1][1].activation = "tanh"
    with pytest.raises(ValueError, match="relu"):
        scaled_mlps_onnx([tanh], 12)
