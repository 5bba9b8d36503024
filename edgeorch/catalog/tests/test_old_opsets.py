"""Models older than onnxruntime runs (opset < 7; issue #18 item 3): converted at upload with onnx's version
converter to opset 7, with a note on the model saying from which opset, and then split exactly at every cut;
a model the converter cannot handle is refused with a 400 saying why."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from onnx import helper

from edgeorch.catalog import runtime, segments
from edgeorch.catalog.models import MLModel
from edgeorch.catalog.validation import ModelValidationError, validate_model_bytes

from .graphs import conv_bn_relu, opset6
from .support import token_header

NOTE = "Converted at upload from opset 6 to opset 7 with onnx's version converter"


def test_an_opset_6_model_is_converted_to_7_and_splits_exactly_at_every_cut():
    valid = validate_model_bytes(conv_bn_relu().SerializeToString(), max_bytes=2**26)
    assert valid.opset == 7 and valid.notes[0].startswith(NOTE)
    assert [o.version for o in valid.model.opset_import if o.domain == ""] == [7]
    assert not any(a.name == "broadcast" for n in valid.model.graph.node for a in n.attribute)
    analysis = valid.analysis
    assert [c.names for c in analysis.single_cuts] == [("c1",), ("bn",), ("r1",), ("a",)]
    feeds = runtime.random_feeds(valid.model)
    full = runtime.run(valid.model, feeds)
    for cut in range(len(analysis.cuts)):
        parts = segments.extract_segments(valid.model, analysis, [cut])
        got = segments.run_segments([p.model.SerializeToString() for p in parts], parts, feeds)
        np.testing.assert_allclose(got["y"], full["y"], rtol=1e-4, atol=1e-4)


def test_an_opset_7_model_of_ir_version_3_splits_exactly():
    """Old exporters list every weight as a graph input (IR 3 requires it); segments do not, so the stored
    model is IR 4."""
    model = conv_bn_relu()
    model.opset_import[0].version = 7
    del model.graph.node[1].attribute[:]
    del model.graph.node[3].attribute[:]
    valid = validate_model_bytes(model.SerializeToString(), max_bytes=2**26)
    assert valid.opset == 7 and not valid.notes and valid.model.ir_version == 4
    feeds = runtime.random_feeds(valid.model)
    full = runtime.run(valid.model, feeds)
    for cut in range(len(valid.analysis.cuts)):
        parts = segments.extract_segments(valid.model, valid.analysis, [cut])
        got = segments.run_segments([p.model.SerializeToString() for p in parts], parts, feeds)
        np.testing.assert_allclose(got["y"], full["y"], rtol=1e-4, atol=1e-4)


def test_the_conversion_computes_what_the_old_model_meant():
    """Opset 6's Add with broadcast=1 aligns the bias at the end; recompute the model in numpy."""
    model = conv_bn_relu()
    valid = validate_model_bytes(model.SerializeToString(), max_bytes=2**26)
    feeds = runtime.random_feeds(valid.model)
    # The same graph at opset 7 written by hand (Add broadcasts without the attribute) is the reference.
    reference = onnx.ModelProto()
    reference.CopyFrom(model)
    reference.opset_import[0].version = 7
    del reference.graph.node[1].attribute[:]  # BatchNormalization's is_test
    del reference.graph.node[3].attribute[:]  # Add's broadcast
    want = runtime.run(reference, feeds)["y"]
    np.testing.assert_allclose(runtime.run(valid.model, feeds)["y"], want, rtol=1e-5, atol=1e-5)


@pytest.mark.django_db
def test_the_upload_api_shows_the_conversion_note(client, alice, media):
    body = {"file": SimpleUploadedFile("old.onnx", conv_bn_relu().SerializeToString()), "name": "old"}
    response = client.post("/api/models/", body, **token_header(alice))
    assert response.status_code == 201, response.content
    assert response.json()["opset"] == 7 and response.json()["notes"][0].startswith(NOTE)
    listed = client.get("/api/models/", **token_header(alice)).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows[0]["notes"][0].startswith(NOTE)
    assert MLModel.objects.get().notes == response.json()["notes"]


def test_an_op_that_opset_7_no_longer_has_is_refused_naming_it():
    crop = opset6([helper.make_node("Crop", ["x"], ["y"], scale=[1, 1])], [], (1, 3, 8, 8))
    with pytest.raises(ModelValidationError, match="ops that opset 7 no longer has: Crop"):
        validate_model_bytes(crop.SerializeToString(), max_bytes=2**26)


def test_a_conversion_that_does_not_check_is_refused_saying_so():
    """onnx's 6->7 adapter unsqueezes an axis-aligned bias one dimension too many (onnx 1.23: a [4] bias
    with axis=1 becomes [4, 1, 1, 1]); the converted graph's shapes disagree with the declared output, so
    shape inference refuses it rather than the catalog storing a model that computes something else."""
    model = conv_bn_relu(helper.make_node("Add", ["r1", "bias"], ["a"], broadcast=1, axis=1), bias=(4,))
    with pytest.raises(ModelValidationError, match="Converted from opset 6 to 7: Shape inference failed"):
        validate_model_bytes(model.SerializeToString(), max_bytes=2**26)


@pytest.mark.django_db
def test_a_refused_conversion_is_a_400_that_stores_nothing(client, alice, media):
    crop = opset6([helper.make_node("Crop", ["x"], ["y"], scale=[1, 1])], [], (1, 3, 8, 8))
    body = {"file": SimpleUploadedFile("old.onnx", crop.SerializeToString()), "name": "old"}
    response = client.post("/api/models/", body, **token_header(alice))
    assert response.status_code == 400 and "Crop" in response.json()["file"][0]
    assert not MLModel.all_objects.exists() and not [p for p in media.rglob("*") if p.is_file()]


def test_an_old_model_with_dynamic_dimensions_is_pinned_then_converted():
    """onnx's adapters refuse symbolic dimensions: the given dims are pinned before converting."""
    model = conv_bn_relu()
    for value in (model.graph.input[0], model.graph.output[0]):
        for dim, name in zip(value.type.tensor_type.shape.dim[2:], ("height", "width"), strict=True):
            dim.Clear()
            dim.dim_param = name
    data = model.SerializeToString()
    with pytest.raises(ModelValidationError, match=r"input shapes: .*height \(dimension 2\)"):
        validate_model_bytes(data, max_bytes=2**26)
    valid = validate_model_bytes(data, max_bytes=2**26, dims={"height": 32, "width": 48})
    assert valid.opset == 7 and valid.notes[0].startswith(NOTE)
    assert valid.analysis.outputs[0].shape == (1, 2, 32, 48)
