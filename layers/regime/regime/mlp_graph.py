"""The ensemble's neural nets as ONE block-diagonal net in ONNX: each net's scaler, layers and sigmoid.

skl2onnx writes each scaled MLP as some eleven nodes; the nets of an ensemble share an input, so side by side
(the input tiled once per net, every weight matrix block-diagonal) they run as one chain of twelve nodes
whose output column j is P(positive) of net j. For one row onnxruntime's fixed cost per node is most of a
small net's time. The numbers are skl2onnx's: the same float32 weights, the scaler as (x - mean) * (1 / sd)
in float like its `Scaler`, and the zero blocks add exact zeros. Training-only: imports onnx.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

from regime.graph_part import INPUT, OUTPUT, part_model


def _float(name: str, values: npt.ArrayLike) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=np.float32), name)


def _block_diagonal(blocks: Sequence[npt.NDArray[Any]]) -> npt.NDArray[np.float32]:
    out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)), dtype=np.float32)
    r = c = 0
    for b in blocks:
        out[r : r + b.shape[0], c : c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out


def scaled_mlps_onnx(pipelines: Sequence[Any], n_features: int) -> onnx.ModelProto:
    """ONNX for k pipelines make_pipeline(StandardScaler, MLPClassifier(relu hidden layers)) on binary
    problems and the same input, all with as many layers: float input (n, n_features), output `p_positive`
    (n, k), P(positive class) of each."""
    scalers = [p.steps[0][1] for p in pipelines]
    nets = [p.steps[-1][1] for p in pipelines]
    for net in nets:
        if len(net.classes_) != 2 or net.activation != "relu" or net.out_activation_ != "logistic":
            raise ValueError("expected binary MLPClassifiers with relu hidden layers")
    depth = {len(net.coefs_) for net in nets}
    if len(depth) != 1:
        raise ValueError(f"expected nets of one depth, got {sorted(depth)} layers")
    k = len(nets)
    initializers = [
        numpy_helper.from_array(np.array([1, k], dtype=np.int64), "repeats"),
        _float("mean", np.concatenate([s.mean_ for s in scalers])[None]),
        _float("inv_sd", np.concatenate([1.0 / s.scale_ for s in scalers])[None]),
    ]
    node = helper.make_node
    nodes = [
        node("Tile", [INPUT, "repeats"], ["x_k"]),  # (n, k * n_features): one copy per net
        node("Sub", ["x_k", "mean"], ["centred"]),
        node("Mul", ["centred", "inv_sd"], ["h0"]),
    ]
    (layers,) = depth
    for layer in range(layers):
        initializers += [
            _float(f"w{layer}", _block_diagonal([np.asarray(n.coefs_[layer]) for n in nets])),
            _float(f"b{layer}", np.concatenate([n.intercepts_[layer] for n in nets])[None]),
        ]
        last = layer == layers - 1
        nodes += [
            node("MatMul", [f"h{layer}", f"w{layer}"], [f"m{layer}"]),
            node("Add", [f"m{layer}", f"b{layer}"], [f"a{layer}"]),
            node("Sigmoid" if last else "Relu", [f"a{layer}"], [OUTPUT if last else f"h{layer + 1}"]),
        ]
    return part_model("scaled_mlps", nodes, initializers, n_features, k)
