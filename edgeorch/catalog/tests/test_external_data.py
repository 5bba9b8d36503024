"""Models with external data files (issue #18 item 3): uploaded as a ``.onnx`` and its data files, or as a
zip of both, they are stored with their weights inlined and split exactly at every cut; a missing data file,
an unsafe path (zip-slip) or a zip that unpacks past the upload limit (a zip bomb) is refused with a 400
naming it, and leaves nothing behind."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import onnx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from onnx import TensorProto

from edgeorch.catalog import runtime, segments, services
from edgeorch.catalog.models import MLModel

from .graphs import external_convnet as convnet
from .support import token_header

pytestmark = pytest.mark.django_db


def saved(tmp_path, location="weights.bin", one_file=True) -> dict[str, bytes]:
    """The model saved as onnx saves external data: {file name: bytes}, the .onnx as model.onnx."""
    folder = tmp_path / "saved"
    (folder / location).parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(
        convnet(),
        str(folder / "model.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=one_file,
        location=location,
    )
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(client, user, model: bytes, data_files=(), name="external", filename="model.onnx"):
    body = {"file": SimpleUploadedFile(filename, model), "name": name}
    if data_files:
        body["data_files"] = [SimpleUploadedFile(n, d) for n, d in data_files]
    return client.post("/api/models/", body, **token_header(user))


def nothing_stored(media) -> bool:
    return not MLModel.all_objects.exists() and not [p for p in media.rglob("*") if p.is_file()]


def assert_exact_at_every_cut(model: MLModel):
    """The stored model equals the original (loaded by onnxruntime with its data), and its segments composed
    equal it at every cut."""
    proto = onnx.load(str(model.artifact_path))
    assert not any(t.data_location == TensorProto.EXTERNAL for t in proto.graph.initializer)
    feeds = runtime.random_feeds(proto)
    want = runtime.run(convnet(), feeds)["y"]
    np.testing.assert_allclose(runtime.run(proto, feeds)["y"], want, rtol=1e-5, atol=1e-5)
    assert model.cut_points.count() == 4
    for cut in range(model.cut_points.count()):
        parts = services.extract_segments(model, [cut])
        got = segments.run_segments([p.model.SerializeToString() for p in parts], parts, feeds)
        np.testing.assert_allclose(got["y"], want, rtol=1e-4, atol=1e-4)


def test_alice_uploads_a_model_with_its_data_file(client, alice, media, tmp_path):
    files = saved(tmp_path)
    assert set(files) == {"model.onnx", "weights.bin"}
    response = upload(client, alice, files["model.onnx"], [("weights.bin", files["weights.bin"])])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["notes"] == ["Weights inlined at upload from the external data file(s) weights.bin."]
    assert_exact_at_every_cut(MLModel.objects.get())


def test_a_model_with_one_data_file_per_tensor(client, alice, media, tmp_path):
    files = saved(tmp_path, one_file=False)
    data = [(name, blob) for name, blob in files.items() if name != "model.onnx"]
    assert len(data) == 3
    response = upload(client, alice, files["model.onnx"], data)
    assert response.status_code == 201, response.content
    assert_exact_at_every_cut(MLModel.objects.get())


@pytest.mark.parametrize("folder", ["", "resnet/"])
def test_alice_uploads_a_zip_of_the_model_and_its_data(client, alice, media, tmp_path, folder):
    files = saved(tmp_path, location="data/weights.bin")
    archive = zipped(
        {
            f"{folder}model.onnx": files["model.onnx"],
            f"{folder}data/weights.bin": files["data/weights.bin"],
            "README.txt": b"not read",
        }
    )
    response = upload(client, alice, archive, filename="model.zip")
    assert response.status_code == 201, response.content
    assert "data/weights.bin" in response.json()["notes"][0]
    assert_exact_at_every_cut(MLModel.objects.get())


def test_a_model_without_its_data_file_is_refused_naming_it(client, alice, media, tmp_path):
    files = saved(tmp_path)
    alone = upload(client, alice, files["model.onnx"])
    assert alone.status_code == 400
    assert "external data files that were not uploaded: weights.bin" in alone.json()["file"][0]
    in_zip = upload(client, alice, zipped({"model.onnx": files["model.onnx"]}), filename="m.zip")
    assert in_zip.status_code == 400
    assert "data file 'weights.bin' is not in the zip" in in_zip.json()["file"][0]
    wrong = upload(client, alice, files["model.onnx"], [("other.bin", files["weights.bin"])])
    assert wrong.status_code == 400
    assert "does not name the data file(s) other.bin (it names: weights.bin)" in wrong.json()["file"][0]
    assert nothing_stored(media)


def test_a_data_file_too_short_for_its_tensors_is_refused(client, alice, media, tmp_path):
    files = saved(tmp_path)
    response = upload(client, alice, files["model.onnx"], [("weights.bin", files["weights.bin"][:1000])])
    assert response.status_code == 400
    assert "of 'weights.bin', which has 1000" in response.json()["file"][0]
    assert nothing_stored(media)


@pytest.mark.parametrize("member", ["../weights.bin", "/tmp/weights.bin", "a/../../weights.bin"])
def test_a_zip_with_an_unsafe_path_is_refused(client, alice, media, tmp_path, member):
    files = saved(tmp_path)
    archive = zipped({"model.onnx": files["model.onnx"], member: files["weights.bin"]})
    response = upload(client, alice, archive, filename="slip.zip")
    assert response.status_code == 400
    assert "unsafe path" in response.json()["file"][0]
    assert nothing_stored(media)


def test_a_model_naming_a_data_file_outside_its_folder_is_refused(client, alice, media, tmp_path):
    files = saved(tmp_path)
    model = onnx.load_from_string(files["model.onnx"])
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../../etc/passwd"
    archive = zipped({"m/model.onnx": model.SerializeToString(), "passwd": b"secret"})
    response = upload(client, alice, archive, filename="m.zip")
    assert response.status_code == 400
    assert "unsafe location: '../../etc/passwd'" in response.json()["file"][0]
    assert nothing_stored(media)


def test_a_zip_bomb_is_refused_by_the_upload_limit(client, alice, media, tmp_path, settings):
    settings.MODEL_UPLOAD_MAX_BYTES = 2**20
    files = saved(tmp_path)
    bomb = zipped({"model.onnx": files["model.onnx"], "weights.bin": bytes(64 * 2**20)})
    assert len(bomb) < 2**20  # it compresses a thousandfold: only the unpacked size says what it is
    response = upload(client, alice, bomb, filename="bomb.zip")
    assert response.status_code == 400
    assert "unpack to 64.0 MB or more; the upload limit is 1 MB" in response.json()["file"][0]
    assert nothing_stored(media)


def test_a_zip_must_hold_exactly_one_model(client, alice, media, tmp_path):
    files = saved(tmp_path)
    two = zipped({"a.onnx": files["model.onnx"], "b.onnx": files["model.onnx"]})
    response = upload(client, alice, two, filename="two.zip")
    assert response.status_code == 400
    assert "exactly one .onnx file; it holds a.onnx, b.onnx" in response.json()["file"][0]
    broken = upload(client, alice, b"PK\x03\x04" + bytes(100), filename="broken.zip")
    assert broken.status_code == 400 and "zip" in broken.json()["file"][0]
    assert nothing_stored(media)


@pytest.mark.demo
def test_alice_uploads_a_model_and_its_data_through_the_page(client, alice, media, tmp_path):
    client.force_login(alice)
    form = client.get("/models/").content.decode()
    assert 'name="data_files"' in form and "multiple" in form
    files = saved(tmp_path)
    body = {
        "file": SimpleUploadedFile("model.onnx", files["model.onnx"]),
        "data_files": [SimpleUploadedFile("weights.bin", files["weights.bin"])],
        "name": "paged",
        "version": "1",
        "task": "other",
    }
    response = client.post("/models/", body)
    assert response.status_code == 302, response.content.decode()[:2000]
    model = MLModel.objects.get()
    assert "weights.bin" in model.notes[0]
    page = client.get(f"/models/{model.pk}/").content.decode()
    assert "Weights inlined at upload" in page
    alone = {"file": SimpleUploadedFile("model.onnx", files["model.onnx"]), "name": "alone", "version": "1"}
    refused = client.post("/models/", {**alone, "task": "other"}).content.decode()
    assert "external data files that were not uploaded: weights.bin" in refused
