"""REST auth: scripts use tokens, browsers use sessions; viewers read, operators write."""

import pytest
from django.core.management import CommandError, call_command

from edgeorch.devices import services
from edgeorch.devices.models import Device

from .support import token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def device():
    _, plain = services.create_enrollment_token()
    return services.enroll_device(plain, name="edge-1").device


def test_no_token_is_refused(client, device):
    response = client.get("/api/devices/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")


def test_a_wrong_token_is_refused(client, device):
    response = client.get("/api/devices/", HTTP_AUTHORIZATION="Token not-a-real-key")
    assert response.status_code == 401
    assert "Invalid token" in response.json()["detail"]


def test_an_operator_token_lists_and_revokes_devices(client, alice, device):
    auth = {"HTTP_AUTHORIZATION": f"Token {token_for(alice)}"}
    listed = client.get("/api/devices/", **auth).json()
    assert [d["name"] for d in listed["results"]] == ["edge-1"]
    assert listed["results"][0]["liveness"]["timeout_s"] > 0
    response = client.post(f"/api/devices/{device.pk}/revoke/", **auth)
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert Device.objects.get(pk=device.pk).is_revoked


def test_a_viewer_reads_but_cannot_revoke(client, bob, device):
    auth = {"HTTP_AUTHORIZATION": f"Token {token_for(bob)}"}
    assert client.get(f"/api/devices/{device.pk}/", **auth).status_code == 200
    response = client.post(f"/api/devices/{device.pk}/revoke/", **auth)
    assert response.status_code == 403 and "read-only" in response.json()["detail"]
    assert not Device.objects.get(pk=device.pk).is_revoked


def test_a_device_credential_is_not_a_user_login(client, device):
    _, plain = services.create_enrollment_token()
    credential = services.enroll_device(plain, name="other").credential
    response = client.get("/api/devices/", HTTP_AUTHORIZATION=f"Token {credential}")
    assert response.status_code == 401


def test_the_browser_uses_its_session(client, alice, device):
    client.force_login(alice)
    assert client.get("/api/devices/").status_code == 200


def test_the_api_key_command_makes_a_working_key_stored_only_as_a_digest(client, alice, capsys):
    from knox.models import AuthToken

    call_command("api_key", "alice")
    key = capsys.readouterr().out.strip()
    assert client.get("/api/devices/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    (stored,) = AuthToken.objects.filter(user=alice).values_list("digest", "token_key")
    assert all(key not in column for column in stored)  # the database holds no usable key


def test_the_api_key_command_names_a_missing_user():
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("api_key", "nobody")


def test_the_openapi_schema_generates_without_warnings(client, alice):
    call_command("spectacular", "--fail-on-warn", "--file", "/dev/null")
    client.force_login(alice)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for expected in [
        "/api/devices/",
        "/api/devices/{id}/",
        "/api/devices/{id}/telemetry/",
        "/api/enrollment-tokens/",
    ]:
        assert expected in paths


def test_the_api_docs_are_served_without_a_cdn(client, alice, offsite_urls):
    client.force_login(alice)
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert offsite_urls(page) == [] and "unpkg" not in page.lower()
