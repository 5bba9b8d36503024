"""Graphs as exporters make them (issue #18 item 3): several inputs, control-flow nodes (If, Loop, Scan:
atomic blocks, their bodies reading outer-scope tensors), fp16, quantised QDQ, an old opset — each
validated, analysed and split exactly at every cut (the segments composed equal the full model within a
dtype-appropriate tolerance)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeorch.catalog import runtime, segments
from edgeorch.catalog.validation import validate_model_bytes

RNG = np.random.default_rng(0)


def weight(name, shape, dtype=np.float32):
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(dtype), name)


def value(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, initializers, opset=17):
    graph = helper.make_graph(nodes, "exported", inputs, outputs, initializers)
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    made.ir_version = 8
    return made


def conv(x, w, y):
    return helper.make_node("Conv", [x, w], [y], pads=[1, 1, 1, 1])


def two_convs(elem=TensorProto.FLOAT, dtype=np.float32, opset=17):
    return model(
        [conv("x", "w1", "c1"), helper.make_node("Relu", ["c1"], ["r1"]), conv("r1", "w2", "y")],
        [value("x", [1, 3, 8, 8], elem)],
        [value("y", [1, 2, 8, 8], elem)],
        [weight("w1", (4, 3, 3, 3), dtype), weight("w2", (2, 4, 3, 3), dtype)],
        opset,
    )


def multi_input():
    return model(
        [
            conv("a", "w1", "c1"),
            helper.make_node("Relu", ["c1"], ["r1"]),
            conv("b", "w2", "c2"),
            helper.make_node("Add", ["r1", "c2"], ["s"]),
            helper.make_node("Relu", ["s"], ["y"]),
            helper.make_node("ReduceMean", ["s"], ["m"], keepdims=0),
        ],
        [value("a", [1, 3, 8, 8]), value("b", [1, 3, 8, 8])],
        [value("y", [1, 4, 8, 8]), value("m", [])],
        [weight("w1", (4, 3, 3, 3)), weight("w2", (4, 3, 3, 3))],
    )


def with_if():
    then = helper.make_graph(
        [helper.make_node("Relu", ["r1"], ["t"])], "then", [], [value("t", [1, 4, 8, 8])]
    )
    other = helper.make_graph(
        [helper.make_node("Neg", ["r1"], ["e"])], "else", [], [value("e", [1, 4, 8, 8])]
    )
    return model(
        [
            conv("x", "w1", "c1"),
            helper.make_node("Relu", ["c1"], ["r1"]),
            helper.make_node("ReduceSum", ["r1"], ["total"], keepdims=0),
            helper.make_node("Greater", ["total", "zero"], ["positive"]),
            helper.make_node("If", ["positive"], ["i"], then_branch=then, else_branch=other),
            conv("i", "w2", "y"),
        ],
        [value("x", [1, 3, 8, 8])],
        [value("y", [1, 2, 8, 8])],
        [
            weight("w1", (4, 3, 3, 3)),
            weight("w2", (2, 4, 3, 3)),
            numpy_helper.from_array(np.float32(0), "zero"),
        ],
    )


def with_loop():
    """A Loop of three iterations whose body reads an outer-scope activation (r1) and constant (half)."""
    body = helper.make_graph(
        [
            helper.make_node("Add", ["v_in", "r1"], ["s"]),
            helper.make_node("Mul", ["s", "half"], ["v_out"]),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        ],
        "body",
        [
            value("i", [], TensorProto.INT64),
            value("cond_in", [], TensorProto.BOOL),
            value("v_in", [1, 4, 8, 8]),
        ],
        [value("cond_out", [], TensorProto.BOOL), value("v_out", [1, 4, 8, 8])],
    )
    return model(
        [
            conv("x", "w1", "c1"),
            helper.make_node("Relu", ["c1"], ["r1"]),
            helper.make_node("Loop", ["trip", "", "r1"], ["l"], body=body),
            helper.make_node("Relu", ["l"], ["lr"]),
            conv("lr", "w2", "y"),
        ],
        [value("x", [1, 3, 8, 8])],
        [value("y", [1, 2, 8, 8])],
        [
            weight("w1", (4, 3, 3, 3)),
            weight("w2", (2, 4, 3, 3)),
            numpy_helper.from_array(np.array(3, np.int64), "trip"),
            numpy_helper.from_array(np.float32(0.5), "half"),
        ],
    )


def with_scan():
    """A Scan over the rows of an activation, carrying a running sum (a second output) and scaling each row
    by an outer-scope constant."""
    body = helper.make_graph(
        [
            helper.make_node("Add", ["st_in", "row"], ["st_out"]),
            helper.make_node("Mul", ["row", "scale"], ["out_row"]),
        ],
        "body",
        [value("st_in", [1, 4, 8]), value("row", [1, 4, 8])],
        [value("st_out", [1, 4, 8]), value("out_row", [1, 4, 8])],
    )
    scan = helper.make_node(
        "Scan",
        ["init", "r1"],
        ["final", "scanned"],
        body=body,
        num_scan_inputs=1,
        scan_input_axes=[2],
        scan_output_axes=[2],
    )
    return model(
        [
            conv("x", "w1", "c1"),
            helper.make_node("Relu", ["c1"], ["r1"]),
            helper.make_node("ReduceMean", ["r1"], ["init"], axes=[2], keepdims=0),
            scan,
            helper.make_node("Relu", ["scanned"], ["sr"]),
            conv("sr", "w2", "y"),
            helper.make_node("Relu", ["final"], ["f"]),
        ],
        [value("x", [1, 3, 8, 8])],
        [value("y", [1, 2, 8, 8]), value("f", [1, 4, 8])],
        [
            weight("w1", (4, 3, 3, 3)),
            weight("w2", (2, 4, 3, 3)),
            numpy_helper.from_array(np.float32(0.5), "scale"),
        ],
    )


def qdq():
    scale = numpy_helper.from_array(np.array(0.05, np.float32), "scale")
    zero = numpy_helper.from_array(np.array(0, np.uint8), "zp")
    wq = numpy_helper.from_array(RNG.integers(0, 255, (4, 3, 3, 3)).astype(np.uint8), "wq")

    def q(out, x):
        return helper.make_node("QuantizeLinear", [x, "scale", "zp"], [out])

    def dq(out, x):
        return helper.make_node("DequantizeLinear", [x, "scale", "zp"], [out])

    return model(
        [q("xq", "x"), dq("xd", "xq"), dq("wd", "wq"), conv("xd", "wd", "c1"), q("cq", "c1"), dq("cd", "cq")]
        + [helper.make_node("Relu", ["cd"], ["y"])],
        [value("x", [1, 3, 8, 8])],
        [value("y", [1, 4, 8, 8])],
        [scale, zero, wq],
    )


CASES = {
    "multi-input-output": (multi_input, 1e-4),
    "if-node": (with_if, 1e-4),
    "loop-node": (with_loop, 1e-4),
    "scan-node": (with_scan, 1e-4),
    "fp16": (lambda: two_convs(TensorProto.FLOAT16, np.float16), 2e-2),
    "qdq": (qdq, 1e-4),
    "opset-7": (lambda: two_convs(opset=7), 1e-4),  # the oldest the installed onnxruntime runs as it is
    "opset-8": (lambda: two_convs(opset=8), 1e-4),
    "opset-9": (lambda: two_convs(opset=9), 1e-4),
}


@pytest.mark.parametrize("name", CASES)
def test_an_exporters_graph_is_analysed_and_splits_exactly_at_every_cut(name):
    build, tolerance = CASES[name]
    valid = validate_model_bytes(build().SerializeToString(), max_bytes=2**26)
    analysis = valid.analysis
    assert analysis.cuts
    feeds = runtime.random_feeds(valid.model)
    full = runtime.run(valid.model, feeds)
    for cut in range(len(analysis.cuts)):
        parts = segments.extract_segments(valid.model, analysis, [cut])
        got = segments.run_segments([p.model.SerializeToString() for p in parts], parts, feeds)
        assert set(got) == set(full)
        for key, want in full.items():
            np.testing.assert_allclose(
                got[key].astype(np.float64), want.astype(np.float64), rtol=tolerance, atol=tolerance
            )


# The cuts of each control-flow graph: around the node, never inside its body (whose tensors "t", "e", "s",
# "v_out", "st_out", "out_row" are not in the outer graph) nor between it and the tensors its body reads.
CONTROL_FLOW_CUTS = {
    "if-node": [("c1",), ("r1",), ("i",)],
    "loop-node": [("c1",), ("r1",), ("l",), ("lr",)],
    "scan-node": [("c1",), ("r1",), ("scanned",), ("sr",)],
}


@pytest.mark.parametrize("name", CONTROL_FLOW_CUTS)
def test_a_control_flow_node_is_one_atomic_block(name):
    analysis = validate_model_bytes(CASES[name][0]().SerializeToString(), max_bytes=2**26).analysis
    assert [c.names for c in analysis.single_cuts] == CONTROL_FLOW_CUTS[name]
