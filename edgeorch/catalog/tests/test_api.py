"""The catalog's REST API and pages, against PostgreSQL: uploads, refusals, manifests, downloads."""

import hashlib

import numpy as np
import onnx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from edgeorch.catalog import runtime, services
from edgeorch.catalog.models import MLModel, Segment
from edgeorch.devices import services as devices

from .support import token_header
from .test_validation import tiny_model

pytestmark = pytest.mark.django_db


def upload(client, user, data: bytes, name="tiny", **extra):
    body = {"file": SimpleUploadedFile("m.onnx", data), "name": name, **extra}
    return client.post("/api/models/", body, **token_header(user))


def stored_files(media):
    return sorted(p.name for p in media.rglob("*") if p.is_file())


def test_alice_uploads_a_model_and_it_is_analysed(client, alice, media):
    response = upload(client, alice, tiny_model().SerializeToString(), task="other")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["inputs"][0]["shape"] == [1, 4] and body["cuts"][0]["tensors"][0]["name"] == "a"
    assert stored_files(media) == [f"{body['sha256']}.onnx"]
    assert MLModel.objects.get().uploaded_by == alice


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not an onnx file", "This is not an ONNX model"),
        (tiny_model(opset=99).SerializeToString(), "opset 99"),
        (tiny_model([onnx.helper.make_node("Relu", ["missing"], ["y"])]).SerializeToString(), "onnx.checker"),
    ],
    ids=["not-onnx", "unsupported-opset", "checker-failure"],
)
def test_an_invalid_upload_is_refused_and_leaves_nothing_behind(client, alice, media, data, message):
    response = upload(client, alice, data)
    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert MLModel.objects.count() == 0 and stored_files(media) == []


def test_a_model_failing_its_test_run_leaves_nothing_behind(client, alice, media):
    from onnx import helper, numpy_helper

    index = numpy_helper.from_array(np.array([10], np.int64), "i")
    repeats = numpy_helper.from_array(np.array([1, 4], np.int64), "r")
    nodes = [
        helper.make_node("Gather", ["x", "i"], ["g"], axis=1),
        helper.make_node("Tile", ["g", "r"], ["y"]),
    ]
    response = upload(client, alice, tiny_model(nodes, inits=[index, repeats]).SerializeToString())
    assert response.status_code == 400 and "test run" in response.json()["file"][0]
    assert MLModel.objects.count() == 0 and stored_files(media) == []


def test_a_file_over_the_configured_limit_is_refused(client, alice, media, settings):
    settings.MODEL_UPLOAD_MAX_BYTES = 20
    response = upload(client, alice, tiny_model().SerializeToString())
    assert response.status_code == 400 and "upload limit" in response.json()["file"][0]
    assert stored_files(media) == []


def test_the_same_file_twice_is_refused_naming_the_first(client, alice, media):
    data = tiny_model().SerializeToString()
    assert upload(client, alice, data).status_code == 201
    response = upload(client, alice, data, name="again")
    assert response.status_code == 400 and "already in the catalog as tiny v1" in response.json()["file"][0]


def test_a_failure_while_saving_rows_removes_the_file(alice, media, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_create_rows", explode)
    with pytest.raises(RuntimeError):
        services.register_model(tiny_model().SerializeToString(), name="tiny")
    assert stored_files(media) == []


def test_bob_reads_but_may_not_upload(client, bob, digits):
    assert client.get("/api/models/", **token_header(bob)).status_code == 200
    assert upload(client, bob, tiny_model().SerializeToString()).status_code == 403


def test_charlie_without_credentials_gets_nothing(client, digits):
    model = digits["digits-cnn"]
    for url in ("/api/models/", f"/api/models/{model.pk}/", f"/api/models/{model.pk}/file/"):
        assert client.get(url).status_code == 401
    assert client.get("/models/").status_code == 302  # to the login page


def test_list_and_detail_describe_models_and_their_cuts(client, bob, digits):
    listed = client.get("/api/models/", **token_header(bob)).json()["results"]
    assert {m["name"] for m in listed} == {"digits-cnn", "digits-branchy"}
    model = digits["digits-branchy"]
    detail = client.get(f"/api/models/{model.pk}/", **token_header(bob)).json()
    assert detail["accuracy"] > 0.9 and [e["output"] for e in detail["exits"]] == ["exit1", "exit2", "final"]
    assert len(detail["blocks"]) == len(detail["cuts"]) + 1
    assert {"macs", "param_bytes", "op_counts", "input_bytes", "output_bytes", "exits"} <= set(
        detail["blocks"][0]
    )
    cuts = client.get(f"/api/models/{model.pk}/cuts/", **token_header(bob)).json()
    assert cuts == detail["cuts"]


def test_a_segment_manifest_serves_files_that_recompose_the_model(client, bob, digits):
    model = digits["digits-cnn"]
    manifest = client.get(f"/api/models/{model.pk}/segments/?cuts=2,5", **token_header(bob)).json()
    assert manifest["cuts"] == [2, 5] and len(manifest["segments"]) == 3
    parts = []
    for entry in manifest["segments"]:
        response = client.get(entry["url"], **token_header(bob))
        data = b"".join(response.streaming_content)
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] == response["X-Content-SHA256"]
        parts.append(data)
    full = onnx.load(str(model.artifact_path))
    feeds = runtime.random_feeds(full)
    expected = runtime.run(full, feeds)["logits"]
    carried = feeds
    for data, entry in zip(parts, manifest["segments"], strict=True):
        carried = runtime.run(data, {t["name"]: carried[t["name"]] for t in entry["inputs"]})
    np.testing.assert_allclose(carried["logits"], expected, rtol=1e-4, atol=1e-5)


