"""A model that a job used cannot be deleted from the catalog: its runs keep what they ran."""

from pathlib import Path

import pytest
from django.conf import settings

from edgeorch.catalog.models import MLModel
from edgeorch.devices import services as devices
from edgeorch.jobs import services as jobs

pytestmark = pytest.mark.django_db


def token_header(user) -> dict:
    from edgeorch.api.keys import create_key

    return {"HTTP_AUTHORIZATION": f"Token {create_key(user)}"}


def test_deleting_a_model_a_job_uses_answers_409_and_keeps_it(client, alice, digits):
    _, token = devices.create_enrollment_token()
    phone = devices.enroll_device(token, name="phone").device
    phone.status = "online"
    phone.save(update_fields=["status"])
    job = jobs.submit_job(model=digits, source=phone, strategy="local", sample=0, base_url="http://cp")
    response = client.delete(f"/api/models/{digits.pk}/", **token_header(alice))
    assert response.status_code == 409 and f"is used by job {job.pk}" in response.json()["detail"]
    assert MLModel.objects.filter(pk=digits.pk).exists()
    assert [p.name for p in Path(settings.MEDIA_ROOT).rglob(f"{digits.sha256}.onnx")]


def _finished_job(digits):
    from edgeorch.jobs.models import Job

    _, token = devices.create_enrollment_token()
    phone = devices.enroll_device(token, name="phone").device
    phone.status = "online"
    phone.save(update_fields=["status"])
    job = jobs.submit_job(model=digits, source=phone, strategy="local", sample=0, base_url="http://cp")
    Job.objects.filter(pk=job.pk).update(state="completed")
    return job


def test_a_model_only_finished_runs_used_is_deleted_and_they_keep_its_name_and_version(
    client, alice, digits, django_capture_on_commit_callbacks
):
    job = _finished_job(digits)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/api/models/{digits.pk}/", **token_header(alice))
    assert response.status_code == 204, response.content
    assert client.get(f"/api/models/{digits.pk}/", **token_header(alice)).status_code == 404
    assert digits.pk not in [
        m["id"] for m in client.get("/api/models/", **token_header(alice)).json()["results"]
    ]
    assert not list(Path(settings.MEDIA_ROOT).rglob(f"{digits.sha256}.onnx"))  # the file went
    detail = client.get(f"/api/jobs/{job.pk}/", **token_header(alice)).json()
    assert detail["model"] == digits.pk and detail["model_name"] == "digits-cnn"
    kept = MLModel.all_objects.get(pk=digits.pk)
    assert (kept.name, kept.version) == (digits.name, digits.version) and kept.deleted_at is not None


def test_a_deleted_model_cannot_be_run_and_its_file_may_come_back_as_a_new_version(client, alice, digits):
    from edgeorch.catalog import services as catalog

    _finished_job(digits)
    assert client.delete(f"/api/models/{digits.pk}/", **token_header(alice)).status_code == 204
    body = {"model": digits.pk, "source": "phone", "strategy": "local", "sample": 0}
    response = client.post("/api/jobs/", body, content_type="application/json", **token_header(alice))
    assert response.status_code == 400 and "model" in response.json()
    from edgeorch.catalog import zoo

    built = next(m for m in zoo.build_zoo(zoo.default_zoo_dir()) if m.name == "digits-cnn")
    data = (zoo.default_zoo_dir() / built.file).read_bytes()
    with pytest.raises(catalog.DuplicateModel, match="was deleted"):
        catalog.register_model(data, name=digits.name, version=digits.version, source="builtin")
    again = catalog.register_model(data, name=digits.name, version="2", source="builtin")
    assert again.sha256 == digits.sha256 and again.artifact_path.is_file()
