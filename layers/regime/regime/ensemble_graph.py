"""Merge the six converted classifiers into ONE ONNX graph: one input, one (n, 6) probability output.

`onnx.compose.merge_models` refuses a shared input, so each part's names are prefixed, its input is renamed
to the shared one, and the nodes and initializers it needs are concatenated. Each model contributes P(positive
class) (column 1 of its probabilities, or the tensor that column is a copy of); the label branches are
dropped. A part may answer for several models at once (the SVMs share one chain of nodes). Training-only:
imports onnx.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

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


def _positive_column(graph: onnx.GraphProto, prob_out: str) -> str | None:
    """The tensor P(positive) when `prob_out` is Concat(1 - p, p) (skl2onnx's binary MLP): p itself, so
    that neither the Concat nor a Gather runs. None for any other shape of graph."""
    made_by = {o: n for n in graph.node for o in n.output}
    concat = made_by.get(prob_out)
    if concat is None or concat.op_type != "Concat" or len(concat.input) != 2:
        return None
    negative, positive = concat.input
    sub = made_by.get(negative)
    ones = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    if sub is None or sub.op_type != "Sub" or list(sub.input)[1:] != [positive] or sub.input[0] not in ones:
        return None
    return positive if bool(np.all(ones[sub.input[0]] == 1.0)) else None


def merge_classifiers(
    parts: Sequence[tuple[Sequence[str], onnx.ModelProto]],
    names: Sequence[str],
    n_features: int,
    metadata_props: dict[str, str],
) -> onnx.ModelProto:
    """One graph whose output column j is P(positive) of the model names[j].

    Each part answers for the models it names: a part with an output `p_positive` gives their P(positive)
    as its columns, in that order (regime.svm_graph); any other part is one binary classifier whose
    `...probabilities` output is (n, 2), P(positive) in column 1 (skl2onnx).
    """
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []
    columns: list[str] = []
    order: list[str] = []
    opsets: dict[str, int] = {}
    for part_names, model in parts:
        prefix = "+".join(part_names)
        prefixed = onnx.compose.add_prefix(
            model, prefix=f"{prefix}/", rename_inputs=False, rename_outputs=True
        )
        g = prefixed.graph
        (inp,) = [i.name for i in g.input]
        outputs = [o.name for o in g.output]
        positive = next((o for o in outputs if o.endswith("/p_positive")), None)
        gather = None
        if positive is None:
            if len(part_names) != 1:
                raise ValueError(f"{prefix}: a part of several models must output p_positive")
            prob_out = next(o for o in outputs if o.endswith("probabilities"))
            positive = _positive_column(g, prob_out)
            if positive is None:  # column 1 of the probabilities
                index = helper.make_tensor(f"{prefix}/positive_index", TensorProto.INT64, [1], [1])
                initializers.append(index)
                positive = f"{prefix}/p_positive"
                gather = helper.make_node(
                    "Gather", [prob_out, index.name], [positive], axis=1, name=f"{prefix}/gather"
                )
        for node in _needed_nodes(g, {gather.input[0] if gather else positive}):
            node.input[:] = [INPUT_NAME if x == inp else x for x in node.input]
            nodes.append(node)
        if gather:
            nodes.append(gather)
        used = {x for n in nodes for x in n.input}
        initializers.extend(i for i in g.initializer if i.name in used)
        columns.append(positive)
        order.extend(part_names)
        for op in model.opset_import:
            opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
    if sorted(order) != sorted(names) or len(set(order)) != len(order):
        raise ValueError(f"the parts answer for {order}, expected each of {list(names)} once")
    if order == list(names):
        nodes.append(helper.make_node("Concat", columns, [OUTPUT_NAME], axis=1, name="concat_probabilities"))
    else:  # one Gather puts the parts' columns in the order of `names`
        nodes.append(helper.make_node("Concat", columns, ["columns"], axis=1, name="concat_probabilities"))
        perm = helper.make_tensor(
            "column_order", TensorProto.INT64, [len(names)], [order.index(n) for n in names]
        )
        initializers.append(perm)
        nodes.append(
            helper.make_node("Gather", ["columns", perm.name], [OUTPUT_NAME], axis=1, name="in_order")
        )
    graph = helper.make_graph(
        nodes,
        "regime_ensemble",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [None, len(names)])],
        initializer=initializers,
    )
    merged = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(opsets.items())],
        producer_name="regime-trader",
    )
    merged.ir_version = max(m.ir_version for _, m in parts)
    onnx.helper.set_model_props(merged, metadata_props)
    onnx.checker.check_model(merged)
    return merged
