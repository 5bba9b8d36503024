"""ONNX graph analysis: shapes, parameters, MACs, and the places where a model can be cut.

A *cut* after position p of the topological order splits the graph into a prefix and a suffix. It is valid
when exactly one tensor that depends on the graph inputs crosses it (a *pair* cut: exactly two). Tensors
that do not depend on the inputs — initializers, Constant nodes and anything computed only from them — are
*static*: each segment gets its own copy, so they never cross. A ``Shape`` (or ``Size``) node whose input has
a fully known shape is static too: its value is known in advance, so "reading an earlier tensor only for its
shape" does not keep that tensor alive (segments replace such nodes by constants).

Graph outputs produced before a cut are *delivered* by the segment that makes them (early exits, detector
heads); they cross only when a later node still reads them.

One pass does it, in time linear in the graph: prune nodes that reach no output, mark static tensors, then
walk the graph's own topological order keeping the set of live tensors (produced, still to be read).
Single-tensor cuts do not depend on which topological order is walked: every input-dependent node is either
an ancestor or a descendant of the cut tensor's producer. Pair cuts do, and are offered only when a model has
few single cuts (the Neurosurgeon chain needs at least a few places to cut).

Why one module of this length: the analysis is one pass over one private graph model (topological order,
tensor dependence, static values), and every helper here reads that model; split, those internals would
become an interface that nothing else should use.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import onnx
from onnx import helper, numpy_helper

PAIR_CUTS_BELOW = 4  # offer two-tensor cuts when a model has fewer single cuts than this

OP_CATEGORIES = {
    "conv": {"Conv", "ConvTranspose", "ConvInteger", "QLinearConv"},
    "fc": {"Gemm", "MatMul", "MatMulInteger", "QLinearMatMul", "Einsum"},
    "act": {
        "Relu",
        "Clip",
        "Sigmoid",
        "Tanh",
        "LeakyRelu",
        "PRelu",
        "HardSigmoid",
        "HardSwish",
        "Elu",
        "Selu",
        "Softplus",
        "Gelu",
        "Mish",
        "Softmax",
        "LogSoftmax",
        "ThresholdedRelu",
        "Celu",
    },
    "pool": {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", "MaxRoiPool"},
    "norm": {
        "BatchNormalization",
        "InstanceNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "LRN",
    },
}
CATEGORY_OF = {op: cat for cat, ops in OP_CATEGORIES.items() for op in ops}
CATEGORIES = (*OP_CATEGORIES, "other")


class GraphError(ValueError):
    """The graph cannot be analysed (not topologically sorted, no outputs, ...)."""


@dataclass(frozen=True)
class TensorInfo:
    """A tensor's name, shape (None for an unknown dimension), numpy dtype name and size in bytes."""

    name: str
    shape: tuple[int | None, ...] | None
    dtype: str
    nbytes: int | None

    def as_dict(self) -> dict:
        return {"name": self.name, "shape": list(self.shape or []), "dtype": self.dtype, "bytes": self.nbytes}


@dataclass(frozen=True)
class CutPoint:
    """A place to split: after ``position`` in the analysis order, the ``tensors`` alone cross."""

    index: int
    position: int
    tensors: tuple[TensorInfo, ...]
    macs_before: int
    macs_after: int

    @property
    def kind(self) -> str:
        return "single" if len(self.tensors) == 1 else "pair"

    @property
    def nbytes(self) -> int | None:
        sizes = [t.nbytes for t in self.tensors]
        known = [n for n in sizes if n is not None]
        return sum(known) if len(known) == len(sizes) else None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tensors)


