"""Graphs for the tests: random DAGs built with onnx.helper, and a detector-like torch export."""

from __future__ import annotations

import random

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SHAPE = [1, 4, 8, 8]


class DagBuilder:
    """Grows a random DAG over tensors of one shape, with skips, shared consumers and shape side-graphs."""

    def __init__(self, seed: int, side_outputs: bool = True):
        self.side_outputs = side_outputs
        self.rng = random.Random(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.tensors = ["x"]
        self.outputs: list[str] = []
        self.count = 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def pick(self) -> str:
        # Mostly recent tensors (chains), sometimes old ones (skip connections, shared consumers).
        if self.rng.random() < 0.7:
            return self.tensors[-1 - min(self.rng.randrange(3), len(self.tensors) - 1)]
        return self.rng.choice(self.tensors)

    def const(self, array: np.ndarray) -> str:
        name = self.name("c")
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def add(self, op: str, inputs: list[str], **attrs) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def step(self) -> None:
        kind = self.rng.choice(["unary", "binary", "binary", "conv", "resize", "reshape", "output"])
        if kind == "output" and not self.side_outputs:
            kind = "unary"
        getattr(self, f"_{kind}")()

    def _unary(self):
        self.tensors.append(self.add(self.rng.choice(["Relu", "Sigmoid", "Neg"]), [self.pick()]))

    def _binary(self):
        self.tensors.append(self.add(self.rng.choice(["Add", "Mul"]), [self.pick(), self.pick()]))

    def _conv(self):
        w = self.const(
            np.random.default_rng(self.count).standard_normal((4, 4, 3, 3)).astype(np.float32) * 0.2
        )
        self.tensors.append(self.add("Conv", [self.pick(), w], pads=[1, 1, 1, 1]))

    def _resize(self):
        scales = self.const(np.array([1, 1, 2, 2], np.float32))
        up = self.add("Resize", [self.pick(), "", scales], mode="nearest")
        self.tensors.append(self.add("MaxPool", [up], kernel_shape=[2, 2], strides=[2, 2]))

    def _reshape(self):
        """Flatten one tensor using another, earlier tensor's shape (read only for its shape), and back."""
        shape = self.add("Shape", [self.pick()])
        batch = self.add("Gather", [shape, self.const(np.array([0], np.int64))], axis=0)
        target = self.add("Concat", [batch, self.const(np.array([-1], np.int64))], axis=0)
        source = self.pick()
        flat = self.add("Reshape", [source, target])
        self.tensors.append(self.add("Reshape", [self.add("Relu", [flat]), self.add("Shape", [source])]))

    def _output(self):
        out = self.add("ReduceMean", [self.pick()], axes=[2, 3], keepdims=1)
        self.outputs.append(out)

    def model(self) -> onnx.ModelProto:
        final = self.add("Relu", [self.tensors[-1]])
        graph = helper.make_graph(
            self.nodes,
            "random_dag",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", *SHAPE[1:]])],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 4, 1, 1]) for n in self.outputs]
            + [helper.make_tensor_value_info(final, TensorProto.FLOAT, ["batch", *SHAPE[1:]])],
            initializer=self.inits,
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def random_dag(seed: int, steps: int = 30, side_outputs: bool = True) -> onnx.ModelProto:
    builder = DagBuilder(seed, side_outputs)
    for _ in range(steps):
        builder.step()
    return builder.model()


def detector_onnx(path) -> None:
    """Export a small FPN detector (residual backbone, top-down pathway, shared heads, three outputs).

    Exported by torch's TorchScript exporter with a dynamic batch axis, as third-party tools do: the graph
    is full of Shape→Gather→Unsqueeze→Concat side-graphs feeding Resize and Reshape.
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    def cbr(cin, cout, stride=1):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.ReLU())

    class Res(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.a, self.b = cbr(c, c), cbr(c, c)

        def forward(self, x):
            return F.relu(x + self.b(self.a(x)))

    class Detector(nn.Module):
        def __init__(self, classes=5, anchors=3):
            super().__init__()
            self.stem = nn.Sequential(cbr(3, 16, 2), Res(16))
            self.stages = nn.ModuleList(
                nn.Sequential(cbr(cin, cout, 2), Res(cout), Res(cout))
                for cin, cout in ((16, 24), (24, 32), (32, 48))
            )
            self.lateral = nn.ModuleList(nn.Conv2d(c, 32, 1) for c in (24, 32, 48))
            self.smooth = nn.ModuleList(cbr(32, 32) for _ in range(3))
            self.cls = nn.Sequential(cbr(32, 32), nn.Conv2d(32, anchors * classes, 3, padding=1))
            self.box = nn.Sequential(cbr(32, 32), nn.Conv2d(32, anchors * 4, 3, padding=1))
            self.classes = classes

        def forward(self, images):
            x, feats = self.stem(images), []
            for stage in self.stages:
                x = stage(x)
                feats.append(x)
            laterals = [conv(f) for conv, f in zip(self.lateral, feats, strict=True)]
            for i in (1, 0):
                up = F.interpolate(laterals[i + 1], size=laterals[i].shape[-2:], mode="nearest")
                laterals[i] = laterals[i] + up
            pyramid = [smooth(p) for smooth, p in zip(self.smooth, laterals, strict=True)]
            n = images.shape[0]
            scores = torch.cat([self.cls(p).reshape(n, -1, self.classes) for p in pyramid], 1).sigmoid()
            boxes = torch.cat([self.box(p).reshape(n, -1, 4) for p in pyramid], 1)
            return scores, boxes, pyramid[-1].mean(dim=(2, 3))

    torch.manual_seed(0)
    net = Detector().eval()
    with torch.no_grad():
        torch.onnx.export(
            net,
            (torch.randn(1, 3, 64, 64),),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=["images"],
            output_names=["scores", "boxes", "embedding"],
            dynamic_axes={"images": {0: "batch"}, "scores": {0: "batch"}, "boxes": {0: "batch"}},
            do_constant_folding=False,
        )


# --- An old opset (test_old_opsets) and a model for external data (test_external_data) -------------

OLD_RNG = np.random.default_rng(0)


def weight(name, shape, positive=False):
    values = OLD_RNG.standard_normal(shape).astype(np.float32)
    return numpy_helper.from_array(np.abs(values) + 0.5 if positive else values, name)


def opset6(nodes, initializers, output_shape=(1, 2, 8, 8)) -> onnx.ModelProto:
    """As exporters of the time wrote them: IR version 3, the weights listed as graph inputs too."""
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])]
    inputs += [helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)) for i in initializers]
    graph = helper.make_graph(
        nodes,
        "old",
        inputs,
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(output_shape))],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 6)])
    model.ir_version = 3
    return model


def conv_bn_relu(add: onnx.NodeProto | None = None, bias=(4, 1, 1)) -> onnx.ModelProto:
    """Conv, BatchNormalization (opset 6's is_test), Relu, an Add with opset 6's broadcast attribute, Conv."""
    add = add or helper.make_node("Add", ["r1", "bias"], ["a"], broadcast=1)
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "s", "b", "m", "v"], ["bn"], is_test=1),
        helper.make_node("Relu", ["bn"], ["r1"]),
        add,
        helper.make_node("Conv", ["a", "w2"], ["y"], pads=[1, 1, 1, 1]),
    ]
    weights = [weight("w1", (4, 3, 3, 3)), weight("s", (4,)), weight("b", (4,)), weight("m", (4,))]
    weights += [weight("v", (4,), positive=True), weight("bias", bias), weight("w2", (2, 4, 3, 3))]
    return opset6(nodes, weights)


def external_convnet() -> onnx.ModelProto:
    """Three convolutions with weights large enough (over onnx's 1 KB threshold) to go to external data."""
    rng = np.random.default_rng(0)

    def weight(name, shape):
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3"], ["y"], pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "external",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])],
        [weight("w1", (16, 3, 3, 3)), weight("w2", (16, 16, 3, 3)), weight("w3", (4, 16, 3, 3))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model
