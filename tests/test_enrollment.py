"""Enrollment: tokens are single- or multi-use, expire, and are refused with a clear message."""

from datetime import timedelta

import pytest
from django.utils import timezone

from edgeorch.devices import services
from edgeorch.devices.models import Device, EnrollmentToken

from .support import token_for

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def test_a_token_enrolls_a_device_whose_credential_is_stored_hashed():
    token, plain = services.create_enrollment_token(name="lab")
    result = services.enroll_device(plain, name="pi-1", inventory={"hostname": "pi"})
    device = Device.objects.get(pk=result.device.pk)
    device_id, _, secret = result.credential.partition(".")
    assert device_id == str(device.pk)
    assert secret not in device.credential_hash and device.check_credential(secret)
    assert not device.check_credential(secret + "x")
    assert EnrollmentToken.objects.get(pk=token.pk).uses == 1
    assert plain not in EnrollmentToken.objects.get(pk=token.pk).token_hash


def test_a_single_use_token_is_refused_the_second_time():
    _, plain = services.create_enrollment_token(max_uses=1)
    services.enroll_device(plain, name="a")
    with pytest.raises(services.EnrollmentRefused, match="used up"):
        services.enroll_device(plain, name="b")
    assert Device.objects.count() == 1


def test_a_multi_use_token_enrolls_until_it_is_used_up():
    _, plain = services.create_enrollment_token(max_uses=3)
    for i in range(3):
        services.enroll_device(plain, name=f"d{i}")
    with pytest.raises(services.EnrollmentRefused, match="3 of 3"):
        services.enroll_device(plain, name="d4")


def test_an_expired_token_is_refused():
    token, plain = services.create_enrollment_token()
    EnrollmentToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(services.EnrollmentRefused, match="expired"):
        services.enroll_device(plain, name="late")
    assert not Device.objects.exists()


def test_an_unknown_token_is_refused():
    with pytest.raises(services.EnrollmentRefused, match="not known"):
        services.enroll_device("eet_nonsense", name="x")


def test_a_revoked_token_is_refused():
    token, plain = services.create_enrollment_token()
    token.revoked = True
    token.save(update_fields=["revoked"])
    with pytest.raises(services.EnrollmentRefused, match="revoked"):
        services.enroll_device(plain, name="x")


def test_enroll_endpoint_returns_credential_and_websocket_url(client):
    _, plain = services.create_enrollment_token(profile="jetson-nano")
    response = client.post(
        "/api/agent/enroll/",
        {"token": plain, "name": "nano-1", "inventory": {"cores": 4}},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["ws_url"] == "ws://testserver/ws/agent/"
    device = Device.objects.get(pk=body["device_id"])
    assert device.profile == "jetson-nano" and device.inventory == {"cores": 4}
    assert services.authenticate_device(body["credential"]) == device


def test_enroll_endpoint_explains_a_refusal(client):
    response = client.post(
        "/api/agent/enroll/", {"token": "wrong", "name": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "not known" in response.json()["detail"]
    response = client.post("/api/agent/enroll/", {"token": "wrong"}, content_type="application/json")
    assert response.status_code == 400 and "name" in response.json()["detail"]


def test_an_operator_creates_a_token_and_gets_the_install_command(client, alice):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token_for(alice)}"
    response = client.post(
        "/api/enrollment-tokens/",
        {"name": "rack", "max_uses": 5, "ttl_hours": 2},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith("eet_")
    assert body["install_command"] == (
        "curl -fsSL http://testserver/agent/install.sh | sh -s -- "
        f"--server http://testserver --token {body['token']}"
    )
    # The plain token is shown once: listing never includes it.
    listed = client.get("/api/enrollment-tokens/").json()["results"][0]
    assert "token" not in listed and "install_command" not in listed
    assert listed["max_uses"] == 5 and listed["usable"] is True


def test_a_viewer_may_not_create_tokens(client, bob):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token_for(bob)}"
    response = client.post("/api/enrollment-tokens/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert not EnrollmentToken.objects.exists()


def test_deleting_a_token_revokes_it_but_keeps_its_devices(client, alice):
    token, plain = services.create_enrollment_token(max_uses=2)
    services.enroll_device(plain, name="kept")
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token_for(alice)}"
    assert client.delete(f"/api/enrollment-tokens/{token.pk}/").status_code == 204
    with pytest.raises(services.EnrollmentRefused, match="revoked"):
        services.enroll_device(plain, name="new")
    assert Device.objects.filter(name="kept").exists()
