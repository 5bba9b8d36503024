"""A model's preprocessing in the catalog: the zoo's specs, checked on save, upload and the API."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from edgeorch_wire import preprocess

from edgeorch.catalog import preprocessing, zoo
from edgeorch.catalog.models import MLModel

from .support import token_header
from .test_validation import tiny_model

pytestmark = pytest.mark.django_db

DIGITS = {
    "resize": [8, 8],
    "interpolation": "area",
    "color": "gray",
    "scale": 1 / 255,
    "mean": [],
    "std": [],
    "layout": "NCHW",
    "dtype": "float32",
}


def test_every_zoo_model_has_a_spec_that_makes_its_input():
    for entry in zoo.ZOO:
        spec = preprocessing.zoo_default(entry.name)
        assert spec is not None, entry.name
        parsed = preprocess.parse(spec)
        assert parsed.shape(480, 640) == entry.input_shape
        assert preprocess.mismatch(parsed, list(entry.input_shape), "float32") is None
    assert preprocessing.zoo_default("digits-cnn") == DIGITS  # the digits' [0, 1] range: gray / 255
    assert preprocessing.zoo_default("resnet18")["mean"] == [0.485, 0.456, 0.406]
    assert preprocessing.zoo_default("no-such-model") is None


def test_zoo_models_are_registered_with_their_spec_and_the_api_shows_it(client, bob, digits):
    model = digits["digits-cnn"]
    assert model.preprocess == DIGITS
    body = client.get(f"/api/models/{model.pk}/", **token_header(bob)).json()
    assert body["preprocess"] == DIGITS
    listed = client.get("/api/models/", **token_header(bob)).json()["results"]
    assert {m["name"]: m["preprocess"] for m in listed}["digits-branchy"] == DIGITS


def test_a_spec_is_checked_and_normalised_on_every_save(digits):
    model = digits["digits-cnn"]
    model.preprocess = {"resize": [8, 8], "color": "gray", "layout": "NHWC"}
    with pytest.raises(ValidationError, match="the model's input height is 1; preprocess \\(NHWC\\) makes 8"):
        # NHWC puts height second: [1, 8, 8, 1] against the model's [1, 1, 8, 8]
        model.save()
    model.preprocess = {"resize": [8, 8], "color": "gray", "scale": 0.5}
    model.save()
    assert MLModel.objects.get(pk=model.pk).preprocess == {
        **DIGITS,
        "interpolation": "bilinear",
        "scale": 0.5,
    }
    model.preprocess = {"colour": "gray"}
    with pytest.raises(ValidationError) as caught:
        model.clean()
    assert "unknown field 'colour'" in caught.value.message_dict["preprocess"][0]


def test_alice_uploads_a_model_with_a_spec_and_a_spec_that_cannot_make_its_input_is_refused(
    client, alice, media
):
    def upload(name, spec):
        body = {"file": SimpleUploadedFile("m.onnx", tiny_model().SerializeToString()), "name": name}
        if spec is not None:
            body["preprocess"] = json.dumps(spec)
        return client.post("/api/models/", body, **token_header(alice))

    refused = upload("tiny", {"resize": [8, 8]})  # tiny takes float32[1, 4]: no image
    assert refused.status_code == 400
    assert refused.json()["preprocess"] == [
        "preprocess cannot make this model's input: the model's input has 2 dimensions; preprocess makes 4 "
        "(a batch of one image)"
    ]
    assert MLModel.objects.count() == 0 and not list(media.rglob("*.onnx"))
    bad = upload("tiny", {"layout": "CHW"})
    assert bad.status_code == 400 and "layout must be one of 'NCHW', 'NHWC'" in bad.json()["preprocess"][0]
    plain = upload("tiny", None)
    assert plain.status_code == 201 and plain.json()["preprocess"] is None


def test_alice_sets_a_models_spec_through_the_api_and_bob_may_not(client, alice, bob, digits):
    model = digits["digits-cnn"]
    url = f"/api/models/{model.pk}/preprocess/"

    def put(user, body):
        return client.put(url, body, content_type="application/json", **token_header(user))

    changed = put(alice, {"preprocess": {"resize": [8, 8], "color": "gray", "interpolation": "nearest"}})
    assert changed.status_code == 200, changed.content
    assert changed.json()["preprocess"] == {**DIGITS, "interpolation": "nearest"}
    wrong = put(alice, {"preprocess": {"resize": [16, 16], "color": "gray"}})
    assert wrong.status_code == 400
    assert wrong.json()["preprocess"] == [
        "preprocess cannot make this model's input: the model's input height is 8; preprocess (NCHW) makes 16"
    ]
    assert MLModel.objects.get(pk=model.pk).preprocess["interpolation"] == "nearest"
    assert put(alice, {"preprocess": None}).json()["preprocess"] is None
    assert put(bob, {"preprocess": None}).status_code == 403
