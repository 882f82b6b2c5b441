"""Merge the six converted classifiers into ONE ONNX graph: one input, one (n, 6) probability output.

`onnx.compose.merge_models` refuses a shared input, so each model's names are prefixed, its input is renamed
to the shared one, and the nodes and initializers are concatenated. Each model contributes P(positive class)
(column 1 of its probabilities); the label branches are dropped. Training-only: imports onnx.
"""

from __future__ import annotations

from collections.abc import Sequence

import onnx
from onnx import TensorProto, helper

INPUT_NAME = "features"
OUTPUT_NAME = "probabilities"


def _needed_nodes(graph: onnx.GraphProto, outputs: set[str]) -> list[onnx.NodeProto]:
    """The nodes that `outputs` depend on, in their original (topological) order."""
    wanted, keep = set(outputs), set()
    for i in range(len(graph.node) - 1, -1, -1):
        node = graph.node[i]
        if wanted.intersection(node.output):
            keep.add(i)
            wanted.update(x for x in node.input if x)
    return [graph.node[i] for i in sorted(keep)]


def merge_classifiers(
    models: Sequence[tuple[str, onnx.ModelProto]], n_features: int, metadata_props: dict[str, str]
) -> onnx.ModelProto:
    """One graph whose output column j is P(positive) of models[j]."""
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []
    columns: list[str] = []
    opsets: dict[str, int] = {}
    for name, model in models:
        prefixed = onnx.compose.add_prefix(model, prefix=f"{name}/", rename_inputs=False, rename_outputs=True)
        g = prefixed.graph
        (inp,) = [i.name for i in g.input]
        prob_out = next(o.name for o in g.output if o.name.endswith("probabilities"))
        for node in _needed_nodes(g, {prob_out}):
            node.input[:] = [INPUT_NAME if x == inp else x for x in node.input]
            nodes.append(node)
        initializers.extend(g.initializer)
        index = helper.make_tensor(f"{name}/positive_index", TensorProto.INT64, [1], [1])
        initializers.append(index)
        column = f"{name}/p_positive"
        nodes.append(
            helper.make_node("Gather", [prob_out, index.name], [column], axis=1, name=f"{name}/gather")
        )
        columns.append(column)
        for op in model.opset_import:
            opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
    nodes.append(helper.make_node("Concat", columns, [OUTPUT_NAME], axis=1, name="concat_probabilities"))
    graph = helper.make_graph(
        nodes,
        "regime_ensemble",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [None, len(models)])],
        initializer=initializers,
    )
    merged = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(opsets.items())],
        producer_name="regime-trader",
    )
    merged.ir_version = max(m.ir_version for _, m in models)
    onnx.helper.set_model_props(merged, metadata_props)
    onnx.checker.check_model(merged)
    return merged
