"""Fusion-friendly cuts (issue #18 item 4): what splitting at a cut costs beyond the hand-over, and which
cuts to prefer.

Splitting at a cut costs compute that the whole model does not spend (docs/benchmarks.md, "Split overhead"):
onnxruntime's CPU provider runs convolutions in a blocked channel layout (NCHWc), so a 4-D tensor crossing a
cut is converted out of it by the prefix and back by the suffix (two passes over the tensor); and a cut
between two operators onnxruntime would fuse runs the second one on its own (one more pass). The rule:

- A cut **breaks a fusion** (two ways, each checked against the graphs onnxruntime optimizes the segments
  into: ``tests/test_fusion.py``):
  (1) its tensor is made by a convolution (or a ``Gemm`` or ``MatMul``), or by an operator onnxruntime
  folds into the convolution before it (``BatchNormalization``, an ``Add`` or ``Mul``: a bias, a scale, a
  residual add), and is read only by an operator it would fuse into that convolution: an activation
  (``Relu``, ``Clip``, ``Sigmoid``, ...), ``BatchNormalization``, an ``Add`` or ``Mul``. Cut at the
  activation's output, not the convolution's; after a residual block's add and its activation, not
  between them.
  (2) its tensor is a residual block's skip input: an ``Add`` after the cut reads it beside a convolution's
  output. onnxruntime fuses such an add into the convolution only when the skip is in its blocked layout
  inside the same session; a graph input is not, so the suffix runs the block's convolution, a layout
  conversion, the Add, its activation and a conversion back, and since the add's result is then a plain
  tensor, the next block's add whose skip it is runs unfused too (``residual_adds`` follows that chain).
  So a block boundary is a good cut only where no skip crosses it: in ResNet after a downsampling block's
  input (the skip goes through a 1x1 convolution), in MobileNetV2 after the last block of a stage.
- ``fusion_penalty``: the estimated extra compute as a fraction of the whole model's, from the crossing
  bytes — ``PASS_MACS_PER_BYTE`` multiply-accumulates' worth per byte per pass, two passes for a 4-D tensor
  (the layout), one more where an activation's fusion breaks, ``UNFUSED_ADD_PASSES`` over the output of
  each residual add run unfused — over the model's MACs. The per-byte constant comes from
  the benchmark's measurements of mobilenetv2 and resnet18 at every cut: a pass cost 2 to 3 MACs' time per
  byte on an AMD EPYC, 5 to 10 on an Intel Xeon (whose MACs are faster against its memory); it ranks cuts,
  it does not predict a device's time. It leaves out the fixed cost of a second session run (the same at
  every cut; the planner counts stages by their own fixed costs).
- ``recommended``: breaks no fusion and costs at most ``RECOMMENDED_MAX_PENALTY`` (0.5%: the measured
  overhead at a cut also holds the cache misses of the kernels beside it, about as much again as the layout
  passes, and the fixed cost of a second session run, so that a split at a recommended cut stays within
  the 3% overhead target; docs/benchmarks.md, Catalog).

The planner adds a cut's penalty, times the whole model's time on the device that runs the stage after it,
to that stage (``planning.cost``: every chain strategy's plan; the chain DP, device-edge and pipeline choose
with it), so it prefers recommended cuts unless another saves more.
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx

from .graph import CutPoint, GraphAnalysis, node_inputs

PASS_MACS_PER_BYTE = 4.0  # one pass over a tensor (read and write) costs about this many MACs' time per byte
RECOMMENDED_MAX_PENALTY = 0.005
LAYOUT_PASSES = 2  # a 4-D tensor leaves the blocked layout in the prefix and enters it again in the suffix
# An unfused residual add: its branch leaves the blocked layout, the Add, its activation, and back.
UNFUSED_ADD_PASSES = 4
MAX_UNFUSED_CHAIN = 16  # residual adds unfused in a row by one cut, at most (a stage of blocks)

ACTIVATIONS = {"Relu", "Clip", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "HardSwish", "Elu", "Selu"}
CONVOLUTIONS = {"Conv", "FusedConv", "Gemm", "MatMul"}  # and the matrix products, fused with bias and act
FOLDED = {"BatchNormalization", "Add", "Mul"}  # fused into the convolution before them (bias, scale, skip)


@dataclass(frozen=True)
class FusionCost:
    penalty: float  # estimated extra compute of a split here, as a fraction of the whole model's
    recommended: bool
    note: str  # the fusion it breaks, if any


def assess(model: onnx.ModelProto, analysis: GraphAnalysis) -> list[FusionCost]:
    """The fusion cost of each of ``analysis.cuts``, in order."""
    graph = Graph(model.graph, analysis)
    return [_cost(graph, cut, analysis.macs) for cut in analysis.cuts]


class Graph:
    """Who makes and who reads each tensor of the analysed (input-dependent) part of a graph."""

    def __init__(self, graph: onnx.GraphProto, analysis: GraphAnalysis):
        self.nodes = graph.node
        self.producer = {n: i for i in analysis.order for n in graph.node[i].output if n}
        self.readers: dict[str, list[int]] = {}
        for i in analysis.order:
            for name in dict.fromkeys(node_inputs(graph.node[i])):
                self.readers.setdefault(name, []).append(i)
        self.tensors = analysis.tensors

    def made_by_convolution(self, name: str, depth: int = 0) -> bool:
        """Made by a Conv, or by an op folded into the Conv before it (whose output only it reads)."""
        i = self.producer.get(name)
        if i is None or depth > 4:
            return False
        node = self.nodes[i]
        if node.op_type in CONVOLUTIONS:
            return True
        if node.op_type not in FOLDED:
            return False
        inputs = [n for n in node.input if n in self.producer]  # the dynamic operands
        return any(
            len(self.readers.get(n, ())) == 1 and self.made_by_convolution(n, depth + 1) for n in inputs
        )

    def broken_fusion(self, name: str) -> str:
        """What fusion a cut at ``name`` breaks by separating its maker from its reader ("" if none)."""
        readers = self.readers.get(name, [])
        if len(readers) != 1 or not self.made_by_convolution(name):
            return ""
        reader = self.nodes[readers[0]]
        if reader.op_type not in ACTIVATIONS | FOLDED:
            return ""
        maker = self.nodes[self.producer[name]]
        return f"between {maker.op_type} and the {reader.op_type} onnxruntime fuses into it"

    def residual_adds(self, name: str, crossing: frozenset[str]) -> list[int]:
        """The residual adds a cut at ``name`` unfuses: each ``Add`` that reads it as its skip input
        beside a convolution's output made after the cut, and, since that add's result then leaves the
        blocked layout, each add that reads that result (or its activation) as its skip in turn."""
        unfused: list[int] = []
        names = [name]
        while names and len(unfused) < MAX_UNFUSED_CHAIN:
            skip = names.pop()
            for i in self.readers.get(skip, []):
                node = self.nodes[i]
                branch = [n for n in node.input if n != skip and n in self.producer and n not in crossing]
                if node.op_type != "Add" or i in unfused or not branch:
                    continue
                if all(len(self.readers.get(n, ())) == 1 and self.made_by_convolution(n) for n in branch):
                    unfused.append(i)
                    names += [self.after_activation(node.output[0])]
        return unfused

    def after_activation(self, name: str) -> str:
        """The activation's output where ``name`` is read only by an activation, else ``name``."""
        readers = self.readers.get(name, [])
        if len(readers) == 1 and self.nodes[readers[0]].op_type in ACTIVATIONS:
            return self.nodes[readers[0]].output[0]
        return name

    def nbytes(self, name: str) -> int:
        info = self.tensors.get(name)
        return (info.nbytes or 0) if info is not None else 0


def _cost(graph: Graph, cut: CutPoint, macs: int) -> FusionCost:
    crossing = frozenset(t.name for t in cut.tensors)
    notes, passes = [], 0.0
    for tensor in cut.tensors:
        layout = LAYOUT_PASSES if tensor.shape is not None and len(tensor.shape) == 4 else 0
        passes += layout * (tensor.nbytes or 0)
        if note := graph.broken_fusion(tensor.name):
            notes.append(note)
            passes += tensor.nbytes or 0
        if adds := graph.residual_adds(tensor.name, crossing):
            made = graph.nodes[adds[0]].output[0]
            notes.append(
                f"the skip input of the residual Add making {made}, which onnxruntime then runs unfused"
            )
            passes += UNFUSED_ADD_PASSES * sum(graph.nbytes(graph.nodes[i].output[0]) for i in adds)
    penalty = PASS_MACS_PER_BYTE * passes / macs if macs > 0 else 0.0
    note = "; ".join(notes)
    return FusionCost(round(penalty, 6), not note and penalty <= RECOMMENDED_MAX_PENALTY, note)
