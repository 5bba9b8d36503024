"""Every number a run request takes has a range: beyond it the request answers 400 and creates nothing."""

import pytest

from edgeorch.jobs.models import Job, Session

pytestmark = pytest.mark.django_db


def token_header(user) -> dict:
    from edgeorch.api.keys import create_key

    return {"HTTP_AUTHORIZATION": f"Token {create_key(user)}"}


@pytest.mark.parametrize(
    "field, value",
    [("seed", -1), ("seed", 2**40), ("timeout_s", 1e12), ("sample", 2**40)],
)
def test_a_job_with_a_number_out_of_range_answers_400_and_creates_nothing(
    client, alice, digits, devices, field, value
):
    body = {"model": digits.pk, "source": devices[0].pk, "strategy": "local", field: value}
    response = client.post("/api/jobs/", body, content_type="application/json", **token_header(alice))
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("frames", 10**15),
        ("rate", 1e9),
        ("duration_s", 1e18),
        ("deadline_s", 1e12),
        ("max_in_flight", 10**9),
        ("timeout_s", 1e18),
        ("seed", -1),
    ],
)
def test_a_session_with_a_number_out_of_range_answers_400_and_creates_nothing(
    client, alice, digits, devices, field, value
):
    body = {"model": digits.pk, "source": devices[0].pk, "strategy": "local", "rate": 10, "frames": 5}
    body[field] = value
    response = client.post("/api/sessions/", body, content_type="application/json", **token_header(alice))
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Session.objects.exists()
