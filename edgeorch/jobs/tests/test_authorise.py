"""Who may speak about a run (issue 17), checked as the gateway's handlers check it: an offloaded job's
source (phone, which runs no stage) and its stage device (edge) may; mallory, enrolled but not part of
it, may not."""

from __future__ import annotations

import pytest

from edgeorch.devices import services as device_services
from edgeorch.gateway.registry import Refusal
from edgeorch.jobs import services
from edgeorch.jobs.services import authorise

pytestmark = pytest.mark.django_db


@pytest.fixture
def offloaded(digits, devices):
    phone, edge = devices
    job = services.submit_job(
        model=digits,
        source=phone,
        strategy="offload",
        candidates=[str(edge.pk)],
        sample=0,
        base_url="http://cp",
    )
    services.dispatch_job(job.pk)
    job.refresh_from_db()
    assert job.deployment.devices == [str(edge.pk)]
    return job


@pytest.fixture
def mallory():
    _, token = device_services.create_enrollment_token()
    return device_services.enroll_device(token, name="mallory").device


def test_the_source_and_the_stage_device_may_relay_and_report_a_stranger_may_not(offloaded, devices, mallory):
    phone, edge = devices
    deployment = str(offloaded.deployment_id)
    for device in (phone, edge):
        authorise.check_relay(device.pk, deployment)
        authorise.check_run(device.pk, offloaded.pk, None)
    authorise.check_deployment(edge.pk, deployment)
    authorise.check_result(edge.pk, deployment, offloaded.pk)
    refusals = [
        lambda: authorise.check_relay(mallory.pk, deployment),
        lambda: authorise.check_run(mallory.pk, offloaded.pk, None),
        lambda: authorise.check_deployment(phone.pk, deployment),  # the source loads no stage
        lambda: authorise.check_result(mallory.pk, deployment, offloaded.pk),
    ]
    for refused in refusals:
        with pytest.raises(Refusal) as exc:
            refused()
        assert exc.value.code == "forbidden"


def test_an_id_that_is_not_one_is_a_bad_value(mallory):
    with pytest.raises(Refusal) as exc:
        authorise.check_session_source(mallory.pk, "../../etc")
    assert exc.value.code == "bad_value"
