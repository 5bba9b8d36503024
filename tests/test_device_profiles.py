"""GET /api/device-profiles/: the profiles agents can emulate, readable by any logged-in user."""

import pytest

from .support import token_for

pytestmark = pytest.mark.django_db


def test_alice_lists_the_profiles_with_units_speed_memory_power_and_thermal(client, alice):
    response = client.get("/api/device-profiles/", HTTP_AUTHORIZATION=f"Token {token_for(alice)}")
    assert response.status_code == 200
    profiles = {p["name"]: p for p in response.json()}
    assert {"host", "jetson-nano", "jetson-orin-nano", "rpi4", "edge-server"} <= set(profiles)
    pi = profiles["rpi4"]
    assert pi["class"] == "end" and pi["speed"] == 6.0 and pi["memory_limit_bytes"] == 4 << 30
    assert pi["units"] == [{"name": "cpu", "speed": 1.0, "shm_bandwidth_bps": 32e9}]
    assert pi["power"] == {"idle_w": 2.7, "busy_w": 6.4}
    assert pi["thermal"]["throttle_at_c"] == 80.0 and pi["thermal"]["clock_floor"] == 0.4
    assert profiles["host"]["thermal"] is None


def test_a_viewer_may_read_the_profiles_too(client, bob):
    response = client.get("/api/device-profiles/", HTTP_AUTHORIZATION=f"Token {token_for(bob)}")
    assert response.status_code == 200 and response.json()


def test_an_anonymous_caller_is_refused(client):
    assert client.get("/api/device-profiles/").status_code == 401
