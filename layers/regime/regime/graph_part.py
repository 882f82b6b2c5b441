"""A part of the ensemble's graph (the SVMs' chain, the nets' block): one float input, the features, and one
(n, k) output, P(positive class) of each of its k models in the order given. Training-only: imports onnx."""

from __future__ import annotations

from collections.abc import Sequence

import onnx
from onnx import TensorProto, helper

INPUT = "x"
OUTPUT = "p_positive"


def part_model(
    name: str,
    nodes: Sequence[onnx.NodeProto],
    initializers: Sequence[onnx.TensorProto],
    n_features: int,
    k: int,
) -> onnx.ModelProto:
    """The checked model of a part whose `nodes` read INPUT and write OUTPUT (opset 17)."""
    graph = helper.make_graph(
        list(nodes),
        name,
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [None, k])],
        initializer=list(initializers),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
