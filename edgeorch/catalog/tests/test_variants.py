"""Model variants: the zoo's four trained variants of the digits CNN (two narrower, two quantised) with
their measured accuracy and size, quantised variants made on request (``POST /api/models/{id}/variants/``)
within a documented tolerance of the base, and what may not be made."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from edgeorch.catalog import services, variants, zoo
from edgeorch.catalog.choices import ModelSource
from edgeorch.catalog.models import MLModel

from .support import token_header

pytestmark = pytest.mark.django_db

# int8 quantisation moves a digits logit by at most this much (the logits span about ±30): a documented
# tolerance for "the same model, cheaper", checked per test image below.
LOGIT_TOLERANCE = 1.5


def post(client, user, url: str, body: dict):
    return client.post(url, json.dumps(body), content_type="application/json", **token_header(user))


def outputs(data: bytes, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i : i + 1]})[0] for i in range(len(x))])


def test_the_zoo_builds_four_trained_variants_of_the_digits_cnn_with_measured_accuracy(zoo_models):
    family = {name: built for name, (_, built) in zoo_models.items() if built.variant_of == "digits-cnn"}
    assert set(family) == {
        "digits-cnn-narrow",
        "digits-cnn-quarter",
        "digits-cnn-int8",
        "digits-cnn-int8-dynamic",
    }
    base_path, base = zoo_models["digits-cnn"]
    _, x_test, _, y_test = zoo._digits_data()
    for name, built in family.items():
        path = zoo_models[name][0]
        data = path.read_bytes()
        assert built.accuracy == variants.measured_accuracy(data, x_test, y_test), (
            name
        )  # measured, not claimed
        assert path.stat().st_size < base_path.stat().st_size, name  # each is smaller than the base
    assert family["digits-cnn-quarter"].accuracy < family["digits-cnn-narrow"].accuracy <= base.accuracy
    ops = {n.op_type for n in onnx.load(str(zoo_models["digits-cnn-int8"][0])).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # static: QDQ
    dynamic = {n.op_type for n in onnx.load(str(zoo_models["digits-cnn-int8-dynamic"][0])).graph.node}
    assert "DynamicQuantizeLinear" in dynamic


def test_registering_the_zoo_links_every_variant_to_its_base(media, zoo_models):
    registered = {m.name: m for m in services.register_zoo()}
    base = registered["digits-cnn"]
    made = MLModel.objects.filter(variant_of=base).order_by("name")
    assert [m.name for m in made] == [
        "digits-cnn-int8",
        "digits-cnn-int8-dynamic",
        "digits-cnn-narrow",
        "digits-cnn-quarter",
    ]
    assert all(m.accuracy is not None and m.variant and m.cut_points.count() > 0 for m in made)
    # A quantised variant does the base's work in integers: its MACs are counted as the base's.
    assert {m.name: m.macs for m in made if "int8" in m.name} == {
        "digits-cnn-int8": base.macs,
        "digits-cnn-int8-dynamic": base.macs,
    }


def test_registering_a_family_registers_the_model_and_its_variants_alone(media, zoo_models):
    registered = sorted(m.name for m in services.register_zoo(families=["digits-cnn"]))
    assert registered == [
        "digits-cnn",
        "digits-cnn-int8",
        "digits-cnn-int8-dynamic",
        "digits-cnn-narrow",
        "digits-cnn-quarter",
    ]
    assert not MLModel.objects.filter(name__in=["digits-branchy", "alexnet"]).exists()


def register(zoo_models, name: str) -> MLModel:
    path, built = zoo_models[name]
    return services.register_model(
        path.read_bytes(),
        name=name,
        version=built.version,
        task=built.task,
        source=ModelSource.BUILTIN,
        accuracy=built.accuracy,
        labels=zoo.labels_of(name),
    )


@pytest.mark.parametrize("kind", ["int8", "int8-dynamic"])
def test_a_quantised_variant_answers_within_tolerance_of_its_base_and_says_its_accuracy(
    media, zoo_models, kind, client, alice
):
    base = register(zoo_models, "digits-branchy")
    response = post(client, alice, f"/api/models/{base.pk}/variants/", {"kind": kind})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == f"digits-branchy-{kind}" and body["variant_of"] == base.pk
    assert body["variant"] == (
        "int8 (static, calibrated on 200 inputs)" if kind == "int8" else "int8 (dynamic)"
    )
    variant = MLModel.objects.get(pk=body["id"])
    assert variant.size_bytes < base.size_bytes and variant.labels == base.labels
    _, x_test, _, y_test = zoo._digits_data()
    assert variant.accuracy == variants.measured_accuracy(variant.artifact_path.read_bytes(), x_test, y_test)
    assert abs(variant.accuracy - base.accuracy) < 0.02
    ours, theirs = (
        outputs(variant.artifact_path.read_bytes(), x_test),
        outputs(base.artifact_path.read_bytes(), x_test),
    )
    assert np.abs(ours - theirs).max() < LOGIT_TOLERANCE
    listed = client.get(f"/api/models/{base.pk}/variants/", **token_header(alice)).json()
    assert [m["id"] for m in listed] == [variant.pk]


def test_a_model_without_data_of_its_own_gets_a_dynamic_variant_and_no_accuracy(
    media, zoo_models, client, alice
):
    path, _ = zoo_models["digits-cnn"]
    upload = services.register_model(path.read_bytes(), name="someones-cnn")  # an upload: no data of its own
    response = post(client, alice, f"/api/models/{upload.pk}/variants/", {"kind": "int8"})
    assert response.status_code == 201, response.content
    assert response.json()["variant"] == "int8 (dynamic)" and response.json()["accuracy"] is None


def test_what_cannot_be_made_is_a_400_and_stores_nothing(media, zoo_models, client, alice, bob):
    base = register(zoo_models, "digits-cnn")
    before = MLModel.objects.count()
    wrong = post(client, alice, f"/api/models/{base.pk}/variants/", {"kind": "fp4"})
    assert wrong.status_code == 400 and "kind" in wrong.json()
    twice = [post(client, alice, f"/api/models/{base.pk}/variants/", {"kind": "int8"}) for _ in "ab"]
    assert twice[0].status_code == 201 and twice[1].status_code == 400
    assert "already in the catalog" in str(twice[1].json())
    assert post(client, bob, f"/api/models/{base.pk}/variants/", {"kind": "int8"}).status_code == 403
    assert MLModel.objects.count() == before + 1


def test_an_operator_makes_a_variant_from_the_model_page_and_sees_it_listed(
    media, zoo_models, client, alice, bob
):
    base = register(zoo_models, "digits-cnn")
    client.force_login(bob)
    assert client.post(f"/models/{base.pk}/variants/", {"kind": "int8"}).status_code == 403
    client.force_login(alice)
    page = client.get(f"/models/{base.pk}/").content.decode()
    assert 'id="make-variant"' in page and "No variants yet." in page
    made = client.post(f"/models/{base.pk}/variants/", {"kind": "int8-dynamic"}, follow=True)
    variant = MLModel.objects.get(variant_of=base)
    assert made.redirect_chain[-1][0] == f"/models/{variant.pk}/"
    assert "was made: int8 (dynamic), test accuracy" in made.content.decode()
    page = client.get(f"/models/{base.pk}/").content.decode()
    assert f'<a href="/models/{variant.pk}/">{variant}</a></td><td>int8 (dynamic)</td>' in page
    wrong = client.post(f"/models/{base.pk}/variants/", {"kind": "fp4"}, follow=True).content.decode()
    assert "No variant was made: unknown variant kind &#x27;fp4&#x27;" in wrong


def test_an_upload_can_be_marked_as_a_variant_of_a_model_in_the_catalog(media, zoo_models, client, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    base = register(zoo_models, "digits-cnn")
    path, _ = zoo_models["digits-cnn-quarter"]
    headers = token_header(alice)

    def upload(**fields):
        body = {"file": SimpleUploadedFile("q.onnx", path.read_bytes()), "name": "my-quarter", **fields}
        return client.post("/api/models/", body, **headers)

    lone = client.post(
        "/api/models/", {"file": SimpleUploadedFile("q.onnx", b"x"), "name": "a", "variant": "x"}, **headers
    )
    assert lone.status_code == 400 and "give variant_of too" in str(lone.json())
    unknown = upload(variant_of="no-such-model", variant="pruned")
    assert unknown.status_code == 400 and "no model 'no-such-model'" in str(unknown.json())
    assert not MLModel.objects.filter(name="my-quarter").exists()
    made = upload(variant_of=base.name, variant="quarter width, by me")
    assert made.status_code == 201, made.content
    assert made.json()["variant_of"] == base.pk and made.json()["variant"] == "quarter width, by me"
    listed = client.get(f"/api/models/{base.pk}/variants/", **headers).json()
    assert [m["name"] for m in listed] == ["my-quarter"]
