"""A device that freezes (SIGSTOP: no socket closes, nothing is said) is found by the data plane: a frame of a
failover session outlives its budget, the source says ``stalled``, the control plane pings the route's
devices, and the one that does not answer is lost and failed over, long before its heartbeat would be missed
(the liveness timeout is 60 s here)."""

from __future__ import annotations

import os
import signal

import pytest

from edgeorch.devices.models import Device
from edgeorch.jobs.models import Failure

from .support import wait_until
from .test_failover_e2e import answered_once_and_right, devices_of, start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.fixture
def server_env(server_env):
    return {**server_env, "EDGEORCH_LIVENESS_TIMEOUT": "60"}


def test_a_frozen_edge_is_found_by_the_data_plane_and_the_session_goes_on(fleet, api, digits):
    phone, edge = fleet("phone", "edge")
    split = {"strategy": "split", "params": {"cut": 3, "device": edge.device_id}}
    session = start(api, digits, phone, "cold", **split)
    os.killpg(edge.proc.pid, signal.SIGSTOP)
    try:
        failure = wait_until(
            lambda: Failure.objects.filter(session_id=session).first(),
            timeout=20,
            message="the frozen edge found",
        )
        frames = answered_once_and_right(api, digits, session, phone)
        seen = Device.objects.get(pk=edge.device_id).last_seen  # while still frozen
    finally:
        os.killpg(edge.proc.pid, signal.SIGCONT)
    failure.refresh_from_db()
    assert (failure.device_name, failure.detected_by, failure.outcome) == ("edge", "dataplane", "recovered")
    assert devices_of(frames[0]) == (phone.device_id, edge.device_id)
    assert devices_of(frames[-1]) == (phone.device_id,)
    assert seen < failure.detected_at  # it said nothing since it froze
