"""Fixtures of the jobs unit tests: the digits CNN from the cached zoo and two online devices (no agents)."""

import pytest


@pytest.fixture
def devices(db):
    """phone and edge, online, with fake channel names and data-plane addresses."""
    from edgeorch.devices import services

    made = []
    for name in ("phone", "edge"):
        _, token = services.create_enrollment_token()
        device = services.enroll_device(token, name=name).device
        device.status, device.channel_name = "online", f"fake.{name}"
        device.dataplane_host, device.dataplane_port = "127.0.0.1", 9000 + len(made)
        device.save()
        made.append(device)
    return made