def test_segments_are_cached_by_model_and_cuts(bob, digits):
    model = digits["digits-cnn"]
    first = services.get_segments(model, [3])
    again = services.get_segments(model, [3])
    assert [s.pk for s in first] == [s.pk for s in again]
    assert Segment.objects.filter(model=model).count() == 2


def test_bad_cuts_are_refused_with_a_reason(client, bob, digits):
    model = digits["digits-cnn"]
    response = client.get(f"/api/models/{model.pk}/segments/?cuts=4,2", **token_header(bob))
    assert response.status_code == 400 and "strictly increasing" in response.json()["cuts"][0]


def test_an_agent_reads_the_catalog_but_downloads_only_the_segments_its_work_needs(client, digits):
    _, plain = devices.create_enrollment_token()
    enrollment = devices.enroll_device(plain, name="edge-1")
    auth = {"HTTP_AUTHORIZATION": f"Device {enrollment.credential}"}
    model = digits["digits-cnn"]
    manifest = client.get(f"/api/models/{model.pk}/segments/?cuts=1", **auth)
    assert manifest.status_code == 200, manifest.content
    url = manifest.json()["segments"][1]["url"]
    # No work of this device uses it (edgeorch/jobs/tests/test_device_reads.py: a stage it loads may).
    refused = client.get(url, **auth)
    assert refused.status_code == 403 and "only the segments it loads" in refused.json()["detail"]
    assert client.get(f"/api/models/{model.pk}/file/", **auth).status_code == 403
    assert client.delete(f"/api/models/{model.pk}/", **auth).status_code == 403


def test_alice_deletes_a_model_and_its_files_go_with_it(
    client, alice, digits, media, django_capture_on_commit_callbacks
):
    model = digits["digits-cnn"]
    services.get_segments(model, [2])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/models/{model.pk}/", **token_header(alice)).status_code == 204
    remaining = digits["digits-branchy"].sha256
    assert stored_files(media) == [f"{remaining}.onnx"]


def test_the_model_page_shows_the_cut_chart_and_table(client, bob, digits, offsite_urls):
    client.force_login(bob)
    model = digits["digits-branchy"]
    page = client.get(f"/models/{model.pk}/").content.decode()
    assert 'id="cut-chart"' in page and 'id="cut-table"' in page
    assert '<script defer src="/static/vendor/plotly-basic.min.js">' in page  # deferred: text paints first
    assert offsite_urls(page) == []
    assert "digits-cnn" in client.get("/models/").content.decode()


def test_alice_uploads_through_the_page(client, alice, media):
    client.force_login(alice)
    body = {
        "file": SimpleUploadedFile("m.onnx", tiny_model().SerializeToString()),
        "name": "paged",
        "version": "1",
        "task": "other",
    }
    response = client.post("/models/", body)
    assert response.status_code == 302
    assert MLModel.objects.get().name == "paged"
    bad = {"file": SimpleUploadedFile("m.onnx", b"junk"), "name": "junk", "version": "1", "task": "other"}
    assert "This is not an ONNX model" in client.post("/models/", bad).content.decode()
