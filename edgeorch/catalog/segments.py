"""Segment extraction: cut a prepared model into k consecutive ONNX models at chosen cut points.

Segment k holds the analysis order's nodes between cut k-1 and cut k, plus a copy of every static node and
initializer those nodes need (folded Shape/Size nodes become Constants). Its inputs are the tensors crossing
the cut before it (the graph inputs for the first), its outputs the tensors crossing the cut after it followed
by the graph outputs it delivers. Each segment is shape-inferred and passes ``onnx.checker``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import onnx
from onnx import helper

from .graph import GraphAnalysis, TensorInfo, folded_constant, node_inputs, real_inputs

SEGMENT_FORMAT = 1  # part of cache keys: bump when extraction changes


@dataclass
class SegmentSpec:
    """One extracted segment and its interface."""

    index: int
    model: onnx.ModelProto
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    delivers: list[str]  # graph outputs among ``outputs`` (the rest go to the next segment)

    def manifest(self) -> dict:
        return {
            "index": self.index,
            "inputs": [t.as_dict() for t in self.inputs],
            "outputs": [t.as_dict() for t in self.outputs],
            "delivers": list(self.delivers),
        }


class SegmentError(ValueError):
    """The requested cuts are not valid for this model."""


def parse_cuts(text: str, cut_count: int) -> list[int]:
    """``"3,7"`` → [3, 7]: strictly increasing indices of existing cut points (empty means the whole
    model)."""
    try:
        cuts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SegmentError(f"cuts must be comma-separated integers, got {text!r}") from None
    return check_cuts(cuts, cut_count)


def check_cuts(cuts: Sequence[int], cut_count: int) -> list[int]:
    cuts = list(cuts)
    if any(c < 0 or c >= cut_count for c in cuts):
        raise SegmentError(f"cut indices must be between 0 and {cut_count - 1}, got {cuts}")
    if any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
        raise SegmentError(f"cut indices must be strictly increasing, got {cuts}")
    return cuts


def extract_segments(
    model: onnx.ModelProto, analysis: GraphAnalysis, cuts: Sequence[int]
) -> list[SegmentSpec]:
    """The ``len(cuts) + 1`` segments of ``model`` for the given cut-point indices."""
    cuts = check_cuts(cuts, len(analysis.cuts))
    graph = model.graph
    context = _Context(graph, analysis)
    positions = [-1, *(analysis.cuts[c].position for c in cuts), len(analysis.order) - 1]
    crossing = [context.first_inputs(), *(list(analysis.cuts[c].names) for c in cuts), []]
    return [
        _segment(model, context, k, positions[k], positions[k + 1], crossing[k], crossing[k + 1])
        for k in range(len(positions) - 1)
    ]


class _Context:
    """Lookups shared by all segments of one extraction."""

    def __init__(self, graph: onnx.GraphProto, analysis: GraphAnalysis):
        self.graph = graph
        self.analysis = analysis
        self.initializers = {t.name: t for t in graph.initializer}
        self.static_producer = {n: i for i in analysis.static_nodes for n in graph.node[i].output if n}
        self.value_infos = {v.name: v for v in (*graph.input, *graph.value_info, *graph.output)}
        self.graph_outputs = [v.name for v in graph.output]

    def first_inputs(self) -> list[str]:
        read = {n for i in self.analysis.order for n in node_inputs(self.graph.node[i])}
        return [n for n in real_inputs(self.graph) if n in read]

    def static_closure(self, names) -> tuple[list[int], list[str]]:
        """Static nodes and initializers needed to compute ``names``, in graph order."""
        nodes: set[int] = set()
        inits: set[str] = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            if name in self.initializers:
                inits.add(name)
            elif name in self.static_producer and self.static_producer[name] not in nodes:
                i = self.static_producer[name]
                nodes.add(i)
                if not all(out in self.analysis.folded for out in self.graph.node[i].output):
                    stack.extend(node_inputs(self.graph.node[i]))
        return sorted(nodes), sorted(inits)


def _segment(model, context: _Context, k, start, end, inputs, passes) -> SegmentSpec:
    graph = context.graph
    dynamic = [graph.node[i] for i in context.analysis.order[start + 1 : end + 1]]
    produced = {n for node in dynamic for n in node.output}
    delivers = [n for n in context.graph_outputs if n in produced]
    static, inits = context.static_closure(n for node in dynamic for n in node_inputs(node))
    nodes = [_static_node(graph.node[i], context.analysis.folded) for i in static] + [
        _copy(node) for node in dynamic
    ]
    outputs = [*passes, *(n for n in delivers if n not in passes)]
    seg_graph = helper.make_graph(
        nodes,
        f"{graph.name or 'model'}_segment{k}",
        [_value_info(context, n) for n in inputs],
        [_value_info(context, n) for n in outputs],
        initializer=[context.initializers[n] for n in inits],
        value_info=_internal_value_infos(context, nodes, set(inputs) | set(outputs)),
    )
    segment = helper.make_model(
        seg_graph,
        opset_imports=list(model.opset_import),
        ir_version=model.ir_version,
        producer_name="edgeorch",
        functions=list(model.functions),
    )
    onnx.checker.check_model(segment)
    infos = context.analysis.tensors
    return SegmentSpec(k, segment, [infos[n] for n in inputs], [infos[n] for n in outputs], delivers)


def _static_node(node: onnx.NodeProto, folded) -> onnx.NodeProto:
    if node.output and node.output[0] in folded:
        return folded_constant(node.output[0], folded[node.output[0]])
    return _copy(node)


def _copy(node: onnx.NodeProto) -> onnx.NodeProto:
    copy = onnx.NodeProto()
    copy.CopyFrom(node)
    return copy


def _internal_value_infos(context: _Context, nodes, interface: set[str]) -> list[onnx.ValueInfoProto]:
    # The prepared model is already shape-inferred: copying its value_info is the segment's shape inference
    # and avoids serializing every segment once more just to infer what is already known.
    names = [n for node in nodes for n in node.output if n and n not in interface]
    return [context.value_infos[n] for n in names if n in context.value_infos]


def _value_info(context: _Context, name: str) -> onnx.ValueInfoProto:
    value = context.value_infos.get(name)
    if value is None:
        raise SegmentError(f"tensor {name!r} has no recorded type; prepare the model first")
    copy = onnx.ValueInfoProto()
    copy.CopyFrom(value)
    return copy


def run_segments(sessions_or_models, segments: Sequence[SegmentSpec], feeds: dict) -> dict:
    """Run segments one after another, as agents would; returns every delivered graph output by name."""
    from .runtime import make_session

    carried = dict(feeds)
    delivered = {}
    for segment, runner in zip(segments, sessions_or_models, strict=True):
        session = runner if hasattr(runner, "run") else make_session(runner)
        names = [t.name for t in segment.outputs]
        results = dict(
            zip(names, session.run(names, {t.name: carried[t.name] for t in segment.inputs}), strict=True)
        )
        delivered.update({n: results[n] for n in segment.delivers})
        carried = results
    return delivered