@dataclass(frozen=True)
class Block:
    """The nodes between two consecutive cuts (or the graph's ends): what the planner prices.

    ``input_bytes`` crosses into the block, ``output_bytes`` out of it to the next block (for the last block:
    the graph outputs). ``exits`` names graph outputs delivered inside the block (early exits, heads).
    """

    index: int
    first_position: int
    last_position: int
    node_count: int
    macs: int
    macs_by_category: dict[str, int]
    op_counts: dict[str, int]
    op_types: dict[str, int]
    param_bytes: int
    input_bytes: int | None
    output_bytes: int | None
    exits: tuple[str, ...] = ()

    def features(self) -> dict:
        """A flat dict of numbers (ANS context): counts and MACs per category, bytes, params."""
        out = {"macs": self.macs, "param_bytes": self.param_bytes, "output_bytes": self.output_bytes or 0}
        out.update({f"macs_{c}": v for c, v in self.macs_by_category.items()})
        out.update({f"count_{c}": v for c, v in self.op_counts.items()})
        return out


@dataclass
class GraphAnalysis:
    """Everything the catalog records about a graph, and what segment extraction needs to cut it."""

    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    node_count: int
    params: int
    param_bytes: int
    macs: int
    op_histogram: dict[str, int]
    cuts: list[CutPoint]
    blocks: list[Block]
    order: list[int]  # indices into graph.node of the input-dependent nodes that reach an output
    static_nodes: list[int]  # nodes computed from constants only (copied into each segment using them)
    folded: dict[str, list[int] | int] = field(default_factory=dict)  # Shape/Size outputs with known values
    node_macs: list[int] = field(default_factory=list)
    tensors: dict[str, TensorInfo] = field(default_factory=dict)

    @property
    def single_cuts(self) -> list[CutPoint]:
        return [c for c in self.cuts if c.kind == "single"]


# --- Preparation ------------------------------------------------------------------------------------


class MissingDimensions(GraphError):
    """Inputs with unknown dimensions other than the batch, and no value given for them."""


def prepare_model(
    model: onnx.ModelProto, batch: int = 1, dims: dict[str, Any] | None = None
) -> onnx.ModelProto:
    """Pin the inputs' unknown dimensions and infer every tensor's shape.

    ``dims`` gives them: by symbolic name (``{"height": 640, "width": 640}``) or a whole shape per input
    (``{"images": [1, 3, 640, 640]}``). An unknown first dimension of an input with two or more dimensions
    not given is the batch: ``batch`` (1: edge inference runs one frame at a time). Any other unknown
    dimension not given raises ``MissingDimensions`` naming the input and the dimensions, never a silent 1:
    a model analysed at 1×1 plans nonsense. With all dimensions known, shape side-graphs fold to constants
    and every cut has a size in bytes.
    """
    model = onnx.ModelProto.FromString(model.SerializeToString())
    if dims is not None and not isinstance(dims, dict):
        raise GraphError('dims is an object, e.g. {"height": 640, "width": 640}')
    dims = dict(dims or {})
    initializers = {i.name for i in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in initializers and v.type.HasField("tensor_type")]
    names = {v.name for v in inputs}
    symbols = {d.dim_param for v in inputs for d in v.type.tensor_type.shape.dim if d.dim_param}
    unused = sorted(k for k in dims if k not in names and k not in symbols)
    if unused:
        inputs_text, symbols_text = ", ".join(sorted(names)) or "none", ", ".join(sorted(symbols)) or "none"
        raise GraphError(
            f"dims names {', '.join(map(repr, unused))}, which is neither an input ({inputs_text}) nor a "
            f"symbolic dimension ({symbols_text})"
        )
    missing = []
    for value in inputs:
        shape = value.type.tensor_type.shape.dim
        given = dims.get(value.name)
        if isinstance(given, list | tuple):
            if len(given) != len(shape):
                raise GraphError(f"dims gives {value.name} {len(given)} dimensions; it has {len(shape)}")
            for k, (dim, size) in enumerate(zip(shape, given, strict=True)):
                if dim.HasField("dim_value") and dim.dim_value > 0 and dim.dim_value != size:
                    raise GraphError(
                        f"dims gives {value.name}[{k}] = {size}; the model fixes it at {dim.dim_value}"
                    )
                _pin(dim, size)
            continue
        unknown, original = [], _shape_text(shape)
        for k, dim in enumerate(shape):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                continue
            if dim.dim_param and dim.dim_param in dims:
                _pin(dim, dims[dim.dim_param])
            elif k == 0 and len(shape) >= 2:
                _pin(dim, batch)  # the batch: one frame at a time
            else:
                unknown.append(f"{dim.dim_param or '?'} (dimension {k})")
        if unknown:
            missing.append(f"{value.name} [{original}]: {', '.join(unknown)}")
    if missing:
        raise MissingDimensions(
            "unknown input dimensions: "
            + "; ".join(missing)
            + '. Give them with dims, by name ({"height": 640, "width": 640}) or as a whole shape per input '
            '({"images": [1, 3, 640, 640]}); a batch dimension (the first) defaults to 1'
        )
    del model.graph.value_info[:]
    return infer_shapes(model)


