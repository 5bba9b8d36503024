"""Enrollment, enrollment-token creation, model uploads and failed logins are throttled: past the rate the
answer is 429 with Retry-After. Each test sets a low rate; the defaults are generous (docs/deployment.md)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from edgeorch.catalog.tests.test_validation import tiny_model
from edgeorch.devices.models import EnrollmentToken

pytestmark = pytest.mark.django_db


def token_header(user) -> dict:
    from edgeorch.api.keys import create_key

    return {"HTTP_AUTHORIZATION": f"Token {create_key(user)}"}


@pytest.fixture
def rates(settings):
    def set_rate(scope: str, rate: str):
        settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, scope: rate}

    return set_rate


def assert_throttled(response):
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0


def test_charlie_enrolling_again_and_again_is_throttled(client, rates):
    rates("enroll", "3/min")
    body = {"token": "guess", "name": "x"}
    for _ in range(3):
        response = client.post("/api/agent/enroll/", body, content_type="application/json")
        assert response.status_code == 403
    assert_throttled(client.post("/api/agent/enroll/", body, content_type="application/json"))


def test_alice_creating_enrollment_tokens_too_fast_is_throttled_and_nothing_more_is_made(
    client, alice, rates
):
    rates("enrollment_token", "2/min")
    for _ in range(2):
        response = client.post(
            "/api/enrollment-tokens/", {}, content_type="application/json", **token_header(alice)
        )
        assert response.status_code == 201
    response = client.post(
        "/api/enrollment-tokens/", {}, content_type="application/json", **token_header(alice)
    )
    assert_throttled(response)
    assert EnrollmentToken.objects.count() == 2
    assert client.get("/api/enrollment-tokens/", **token_header(alice)).status_code == 200  # reads go on


def test_alice_uploading_too_fast_is_throttled(client, alice, rates, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    rates("upload", "1/min")
    data = tiny_model().SerializeToString()

    def upload(name):
        body = {"file": SimpleUploadedFile("m.onnx", data), "name": name}
        return client.post("/api/models/", body, **token_header(alice))

    assert upload("first").status_code == 201
    assert_throttled(upload("second"))


def test_uploads_through_the_page_count_with_the_apis(client, alice, rates, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    rates("upload", "1/min")
    client.force_login(alice)
    body = {
        "file": SimpleUploadedFile("m.onnx", tiny_model().SerializeToString()),
        "name": "a",
        "version": "1",
    }
    assert client.post("/models/", {**body, "task": "other"}).status_code == 302
    again = {"file": SimpleUploadedFile("m.onnx", b"x"), "name": "b", "version": "1", "task": "other"}
    assert_throttled(client.post("/models/", again))


def test_failed_logins_from_one_address_are_throttled_even_with_the_right_password(client, alice, settings):
    settings.LOGIN_FAILURES = 3
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert response.status_code == 200  # the form again
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-pass-123"})
    assert_throttled(response)
    assert "_auth_user_id" not in client.session


def test_failed_logins_for_one_username_are_throttled_from_any_address(client, alice, settings):
    settings.LOGIN_FAILURES = 2
    for address in ("10.0.0.1", "10.0.0.2"):
        client.post("/accounts/login/", {"username": "alice", "password": "no"}, REMOTE_ADDR=address)
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "no"}, REMOTE_ADDR="10.0.0.3"
    )
    assert_throttled(response)


def test_a_login_after_a_few_failures_goes_through(client, alice, settings):
    settings.LOGIN_FAILURES = 3
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-pass-123"})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(alice.pk)
