"""Uploaded bytes: each kind of bad file is refused with a message naming the problem."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeorch.catalog.validation import ModelValidationError, validate_model_bytes

LIMIT = 10 * 2**20


def tiny_model(nodes=None, opset=17, inits=()) -> onnx.ModelProto:
    nodes = nodes or [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Sigmoid", ["a"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
        initializer=list(inits),
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def refusal(data: bytes, limit: int = LIMIT) -> str:
    with pytest.raises(ModelValidationError) as info:
        validate_model_bytes(data, max_bytes=limit)
    return str(info.value)


def test_a_valid_model_comes_back_prepared_with_its_cut():
    valid = validate_model_bytes(tiny_model().SerializeToString(), max_bytes=LIMIT)
    assert [c.names for c in valid.analysis.cuts] == [("a",)]
    assert valid.analysis.inputs[0].shape == (1, 4)
    assert valid.sha256 != valid.source_sha256  # the stored bytes are the prepared model


def test_a_file_over_the_size_limit_is_refused():
    assert "upload limit is 1 MB" in refusal(b"\0" * (2**20 + 1), limit=2**20)


def test_an_empty_file_is_refused():
    assert refusal(b"") == "The file is empty."


@pytest.mark.parametrize("data", [b"hello, this is a text file\n", bytes(range(256)) * 4])
def test_a_file_that_is_not_onnx_is_refused(data):
    assert refusal(data).startswith("This is not an ONNX model")


def test_a_model_the_checker_rejects_is_refused():
    model = tiny_model([helper.make_node("Relu", ["missing"], ["y"])])
    assert "onnx.checker rejected the model" in refusal(model.SerializeToString())


def test_an_opset_newer_than_onnxruntime_supports_is_refused():
    message = refusal(tiny_model(opset=99).SerializeToString())
    assert "opset 99" in message and "supports opsets 7 to" in message


def test_a_model_whose_shapes_are_inconsistent_is_refused():
    bad = numpy_helper.from_array(np.ones((3, 5), np.float32), "w")
    model = tiny_model([helper.make_node("MatMul", ["x", "w"], ["y"])], inits=[bad])
    assert refusal(model.SerializeToString()).startswith("Shape inference failed")


def test_a_model_that_fails_its_test_run_is_refused():
    index = numpy_helper.from_array(np.array([10], np.int64), "i")  # out of range only at run time
    nodes = [
        helper.make_node("Gather", ["x", "i"], ["g"], axis=1),
        helper.make_node("Tile", ["g", "r"], ["y"]),
    ]
    repeats = numpy_helper.from_array(np.array([1, 4], np.int64), "r")
    message = refusal(tiny_model(nodes, inits=[index, repeats]).SerializeToString())
    assert message.startswith("The test run on random input failed")


def test_a_third_party_detector_is_accepted_and_analysed(detector_path):
    valid = validate_model_bytes(detector_path.read_bytes(), max_bytes=LIMIT)
    assert valid.analysis.node_count > 250
    assert [o.name for o in valid.analysis.outputs] == ["scores", "boxes", "embedding"]
    assert valid.analysis.cuts and all(c.nbytes for c in valid.analysis.cuts)
