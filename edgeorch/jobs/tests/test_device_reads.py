"""Least privilege for devices (issue 17): a device credential reads the inputs and outputs of the runs it
takes part in, and no others. phone is the source of the runs; edge runs nothing of them; alice is a
person and reads under the API's own permissions."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from edgeorch.catalog import services as catalog
from edgeorch.devices import services as device_services
from edgeorch.jobs import inputs, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def credentials():
    made = {}
    for name in ("phone", "edge"):
        _, token = device_services.create_enrollment_token()
        enrolled = device_services.enroll_device(token, name=name)
        device = enrolled.device
        device.status, device.channel_name = "online", f"fake.{name}"
        device.save()
        made[name] = (device, enrolled.credential)
    return made


def as_device(credential: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {credential}")
    return client


@pytest.fixture
def phones_runs(digits, credentials):
    phone = credentials["phone"][0]
    job = services.submit_job(model=digits, source=phone, strategy="local", sample=0, base_url="http://cp")
    job.output_path.write_bytes(inputs.to_npy(np.zeros((1, 10), np.float32)))
    session = services.start_session(model=digits, source=phone, strategy="local", rate=1, frames=2)
    return job, session


def urls(job, session) -> list[str]:
    return [
        reverse("job-input", args=[job.pk]),
        reverse("job-output", args=[job.pk]),
        reverse("session-input", args=[session.pk]),
    ]


def test_a_device_reads_the_tensors_of_its_own_runs(phones_runs, credentials):
    phone = as_device(credentials["phone"][1])
    for url in urls(*phones_runs):
        assert phone.get(url).status_code == 200, url


def test_a_device_reading_another_devices_job_output_is_refused(phones_runs, credentials):
    edge = as_device(credentials["edge"][1])
    for url in urls(*phones_runs):
        response = edge.get(url)
        assert response.status_code == 403, url
        assert "takes no part" in response.json()["detail"]


def test_a_person_still_reads_every_runs_tensors(phones_runs, client, alice):
    client.force_login(alice)
    for url in urls(*phones_runs):
        assert client.get(url).status_code == 200, url


def test_a_device_downloads_the_segments_of_the_stages_it_loads_and_of_its_profiles_only(digits, credentials):
    from edgeorch.jobs.choices import DeploymentState
    from edgeorch.jobs.services import measurements

    (phone, phone_key), (edge, edge_key) = credentials["phone"], credentials["edge"]
    job = services.submit_job(
        model=digits,
        source=phone,
        strategy="split",
        params={"cut": 2, "device": str(edge.pk)},
        sample=0,
        base_url="http://cp",
    )
    services.dispatch_job(job.pk)
    deployment = type(job).objects.get(pk=job.pk).deployment
    front, back = (reverse("catalog-segment-file", args=[s["sha256"]]) for s in deployment.stages)
    assert as_device(phone_key).get(front).status_code == 200  # its own stage
    assert as_device(edge_key).get(back).status_code == 200
    assert as_device(edge_key).get(front).status_code == 403  # the phone's stage, not its own
    deployment.state = DeploymentState.RETIRED
    deployment.save(update_fields=["state"])
    assert as_device(phone_key).get(front).status_code == 403  # that work is over
    measurements.request_profile(edge, digits, base_url="http://cp")  # a profile: every block's segment
    blocks = catalog.get_segments(digits, list(range(digits.cut_points.count())))
    assert all(
        as_device(edge_key).get(reverse("catalog-segment-file", args=[s.sha256])).status_code == 200
        for s in blocks
    )
    assert (
        as_device(phone_key).get(reverse("catalog-segment-file", args=[blocks[0].sha256])).status_code == 403
    )
