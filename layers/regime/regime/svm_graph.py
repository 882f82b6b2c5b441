"""The calibrated RBF SVM as plain ONNX algebra: scaler, kernel as one matrix product, Platt sigmoid.

Why not skl2onnx's `SVMClassifier`: onnxruntime runs that operator one row and one support vector at a time
on one thread, and it was 95% of the ensemble's batch time (about 75 us per row and SVM). Written as
`Gemm` + `Exp` + `MatMul` the kernel runs on onnxruntime's GEMM instead, in double precision, which also
matches scikit-learn more closely than the float operator did. Training-only: imports onnx.

The squared distance is one product of augmented matrices, so that no (rows x support vectors) broadcast
is needed:  [z, |z|^2, 1] . [2g sv, -g, -g |sv|^2]^T = -g |z - sv|^2  (g = the kernel's gamma).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT = "x"
OUTPUT = "probabilities"


def _double(name: str, values: npt.ArrayLike) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=np.float64), name)


def calibrated_svm_onnx(pipeline: Any, n_features: int) -> onnx.ModelProto:
    """ONNX for make_pipeline(StandardScaler, CalibratedClassifierCV(SVC(kernel="rbf"), "sigmoid",
    ensemble=False)) on a binary problem: float input (n, n_features), output `probabilities` (n, 2)."""
    (_, scaler), (_, calibrated) = pipeline.steps
    if len(calibrated.calibrated_classifiers_) != 1 or len(calibrated.classes_) != 2:
        raise ValueError("expected one binary calibrated classifier (ensemble=False)")
    (fitted,) = calibrated.calibrated_classifiers_
    svc, (sigmoid,) = fitted.estimator, fitted.calibrators
    if svc.kernel != "rbf":
        raise ValueError(f"expected an RBF kernel, got {svc.kernel!r}")
    gamma = float(svc._gamma)  # the fitted value: gamma="scale" is resolved at fit time, kept only here
    sv = np.asarray(svc.support_vectors_, dtype=np.float64)
    # Rows of the augmented product: 2g sv (n_features), then -g (times |z|^2), then -g |sv|^2 (times 1).
    kernel_rhs = np.vstack([2.0 * gamma * sv.T, np.full((1, len(sv)), -gamma), -gamma * (sv**2).sum(1)[None]])
    initializers = [
        _double("mean", scaler.mean_[None]),
        _double("scale", scaler.scale_[None]),
        _double("ones", np.ones((1, 1))),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        _double("kernel_rhs", kernel_rhs),
        _double("dual_coef", np.asarray(svc.dual_coef_, dtype=np.float64).T),
        _double("intercept", svc.intercept_),
        # Platt: P(positive) = 1 / (1 + exp(a f + b)) = sigmoid(-a f - b)
        _double("neg_a", [-sigmoid.a_]),
        _double("neg_b", [-sigmoid.b_]),
    ]
    node = helper.make_node
    nodes = [
        node("Cast", [INPUT], ["x64"], to=TensorProto.DOUBLE),
        node("Sub", ["x64", "mean"], ["centred"]),
        node("Div", ["centred", "scale"], ["z"]),
        node("Mul", ["z", "z"], ["z_sq"]),
        node("ReduceSum", ["z_sq", "axis1"], ["z_norm2"], keepdims=1),
        node("Shape", ["z_norm2"], ["rows_1"]),
        node("Expand", ["ones", "rows_1"], ["one_col"]),
        node("Concat", ["z", "z_norm2", "one_col"], ["z_aug"], axis=1),
        node("MatMul", ["z_aug", "kernel_rhs"], ["neg_g_dist2"]),
        node("Exp", ["neg_g_dist2"], ["kernel"]),
        node("MatMul", ["kernel", "dual_coef"], ["decision_0"]),
        node("Add", ["decision_0", "intercept"], ["decision"]),
        node("Mul", ["decision", "neg_a"], ["logit_0"]),
        node("Add", ["logit_0", "neg_b"], ["logit"]),
        node("Sigmoid", ["logit"], ["prob_true"]),
        node("Sub", ["ones", "prob_true"], ["prob_false"]),
        node("Concat", ["prob_false", "prob_true"], ["p64"], axis=1),
        node("Cast", ["p64"], [OUTPUT], to=TensorProto.FLOAT),
    ]
    graph = helper.make_graph(
        nodes,
        "calibrated_rbf_svm",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [None, 2])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
