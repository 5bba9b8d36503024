"""Models exported with dynamic dimensions (issue #18, serving shapes): the unknown dimensions other than the
batch must be given (by name or as a whole shape), and are then pinned for analysis, the test run and cut
sizes; not given, the upload is refused naming the input and the dimensions, never analysed at 1x1. Two shape
profiles of one model are two catalog entries with their own cuts."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeorch.catalog import services
from edgeorch.catalog.models import MLModel
from edgeorch.catalog.validation import ModelValidationError

from .test_api import upload


def dynamic_detector() -> bytes:
    """A small conv net whose input is [batch, 3, height, width] (as detectors are exported)."""
    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((4, 8, 3, 3)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("Conv", ["images", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["boxes"]),
    ]
    graph = helper.make_graph(
        nodes,
        "detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["batch", 4, None, None])],
        [w1, w2],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def register(data, version="1", dims=None):
    return services.register_model(data, name="detector", version=version, dims=dims)


def test_unknown_dimensions_not_given_are_refused_naming_the_input_and_dimensions(db, media):
    with pytest.raises(ModelValidationError) as refused:
        register(dynamic_detector())
    words = str(refused.value)
    assert (
        "images [batch, 3, height, width]" in words and "height (dimension 2), width (dimension 3)" in words
    )
    assert '{"height": 640, "width": 640}' in words and "batch dimension (the first) defaults to 1" in words
    assert not MLModel.all_objects.exists() and not list(media.rglob("*.onnx"))  # nothing left behind


@pytest.mark.parametrize("dims", [{"height": 32, "width": 48}, {"images": [1, 3, 32, 48]}])
def test_given_dimensions_are_pinned_for_analysis_and_cuts(db, media, dims):
    model = register(dynamic_detector(), dims=dims)
    assert model.inputs[0]["shape"] == [1, 3, 32, 48]  # the batch defaulted to 1
    assert model.outputs[0]["shape"] == [1, 4, 16, 24]
    sizes = sorted(c.bytes for c in model.cut_points.all())
    assert 4 * 8 * 16 * 24 in sizes  # the pooled activation at 32x48, not at 1x1
    stored = onnx.load_from_string(model.artifact_path.read_bytes())
    assert [d.dim_value for d in stored.graph.input[0].type.tensor_type.shape.dim] == [1, 3, 32, 48]


def test_two_shape_profiles_are_two_entries_with_their_own_cuts(db, media):
    small = register(dynamic_detector(), "320", {"height": 320, "width": 320})
    large = register(dynamic_detector(), "640", {"height": 640, "width": 640})
    assert small.macs * 4 == large.macs
    assert max(c.bytes for c in large.cut_points.all()) == 4 * max(c.bytes for c in small.cut_points.all())


@pytest.mark.parametrize(
    "dims, words",
    [
        ({"depth": 3}, "'depth', which is neither an input (images) nor a symbolic dimension"),
        ({"images": [1, 3, 32]}, "dims gives images 3 dimensions; it has 4"),
        ({"images": [1, 4, 32, 32]}, "images[1] = 4; the model fixes it at 3"),
        ({"height": 0, "width": 32}, "a dimension must be a positive integer, not 0"),
    ],
)
def test_bad_dimensions_are_refused_saying_why(db, media, dims, words):
    with pytest.raises(ModelValidationError, match="input shapes") as refused:
        register(dynamic_detector(), dims=dims)
    assert words in str(refused.value)


def test_the_upload_api_takes_dims_and_says_which_are_missing(client, alice, media):
    refused = upload(client, alice, dynamic_detector(), name="detector")
    assert refused.status_code == 400, refused.content
    assert "height (dimension 2)" in refused.json()["dims"][0]
    bad = upload(client, alice, dynamic_detector(), name="detector", dims='{"height": "tall"}')
    assert bad.status_code == 400 and "positive integer" in bad.json()["dims"][0]
    created = upload(client, alice, dynamic_detector(), name="detector", dims='{"height": 64, "width": 64}')
    assert created.status_code == 201, created.content
    assert created.json()["inputs"][0]["shape"] == [1, 3, 64, 64]