def _pin(dim, size) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise GraphError(f"a dimension must be a positive integer, not {size!r}")
    dim.Clear()
    dim.dim_value = size


def _shape_text(shape) -> str:
    return ", ".join(
        str(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or "?")
        for d in shape
    )


def infer_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    """ONNX shape inference with data propagation (so Shape→Gather→Concat→Reshape chains resolve)."""
    if model.ByteSize() < 2**31 - 2**20:
        return onnx.shape_inference.infer_shapes(model, data_prop=True)
    raise GraphError("the model is larger than 2 GB; only single-file models under 2 GB are supported")


# --- Tensor bookkeeping ----------------------------------------------------------------------------


def tensor_infos(graph: onnx.GraphProto) -> dict[str, TensorInfo]:
    """Name → TensorInfo for every tensor whose type the graph records."""
    infos: dict[str, TensorInfo] = {}
    for value in (*graph.input, *graph.value_info, *graph.output):
        if value.type.HasField("tensor_type"):
            infos[value.name] = _info_from_type(value.name, value.type.tensor_type)
    for init in graph.initializer:
        infos[init.name] = _info(init.name, tuple(init.dims), init.data_type)
    return infos


def _info_from_type(name: str, ttype) -> TensorInfo:
    if not ttype.HasField("shape"):
        return _info(name, None, ttype.elem_type)
    dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in ttype.shape.dim)
    return _info(name, dims, ttype.elem_type)


def _info(name: str, shape, elem_type: int) -> TensorInfo:
    try:
        dtype = helper.tensor_dtype_to_np_dtype(elem_type)
        dtype_name, itemsize = dtype.name, dtype.itemsize
    except (KeyError, TypeError, ValueError):
        dtype_name, itemsize = "unknown", None
    known = shape is not None and itemsize is not None and all(d is not None for d in shape)
    nbytes = math.prod(shape) * itemsize if known else None
    return TensorInfo(name, shape, dtype_name, nbytes)


def real_inputs(graph: onnx.GraphProto) -> list[str]:
    """Graph inputs that are not initializers (older exporters list weights as inputs too)."""
    initializers = {i.name for i in graph.initializer}
    return [v.name for v in graph.input if v.name not in initializers]


def node_inputs(node: onnx.NodeProto) -> list[str]:
    """The tensors a node reads: its inputs plus outer-scope names its subgraphs (If/Loop/Scan) use."""
    names = [n for n in node.input if n]
    for attr in node.attribute:
        for sub in (*([attr.g] if attr.HasField("g") else []), *attr.graphs):
            names.extend(_outer_names(sub))
    return names


def _outer_names(graph: onnx.GraphProto) -> list[str]:
    defined = {v.name for v in graph.input} | {i.name for i in graph.initializer}
    used: list[str] = []
    for node in graph.node:
        used.extend(n for n in node_inputs(node) if n not in defined)
        defined.update(node.output)
    return used


# --- MACs and parameters -------------------------------------------------------------------------


# Quantised forms counted as the float op they compute: the integer ops take the same first two inputs;
# the QLinear ops take (x, x_scale, x_zero_point, w, ...).
_INTEGER_OPS = {"ConvInteger": "Conv", "MatMulInteger": "MatMul"}
_QLINEAR_OPS = {"QLinearConv": "Conv", "QLinearMatMul": "MatMul"}


