"""GET /metrics: who may scrape it (staff, or an API key), and what an empty fleet reports. The figures of
real runs are checked by scraping a live server in tests/test_browser_console.py."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from edgeorch.api.keys import create_key
from edgeorch.devices import services

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def families(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def test_an_anonymous_visitor_and_a_logged_in_viewer_are_refused(client, bob):
    assert client.get("/metrics").status_code in (401, 403)
    client.force_login(bob)
    assert client.get("/metrics").status_code == 403


def test_staff_logged_in_and_anyone_with_an_api_key_may_scrape(client, bob, django_user_model):
    staff = django_user_model.objects.create_user("sam", password="sam-pass-123", is_staff=True)
    client.force_login(staff)
    families(client.get("/metrics"))
    client.logout()
    key = create_key(bob)
    families(client.get("/metrics", HTTP_AUTHORIZATION=f"Token {key}"))
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token eak_not-a-key").status_code == 401


def test_a_device_credential_is_refused(client):
    _, token = services.create_enrollment_token(max_uses=1)
    enrolled = services.enroll_device(token, name="pi")
    refused = client.get("/metrics", HTTP_AUTHORIZATION=f"Device {enrolled.credential}")
    assert refused.status_code in (401, 403)


def test_devices_are_counted_by_status_and_the_run_queue_is_empty(client, bob):
    _, token = services.create_enrollment_token(max_uses=2)
    services.enroll_device(token, name="pi")
    services.revoke_device(services.enroll_device(token, name="gone").device)
    found = families(client.get("/metrics", HTTP_AUTHORIZATION=f"Token {create_key(bob)}"))
    by_status = {s.labels["status"]: s.value for s in found["edgeorch_devices"].samples}
    assert by_status == {"pending": 1, "online": 0, "offline": 0, "revoked": 1}
    up = {s.labels["name"]: s.value for s in found["edgeorch_device_up"].samples}
    assert up == {"pi": 0.0}  # a revoked device is not scraped
    assert {s.value for s in found["edgeorch_runs"].samples} == {0.0}
    assert found["edgeorch_inference_requests"].samples == []
