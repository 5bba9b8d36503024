"""Fusion-friendly cuts (issue #18 item 4): what splitting at a cut costs beyond the hand-over, and which
cuts to prefer.

Splitting at a cut costs compute that the whole model does not spend (docs/benchmarks.md, "Split overhead"):
onnxruntime's CPU provider runs convolutions in a blocked channel layout (NCHWc), so a 4-D tensor crossing a
cut is converted out of it by the prefix and back by the suffix (two passes over the tensor); and a cut
between two operators onnxruntime would fuse runs the second one on its own (one more pass). The rule:

- A cut **breaks a fusion** when its tensor is made by a convolution (or a ``Gemm`` or ``MatMul``), or by
  an operator onnxruntime folds into the convolution before it (``BatchNormalization``, an ``Add`` or
  ``Mul``: a bias, a scale, a residual add), and is read only by an operator it would fuse into that
  convolution: an activation (``Relu``, ``Clip``, ``Sigmoid``, ...), ``BatchNormalization``, an ``Add`` or
  ``Mul``. Cut at the activation's output, not the convolution's; after a residual
  block's add and its activation, not between them; a pair cut inside a residual block whose branch tensor
  is its last convolution's output breaks the add.
- ``fusion_penalty``: the estimated extra compute as a fraction of the whole model's, from the crossing
  bytes — ``PASS_MACS_PER_BYTE`` multiply-accumulates' worth per byte per pass, two passes for a 4-D tensor
  (the layout), one more where a fusion breaks — over the model's MACs. The per-byte constant comes from
  the benchmark's measurements of mobilenetv2 and resnet18 at every cut: a pass cost 2 to 3 MACs' time per
  byte on an AMD EPYC, 5 to 10 on an Intel Xeon (whose MACs are faster against its memory); it ranks cuts,
  it does not predict a device's time. It leaves out the fixed cost of a second session run (the same at
  every cut; the planner counts stages by their own fixed costs).
- ``recommended``: breaks no fusion and costs at most ``RECOMMENDED_MAX_PENALTY`` (so that, with the fixed
  cost, a split at a recommended cut stays within the 3% overhead target).

The planner adds a cut's penalty, times the whole model's time on the device that runs the stage after it,
to that stage (``planning.cost``: every chain strategy's plan; the chain DP, device-edge and pipeline choose
with it), so it prefers recommended cuts unless another saves more.
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx

from .graph import CutPoint, GraphAnalysis, node_inputs

PASS_MACS_PER_BYTE = 4.0  # one pass over a tensor (read and write) costs about this many MACs' time per byte
RECOMMENDED_MAX_PENALTY = 0.01
LAYOUT_PASSES = 2  # a 4-D tensor leaves the blocked layout in the prefix and enters it again in the suffix

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
        """What fusion a cut at ``name`` breaks ("" if none)."""
        readers = self.readers.get(name, [])
        if len(readers) != 1 or not self.made_by_convolution(name):
            return ""
        reader = self.nodes[readers[0]]
        if reader.op_type not in ACTIVATIONS | FOLDED:
            return ""
        maker = self.nodes[self.producer[name]]
        return f"between {maker.op_type} and the {reader.op_type} onnxruntime fuses into it"


def _cost(graph: Graph, cut: CutPoint, macs: int) -> FusionCost:
    notes = [note for t in cut.tensors if (note := graph.broken_fusion(t.name))]
    passes = 0.0
    for tensor in cut.tensors:
        layout = LAYOUT_PASSES if tensor.shape is not None and len(tensor.shape) == 4 else 0
        fused = 1 if graph.broken_fusion(tensor.name) else 0
        passes += (layout + fused) * (tensor.nbytes or 0)
    penalty = PASS_MACS_PER_BYTE * passes / macs if macs > 0 else 0.0
    note = "; ".join(notes)
    return FusionCost(round(penalty, 6), not note and penalty <= RECOMMENDED_MAX_PENALTY, note)