def node_macs(node: onnx.NodeProto, infos: dict[str, TensorInfo]) -> int:
    """Multiply-accumulates of one node (Conv, ConvTranspose, Gemm, MatMul, and their integer and QLinear
    forms); 0 for other ops or unknown shapes."""
    op, inputs = node.op_type, list(node.input[:2])
    if op in _QLINEAR_OPS and len(node.input) > 3:
        op, inputs = _QLINEAR_OPS[op], [node.input[0], node.input[3]]
    op = _INTEGER_OPS.get(op, op)
    shape = _shape_of(infos, inputs, node.output[:1])
    if shape is None:
        return 0
    (a, w), (out,) = shape
    if op == "Conv":
        return math.prod(out) * math.prod(w[1:])
    if op == "ConvTranspose":
        return math.prod(a) * math.prod(w[1:])
    if op == "Gemm":
        trans_a = next((attr.i for attr in node.attribute if attr.name == "transA"), 0)
        return math.prod(out) * a[0 if trans_a else -1]
    if op == "MatMul":
        return math.prod(out) * a[-1]
    return 0


def _shape_of(infos, inputs, outputs):
    if len(inputs) < 2 or not outputs:
        return None
    shapes = [infos.get(n) for n in (*inputs, *outputs)]
    if any(s is None or s.shape is None or None in s.shape for s in shapes):
        return None
    return [s.shape for s in shapes[:2]], [shapes[2].shape]


def _constant_tensors(graph: onnx.GraphProto) -> list[onnx.TensorProto]:
    tensors = list(graph.initializer)
    for node in graph.node:
        if node.op_type == "Constant":
            tensors.extend(a.t for a in node.attribute if a.name == "value" and a.HasField("t"))
    return tensors


# --- The analysis ------------------------------------------------------------------------------------


def analyse(model: onnx.ModelProto, *, pairs: bool | None = None) -> GraphAnalysis:
    """Analyse a model (best after ``prepare_model``): stats, cut points and the blocks between them.

    ``pairs``: offer two-tensor cuts — True, False, or None for "only when there are few single cuts".
    """
    graph = model.graph
    infos = tensor_infos(graph)
    producer = _producers(graph)
    reach = _reaches_output(graph, producer)
    static, folded = _static_nodes(graph, infos, reach)
    dynamic = [i for i in range(len(graph.node)) if reach[i] and i not in static]
    order = _schedule(graph, dynamic, producer, static)
    macs = [node_macs(node, infos) if reach[i] else 0 for i, node in enumerate(graph.node)]
    lives = _live_sets(graph, order)
    cuts = _find_cuts(lives, order, macs, infos, graph, pairs)
    constants = _constant_tensors(graph)
    return GraphAnalysis(
        inputs=[infos.get(n) or TensorInfo(n, None, "unknown", None) for n in real_inputs(graph)],
        outputs=[infos.get(v.name) or TensorInfo(v.name, None, "unknown", None) for v in graph.output],
        node_count=len(graph.node),
        params=sum(math.prod(t.dims) for t in constants),
        param_bytes=sum(_tensor_bytes(t) for t in constants),
        macs=sum(macs),
        op_histogram=dict(Counter(node.op_type for node in graph.node).most_common()),
        cuts=cuts,
        blocks=_blocks(graph, order, cuts, macs, infos),
        order=order,
        static_nodes=sorted(static),
        folded=folded,
        node_macs=macs,
        tensors=infos,
    )


def _producers(graph: onnx.GraphProto) -> dict[str, int]:
    """Tensor name → index of the node producing it; refuses a graph that is not topologically sorted."""
    produced_anywhere = {n for node in graph.node for n in node.output if n}
    producer: dict[str, int] = {}
    for i, node in enumerate(graph.node):
        for name in node_inputs(node):
            if name in produced_anywhere and name not in producer:
                raise GraphError(f"node {node.name or node.op_type!r} reads {name!r} before it is produced")
        producer.update((name, i) for name in node.output if name)
    return producer


