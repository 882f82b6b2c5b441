"""Calibrated RBF SVMs as plain ONNX algebra: scaler, kernel as one matrix product, Platt sigmoid.

Why not skl2onnx's `SVMClassifier`: onnxruntime runs that operator one row and one support vector at a time
on one thread, and it was 95% of the ensemble's batch time (about 75 us per row and SVM). Written as
`MatMul` + `Exp` + `MatMul` the kernel runs on onnxruntime's GEMM instead, in double precision, which also
matches scikit-learn more closely than the float operator did. Training-only: imports onnx.

The squared distance is one product of augmented matrices, so that no (rows x support vectors) broadcast
is needed:  [z, |z|^2, 1] . [2g sv, -g, -g |sv|^2]^T = -g |z - sv|^2  (g = the kernel's gamma).

The SVMs of an ensemble share one chain of nodes (scaled together on a leading axis; their own nodes only
for the kernel product, its Exp and the dual coefficients): every node costs onnxruntime a fixed overhead,
and for one row a second chain of small nodes was some 5% of the ensemble's time. Measured alternatives that
did not pay: the products in float (26 us less per SVM and row, but 1.6e-6 off scikit-learn's probabilities
instead of 4e-8), `Gemm`, transposed or chunked layouts of the support vectors (no faster than `MatMul` in
double), the exponential in float (13 us less for both, but up to 6e-7 off), the dual coefficients as Mul +
ReduceSum (7 us less for one row, the same probabilities, but batches of 1,024 rows 6% slower).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from regime.graph_part import INPUT, OUTPUT, part_model


def _double(name: str, values: npt.ArrayLike) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=np.float64), name)


def _parts(pipeline: Any) -> tuple[Any, Any, Any]:
    """(scaler, fitted SVC, Platt sigmoid) of make_pipeline(StandardScaler, CalibratedClassifierCV(SVC))."""
    (_, scaler), (_, calibrated) = pipeline.steps
    if len(calibrated.calibrated_classifiers_) != 1 or len(calibrated.classes_) != 2:
        raise ValueError("expected one binary calibrated classifier (ensemble=False)")
    (fitted,) = calibrated.calibrated_classifiers_
    svc, (sigmoid,) = fitted.estimator, fitted.calibrators
    if svc.kernel != "rbf":
        raise ValueError(f"expected an RBF kernel, got {svc.kernel!r}")
    return scaler, svc, sigmoid


def _kernel_rhs(svc: Any) -> npt.NDArray[np.float64]:
    """Rows of the augmented product: 2g sv (n_features), then -g (times |z|^2), then -g |sv|^2 (times 1)."""
    gamma = float(svc._gamma)  # the fitted value: gamma="scale" is resolved at fit time, kept only here
    sv = np.asarray(svc.support_vectors_, dtype=np.float64)
    return np.vstack([2.0 * gamma * sv.T, np.full((1, len(sv)), -gamma), -gamma * (sv**2).sum(1)[None]])


def calibrated_svms_onnx(pipelines: Sequence[Any], n_features: int) -> onnx.ModelProto:
    """ONNX for k pipelines make_pipeline(StandardScaler, CalibratedClassifierCV(SVC(kernel="rbf"),
    "sigmoid", ensemble=False)) on binary problems and the same input: float input (n, n_features), output
    `p_positive` (n, k), P(positive class) of each."""
    parts = [_parts(p) for p in pipelines]
    k = len(parts)
    # A leading axis of k: every SVM's scaled rows at once, (k, n, n_features).
    initializers = [
        _double("mean", np.stack([s.mean_[None] for s, _, _ in parts])),
        _double("scale", np.stack([s.scale_[None] for s, _, _ in parts])),
        _double("ones", np.ones((1, 1, 1))),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "first_axis"),
        _double("intercept", np.concatenate([svc.intercept_ for _, svc, _ in parts])),
        # Platt: P(positive) = 1 / (1 + exp(a f + b)) = sigmoid(-a f - b)
        _double("neg_a", [-sig.a_ for _, _, sig in parts]),
        _double("neg_b", [-sig.b_ for _, _, sig in parts]),
    ]
    node = helper.make_node
    if k > 1:
        initializers.append(numpy_helper.from_array(np.ones(k, dtype=np.int64), "one_each"))
    nodes = [
        node("Cast", [INPUT], ["x64"], to=TensorProto.DOUBLE),
        node("Sub", ["x64", "mean"], ["centred"]),
        node("Div", ["centred", "scale"], ["z"]),
        node("Mul", ["z", "z"], ["z_sq"]),
        node("ReduceSum", ["z_sq", "last_axis"], ["z_norm2"], keepdims=1),
        node("Shape", ["z_norm2"], ["shape_k_n_1"]),
        node("Expand", ["ones", "shape_k_n_1"], ["one_col"]),
        node("Concat", ["z", "z_norm2", "one_col"], ["z_aug"], axis=-1),
    ]
    z_aug = [f"z_aug_{i}" for i in range(k)] if k > 1 else ["z_aug"]
    if k > 1:
        nodes.append(node("Split", ["z_aug", "one_each"], z_aug, axis=0))  # (1, n, n_features + 2) each
    for i, (_, svc, _) in enumerate(parts):
        initializers += [
            _double(f"kernel_rhs_{i}", _kernel_rhs(svc)),
            _double(f"dual_coef_{i}", np.asarray(svc.dual_coef_, dtype=np.float64).T),
        ]
        nodes += [
            node("MatMul", [z_aug[i], f"kernel_rhs_{i}"], [f"neg_g_dist2_{i}"]),
            node("Exp", [f"neg_g_dist2_{i}"], [f"kernel_{i}"]),
            node("MatMul", [f"kernel_{i}", f"dual_coef_{i}"], [f"decision_{i}"]),  # (1, n, 1)
        ]
    if k > 1:
        nodes.append(node("Concat", [f"decision_{i}" for i in range(k)], ["decisions"], axis=-1))  # (1, n, k)
    nodes += [
        node("Add", ["decisions" if k > 1 else "decision_0", "intercept"], ["decision"]),
        node("Mul", ["decision", "neg_a"], ["logit_0"]),
        node("Add", ["logit_0", "neg_b"], ["logit"]),
        node("Sigmoid", ["logit"], ["p_1_n_k"]),
        node("Squeeze", ["p_1_n_k", "first_axis"], ["p64"]),
        node("Cast", ["p64"], [OUTPUT], to=TensorProto.FLOAT),
    ]
    return part_model("calibrated_rbf_svms", nodes, initializers, n_features, k)
