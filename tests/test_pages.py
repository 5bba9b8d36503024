"""The minimal pages: log in, the device list, enrollment tokens, the API key page."""

import re

import pytest
from knox.models import AuthToken

from edgeorch.devices import services
from edgeorch.devices.models import EnrollmentToken

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    for url in ["/", "/users/", "/enroll/", "/account/api-key/", "/alerts/"]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_logging_in_shows_the_fleet(client, alice):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "alice-pass-123"}, follow=True
    )
    assert response.status_code == 200
    assert b"<h1>Fleet</h1>" in response.content
    wrong = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert b"didn't match" in wrong.content


def test_the_fleet_lists_devices_with_status_and_last_seen(client, alice):
    _, plain = services.create_enrollment_token(max_uses=2)
    services.enroll_device(plain, name="pi-garage")
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "pi-garage" in page and "Enrolled, never connected" in page and "never" in page
    assert "marked offline" in page  # the liveness rule is spelled out


def test_an_operator_creates_a_token_and_sees_its_install_command_once(client, alice):
    client.force_login(alice)
    page = client.post(
        "/enroll/", {"name": "shelf", "max_uses": 3, "ttl_hours": 1, "role": "edge"}
    ).content.decode()
    token = EnrollmentToken.objects.get(name="shelf")
    assert token.max_uses == 3 and token.role == "edge"
    assert (
        'id="install-command"' in page
        and "/agent/install.sh | sh -s -- --server http://testserver --token eet_" in page
    )
    assert 'id="install-command"' not in client.get("/enroll/").content.decode()


def test_a_viewer_cannot_create_tokens_from_the_page(client, bob):
    client.force_login(bob)
    assert (
        client.post("/enroll/", {"name": "x", "max_uses": 1, "ttl_hours": 1, "role": "end"}).status_code
        == 403
    )
    assert not EnrollmentToken.objects.exists()


def test_a_user_creates_and_revokes_an_api_key(client, bob):
    """The new key is in the answer to the create, once: the database holds its digest, and the page never
    shows the key again."""
    client.force_login(bob)
    page = client.post("/account/api-key/", {"action": "create"}).content.decode()
    key = re.search(r'id="api-key">([^<]+)<', page).group(1)
    stored = AuthToken.objects.get(user=bob)
    assert key.startswith("eak_") and key not in (stored.digest, stored.token_key)
    assert key not in client.get("/account/api-key/").content.decode()
    assert client.get("/api/devices/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    client.post("/account/api-key/", {"action": "revoke", "key": stored.token_key})
    assert not AuthToken.objects.filter(user=bob).exists()
    assert client.get("/api/devices/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_forms_are_protected_by_csrf(alice):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert (
        strict.post("/enroll/", {"name": "x", "max_uses": 1, "ttl_hours": 1, "role": "end"}).status_code
        == 403
    )


def test_the_admin_has_every_model(admin_client):
    for url in [
        "/admin/devices/device/",
        "/admin/devices/enrollmenttoken/",
        "/admin/telemetry/telemetryrecord/",
    ]:
        assert admin_client.get(url).status_code == 200


def test_last_seen_is_told_in_seconds_while_recent(client, alice):
    from datetime import timedelta

    from django.utils import timezone

    from edgeorch.devices.models import Device

    _, plain = services.create_enrollment_token()
    device = services.enroll_device(plain, name="fresh").device
    Device.objects.filter(pk=device.pk).update(
        last_seen=timezone.now() - timedelta(seconds=12), status="online"
    )
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "12 s ago" in page or "13 s ago" in page


def test_static_files_are_served_by_the_app_itself(live_server_proc):
    import requests

    css = requests.get(f"{live_server_proc.url}/static/css/edgeorch.css", timeout=10)
    assert css.status_code == 200 and "--accent" in css.text