def _schedule(graph, dynamic: list[int], producer: dict[str, int], static: set[int]) -> list[int]:
    """A topological order of the dynamic nodes that finishes each output's cone before starting the next.

    With one output every topological order finds the same single cuts. With several, a side branch that
    ends in an early output (an exit, a head) must be finished before the trunk moves on, or it stays alive
    across the trunk's cuts. So: depth-first post-order from each output in turn, smallest cone first.
    """
    dynamic_set = set(dynamic)

    def preds(i):
        return [producer[n] for n in node_inputs(graph.node[i]) if producer.get(n) in dynamic_set]

    def cone(i):
        seen, stack = set(), [i]
        while stack:
            j = stack.pop()
            if j not in seen:
                seen.add(j)
                stack.extend(preds(j))
        return len(seen)

    roots = sorted({producer[v.name] for v in graph.output if producer.get(v.name) in dynamic_set}, key=cone)
    order: list[int] = []
    done: set[int] = set()
    for root in roots:  # a node whose outputs are only read for their shape is never reached: dropped
        _post_order(root, preds, done, order)
    return order


def _post_order(root, preds, done, order) -> None:
    stack = [(root, iter(preds(root)))]
    if root in done:
        return
    done.add(root)
    while stack:
        node, pending = stack[-1]
        child = next((c for c in pending if c not in done), None)
        if child is None:
            stack.pop()
            order.append(node)
        else:
            done.add(child)
            stack.append((child, iter(preds(child))))


def _reaches_output(graph: onnx.GraphProto, producer: dict[str, int]) -> list[bool]:
    """Mark nodes from which some graph output can be reached (the rest is dead code)."""
    reach = [False] * len(graph.node)
    stack = [producer[v.name] for v in graph.output if v.name in producer]
    while stack:
        i = stack.pop()
        if reach[i]:
            continue
        reach[i] = True
        stack.extend(producer[n] for n in node_inputs(graph.node[i]) if n in producer)
    return reach


def _static_nodes(graph, infos, reach) -> tuple[set[int], dict[str, list[int] | int]]:
    """Nodes whose outputs do not depend on the graph inputs, and the Shape/Size values folded on the way."""
    dynamic = set(real_inputs(graph))
    static: set[int] = set()
    folded: dict[str, list[int] | int] = {}
    for i, node in enumerate(graph.node):
        if not reach[i]:
            continue
        value = _fold_shape(node, infos)
        if value is not None:
            folded[node.output[0]] = value
        elif any(n in dynamic for n in node_inputs(node)):
            dynamic.update(n for n in node.output if n)
            continue
        static.add(i)
    return static, folded


def _fold_shape(node: onnx.NodeProto, infos) -> list[int] | int | None:
    """The value of a Shape/Size node whose input's shape is fully known, else None."""
    if node.op_type not in ("Shape", "Size") or not node.input:
        return None
    info = infos.get(node.input[0])
    if info is None or info.shape is None or None in info.shape:
        return None
    if node.op_type == "Size":
        return math.prod(info.shape)  # Size yields a scalar
    attrs = {a.name: a.i for a in node.attribute}
    rank = len(info.shape)
    start, end = attrs.get("start", 0), attrs.get("end", rank)
    return list(info.shape[slice(start, end)])


def _live_sets(graph, order: list[int]) -> list[frozenset[str] | None]:
    """For each position of ``order``, the set of live tensors after it (None when more than two)."""
    last_use: dict[str, int] = {}
    for pos, i in enumerate(order):
        for name in node_inputs(graph.node[i]):
            last_use[name] = pos
    live = {n for n in real_inputs(graph) if n in last_use}
    lives: list[frozenset[str] | None] = []
    for pos, i in enumerate(order):
        node = graph.node[i]
        live.update(n for n in node.output if n and last_use.get(n, -1) > pos)
        live.difference_update([n for n in node_inputs(node) if last_use.get(n) == pos])
        lives.append(frozenset(live) if len(live) <= 2 else None)
    return lives


