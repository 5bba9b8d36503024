"""Helpers the plans tests share (their fixtures are in ``conftest.py``)."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from edgeorch.devices.choices import DeviceStatus


def conv_net(channels: int = 16, size: int = 64, classes: int = 10, name: str = "net") -> bytes:
    """conv-relu-pool twice, conv-relu, global pool, fc: early blocks heavy with big activations, a tiny
    tail."""
    rng = np.random.default_rng(channels * 1000 + size)
    inits, nodes = [], []

    def weight(tensor_name, shape):
        inits.append(
            numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.1, tensor_name)
        )
        return tensor_name

    c1, c2 = channels, channels * 2
    nodes += [
        helper.make_node("Conv", ["x", weight("w1", [c1, 3, 3, 3])], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", weight("w2", [c2, c1, 3, 3])], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p2", weight("w3", [c2, c2, 3, 3])], ["c3"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c3"], ["r3"]),
        helper.make_node("GlobalAveragePool", ["r3"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", weight("wf", [classes, c2])], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, classes])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return model.SerializeToString()


def make_device(name: str, role: str, status: str = DeviceStatus.ONLINE, profile: str = ""):
    from edgeorch.devices.models import Device

    return Device.objects.create(name=name, role=role, status=status, profile=profile, credential_hash="-")


def auth(user) -> dict:
    from edgeorch.api.keys import create_key

    return {"HTTP_AUTHORIZATION": f"Token {create_key(user)}"}


def profile_at_rate(device, model, gmacs: float, overhead_s: float = 1e-5, thermal=None):
    """A measured profile whose block times are MACs / rate plus a fixed overhead per block."""
    from edgeorch.plans import measurements

    blocks = [
        {"block": i, "median_s": b["macs"] / (gmacs * 1e9) + overhead_s, "p90_s": 0, "runs": 10}
        for i, b in enumerate(model.blocks)
    ]
    for b in blocks:
        b["p90_s"] = b["median_s"] * 1.1
    return measurements.record_profile(device, model, blocks, thermal or {})
