"""A model that a job used cannot be deleted from the catalog: its runs keep what they ran."""

from pathlib import Path

import pytest
from django.conf import settings

from edgeorch.catalog.models import MLModel
from edgeorch.devices import services as devices
from edgeorch.jobs import services as jobs

pytestmark = pytest.mark.django_db


def token_header(user) -> dict:
    from rest_framework.authtoken.models import Token

    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


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