def _find_cuts(lives, order, macs, infos, graph, pairs) -> list[CutPoint]:
    inputs = set(real_inputs(graph))
    before = _prefix_sums([macs[i] for i in order])
    total = before[-1] if before else 0
    candidates: list[tuple[int, frozenset[str]]] = []
    previous: frozenset[str] | None = None
    for pos, live in enumerate(lives[:-1]):
        if live and live != previous and not live & inputs:
            candidates.append((pos, live))
        previous = live
    singles = sum(1 for _, live in candidates if len(live) == 1)
    want_pairs = pairs if pairs is not None else singles < PAIR_CUTS_BELOW
    kept = [(pos, live) for pos, live in candidates if len(live) == 1 or want_pairs]
    return [
        CutPoint(
            index=k,
            position=pos,
            tensors=tuple(infos.get(n) or TensorInfo(n, None, "unknown", None) for n in sorted(live)),
            macs_before=before[pos + 1],
            macs_after=total - before[pos + 1],
        )
        for k, (pos, live) in enumerate(kept)
    ]


def _prefix_sums(values: list[int]) -> list[int]:
    sums = [0]
    for v in values:
        sums.append(sums[-1] + v)
    return sums


def _blocks(graph, order, cuts, macs, infos) -> list[Block]:
    bounds = [-1, *(c.position for c in cuts), len(order) - 1]
    crossing = [_input_bytes(graph, infos), *(c.nbytes for c in cuts)]
    output_names = {v.name for v in graph.output}
    initializer_bytes = {t.name: _tensor_bytes(t) for t in graph.initializer}
    blocks = []
    for k in range(len(bounds) - 1):
        nodes = [graph.node[i] for i in order[bounds[k] + 1 : bounds[k + 1] + 1]]
        block_macs = [macs[i] for i in order[bounds[k] + 1 : bounds[k + 1] + 1]]
        exits = tuple(n for node in nodes for n in node.output if n in output_names)
        last = k == len(bounds) - 2
        blocks.append(
            Block(
                index=k,
                first_position=bounds[k] + 1,
                last_position=bounds[k + 1],
                node_count=len(nodes),
                macs=sum(block_macs),
                macs_by_category=_by_category(nodes, block_macs),
                op_counts=_by_category(nodes, [1] * len(nodes)),
                op_types=dict(Counter(node.op_type for node in nodes)),
                param_bytes=sum(initializer_bytes.get(n, 0) for node in nodes for n in set(node.input)),
                input_bytes=crossing[k],
                output_bytes=_sum_bytes(infos, exits) if last else crossing[k + 1],
                exits=exits,
            )
        )
    return blocks


def _by_category(nodes, values) -> dict[str, int]:
    totals = dict.fromkeys(CATEGORIES, 0)
    for node, value in zip(nodes, values, strict=True):
        totals[CATEGORY_OF.get(node.op_type, "other")] += value
    return totals


def _input_bytes(graph, infos) -> int | None:
    return _sum_bytes(infos, real_inputs(graph))


def _sum_bytes(infos, names) -> int | None:
    sizes = [infos[n].nbytes if n in infos else None for n in names]
    known = [n for n in sizes if n is not None]
    return sum(known) if len(known) == len(sizes) else None


def _tensor_bytes(tensor: onnx.TensorProto) -> int:
    try:
        itemsize = helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except (KeyError, TypeError, ValueError):
        itemsize = 1
    return math.prod(tensor.dims) * itemsize


def folded_constant(name: str, value: list[int] | int) -> onnx.NodeProto:
    """A Constant node that stands in for a folded Shape/Size node."""
    import numpy as np

    return helper.make_node(
        "Constant",
        [],
        [name],
        name=f"folded_{name}",
        value=numpy_helper.from_array(np.array(value, np.int64)),
    )
