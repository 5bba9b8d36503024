"""Relaying through the control plane, end to end: a live Daphne, a Celery worker and real agent processes,
where the edge announces a data-plane address the phone cannot connect to (as a device behind NAT would), so
every activation from phone to edge goes agent -> control plane -> agent."""

from __future__ import annotations

import socket
from io import BytesIO

import numpy as np
import pytest

from edgeorch.devices import services as device_services
from edgeorch.devices.models import Device
from edgeorch.jobs.models import Job

from .support import finished, full_model_output, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

UNREACHABLE = "127.0.0.2"  # loopback, but the edge listens on 127.0.0.1 only: connecting is refused


def start(agents, name: str, *extra: str):
    _, token = device_services.create_enrollment_token()
    agent = agents(name)
    assert agent.enroll(token).returncode == 0
    agent.start(*extra)
    wait_until(
        lambda: Device.objects.filter(
            pk=agent.device_id, status="online", dataplane_port__isnull=False
        ).exists(),
        message=f"{name} online",
    )
    return agent


@pytest.fixture
def cut_off(agents, worker):
    """phone (reachable) and edge, whose announced data plane refuses connections."""
    phone = start(agents, "phone")
    edge = start(agents, "edge", "--dataplane-host", "127.0.0.1", "--advertise-host", UNREACHABLE)
    announced = Device.objects.get(pk=edge.device_id)
    assert announced.dataplane_host == UNREACHABLE
    with socket.create_connection(("127.0.0.1", announced.dataplane_port), timeout=5):
        pass  # the edge's listener is up...
    with pytest.raises(ConnectionRefusedError):  # ...but not where it says it is
        socket.create_connection((UNREACHABLE, announced.dataplane_port), timeout=5).close()
    return phone, edge


def test_a_job_whose_next_agent_cannot_be_reached_is_relayed_and_returns_the_full_models_output(
    cut_off, api, digits, client, alice
):
    phone, edge = cut_off
    response = api.post(
        api.base + "/api/jobs/",
        json={
            "model": digits.pk,
            "source": phone.device_id,
            "strategy": "split",
            "params": {"cut": 3, "device": edge.device_id},
            "sample": 7,
        },
        timeout=10,
    )
    assert response.status_code == 202, response.text
    body = finished(api, "jobs", response.json()["id"])
    assert body["state"] == "completed", body
    first, second = body["stages"]
    assert [first["device"], second["device"]] == [phone.device_id, edge.device_id]
    assert second["measured"]["relayed"] is True and not first["measured"]["relayed"]
    assert first["measured"]["transfer_s"] > 0  # the relayed hop's time, agent to agent via the server
    assert "relaying request" in phone.log()
    output = api.get(f"{api.base}/api/jobs/{body['id']}/output.npy", timeout=10)
    expected = full_model_output(digits, np.load(Job.objects.get(pk=body["id"]).input_path))
    assert np.allclose(np.load(BytesIO(output.content)), expected, atol=1e-5)
    client.force_login(alice)
    page = client.get(f"/runs/jobs/{body['id']}/").content.decode()
    assert 'class="badge relayed"' in page
    assert "The activation into stage 1 (edge) was relayed through the control plane" in page
    assert "transfer relayed via the control plane" in page  # the Gantt draws the hop as relayed


def test_a_stream_across_an_unreachable_hop_relays_every_frame(cut_off, api, digits):
    phone, edge = cut_off
    response = api.post(
        api.base + "/api/sessions/",
        json={
            "model": digits.pk,
            "source": phone.device_id,
            "strategy": "split",
            "params": {"cut": 3, "device": edge.device_id},
            "rate": 50,
            "frames": 12,
            "max_in_flight": 3,
            "sample": 1,
        },
        timeout=10,
    )
    assert response.status_code == 202, response.text
    body = finished(api, "sessions", response.json()["id"], timeout=40)
    assert body["state"] == "completed", body
    assert body["frames_sent"] == 12 and body["frames_ok"] == 12
    frames = api.get(f"{api.base}/api/sessions/{body['id']}/frames/", timeout=10).json()["results"]
    assert len(frames) == 12 and all(f["ok"] for f in frames)
    assert [[t.get("relayed", False) for t in f["trace"]] for f in frames] == [[False, True]] * 12
    assert [t["device"] for t in frames[0]["trace"]] == [phone.device_id, edge.device_id]
