"""The agents' link-probe endpoint (uploads timed by the agent) and a device's measured links on the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from edgeorch_wire.protocol import LINK_PROBE_MAX_BYTES

from edgeorch.devices import services
from edgeorch.plans import measurements

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

URL = "/api/agent/link-probe/"


def enroll(name: str):
    _, token = services.create_enrollment_token()
    return services.enroll_device(token, name=name)


def as_device(enrollment) -> dict:
    return {"HTTP_AUTHORIZATION": f"Device {enrollment.credential}"}


def upload(client, body: bytes, **headers):
    return client.post(URL, body, content_type="application/octet-stream", **headers)


def test_a_device_uploads_a_probe_payload_and_hears_how_much_arrived(client):
    phone = enroll("phone")
    response = upload(client, b"x" * 100_000, **as_device(phone))
    assert response.status_code == 200 and response.json() == {"received": 100_000}
    assert upload(client, b"", **as_device(phone)).json() == {"received": 0}


def test_the_link_probe_refuses_wrong_credentials_people_revoked_devices_and_other_methods(client, alice):
    from edgeorch.api.keys import create_key

    phone = enroll("phone")
    wrong = {"HTTP_AUTHORIZATION": f"Device {phone.device.pk}.not-the-secret"}
    response = upload(client, b"x", **wrong)
    assert response.status_code == 401 and "Device credential refused" in response.json()["detail"]
    key = create_key(alice)
    assert upload(client, b"x", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401  # devices only
    assert upload(client, b"x").status_code == 401
    assert client.get(URL, **as_device(phone)).status_code == 405
    services.revoke_device(phone.device)
    assert upload(client, b"x", **as_device(phone)).status_code == 401


def test_an_upload_over_the_limit_is_refused_before_it_is_read(client):
    phone = enroll("phone")
    response = upload(client, b"x" * (LINK_PROBE_MAX_BYTES + 1), **as_device(phone))
    assert response.status_code == 413
    assert f"at most {LINK_PROBE_MAX_BYTES} bytes" in response.json()["detail"]
    assert upload(client, b"x" * LINK_PROBE_MAX_BYTES, **as_device(phone)).status_code == 200


def test_a_devices_links_list_the_newest_sample_per_direction_with_the_control_plane_as_no_peer(client, bob):
    from edgeorch.api.keys import create_key

    phone, edge = enroll("phone").device, enroll("edge").device
    earlier = timezone.now() - timedelta(minutes=5)
    measurements.record_link(phone, None, 10e6, 0.050, measured_at=earlier)
    measurements.record_link(phone, None, 20e6, 0.004)
    measurements.record_link(phone, edge, 90e6, 0.002, measured_at=earlier)
    measurements.record_link(edge, phone, 80e6, 0.003, measured_at=earlier - timedelta(minutes=1))
    measurements.record_link(edge, None, 5e6, 0.1)  # edge's own control-plane link: not one of phone's
    key = create_key(bob)
    response = client.get(f"/api/devices/{phone.pk}/links/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    rows = [
        (r["direction"], r["peer"], r["peer_name"], r["bandwidth_bps"], r["rtt_s"]) for r in response.json()
    ]
    assert rows == [
        ("out", None, "control plane", 20e6, 0.004),
        ("out", str(edge.pk), "edge", 90e6, 0.002),
        ("in", str(edge.pk), "edge", 80e6, 0.003),
    ]
    assert client.get(f"/api/devices/{phone.pk}/links/").status_code in (401, 403)
