"""Scale-out (issue 25): two Daphne processes and two Celery workers on one PostgreSQL and one Redis, as
docs/deploy.md's "Several hosts" runs them. The phone's agent connects to the first web process and the
edge's to the second; jobs and sessions submitted through either API run across both; an activation relayed
through the control plane crosses from one web process to the other; a dashboard on one web process sees the
other's runs live; a revocation through one closes the device's socket on the other; and a worker going away
leaves the other to dispatch.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from websockets.sync.client import connect

from edgeorch.devices import services as device_services
from edgeorch.devices.models import Device

from .support import Agent, Server, finished, start_worker, stop_worker, token_for, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

UNREACHABLE = "127.0.0.2"  # the edge announces a data plane the phone cannot reach: activations are relayed


def online(agent: Agent) -> Agent:
    wait_until(
        lambda: Device.objects.filter(
            pk=agent.device_id, status="online", dataplane_port__isnull=False
        ).exists(),
        message=f"{agent.name} online",
    )
    return agent


def enrolled(server: Server, tmp_path, name: str, *extra: str) -> Agent:
    _, token = device_services.create_enrollment_token()
    agent = Agent(server, tmp_path, name)
    assert agent.enroll(token).returncode == 0
    return online(agent.start(*extra))


def api_of(server: Server, key: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {key}"
    session.base = server.url  # type: ignore[attr-defined]
    return session


@pytest.fixture
def second_web(live_server_proc, server_env, tmp_path):
    server = Server(server_env, tmp_path / "daphne-2.log").start()
    yield server
    server.stop()


def test_two_web_processes_and_two_workers_serve_one_fleet(
    live_server_proc, second_web, worker, server_env, tmp_path, digits, alice, client
):
    web1, web2 = live_server_proc, second_web
    second_worker = start_worker(server_env, tmp_path / "celery-2.log", name="second@%h")
    started: list[Agent] = []
    try:
        phone = enrolled(web1, tmp_path, "phone")
        started.append(phone)
        edge = enrolled(
            web2, tmp_path, "edge", "--dataplane-host", "127.0.0.1", "--advertise-host", UNREACHABLE
        )
        started.append(edge)
        assert web1.url in phone.config.read_text() and web2.url in edge.config.read_text()
        key = token_for(alice)
        api1, api2 = api_of(web1, key), api_of(web2, key)

        # A dashboard on web2, logged in as alice, following the runs.
        client.force_login(alice)
        cookie = f"sessionid={client.cookies['sessionid'].value}"
        ws_url = web2.url.replace("http://", "ws://") + "/ws/dashboard/"
        with connect(
            ws_url, additional_headers={"Cookie": cookie, "Origin": web2.url}, open_timeout=10
        ) as ws:
            ws.send(json.dumps({"subscribe": ["runs"]}))
            assert json.loads(ws.recv(timeout=10)) == {"subscribed": ["runs"]}

            # A split job through web1's API: phone (on web1) -> edge (on web2), relayed between the two.
            response = api1.post(
                api1.base + "/api/jobs/",
                json={
                    "model": digits.pk,
                    "source": phone.device_id,
                    "strategy": "split",
                    "params": {"cut": 6, "device": edge.device_id},
                    "sample": 3,
                },
                timeout=10,
            )
            assert response.status_code == 202, response.text
            job = finished(api2, "jobs", response.json()["id"])  # read back through the other web process
            assert job["state"] == "completed", job
            first, second = job["stages"]
            assert [first["device"], second["device"]] == [phone.device_id, edge.device_id]
            assert second["measured"]["relayed"] is True

            seen: list[dict] = []
            deadline, done = time.monotonic() + 15, ("job.completed", str(job["id"]))
            while done not in [(e.get("kind"), e["data"]["id"]) for e in seen]:
                assert time.monotonic() < deadline, f"web2's dashboard never saw job {job['id']}: {seen}"
                seen.append(json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic()))))

        # One worker goes away; the other dispatches a session submitted through web2's API.
        stop_worker(second_worker)
        response = api2.post(
            api2.base + "/api/sessions/",
            json={
                "model": digits.pk,
                "source": phone.device_id,
                "strategy": "split",
                "params": {"cut": 6, "device": edge.device_id},
                "rate": 50,
                "frames": 10,
                "sample": 1,
            },
            timeout=10,
        )
        assert response.status_code == 202, response.text
        session = finished(api1, "sessions", response.json()["id"], timeout=40)
        assert session["state"] == "completed", session
        assert session["frames_sent"] == 10 and session["frames_ok"] == 10
        frames = api1.get(f"{api1.base}/api/sessions/{session['id']}/frames/", timeout=10).json()["results"]
        assert len(frames) == 10 and all(f["ok"] and len(f["trace"]) == 2 for f in frames)

        # Revoked through web1, the edge's socket on web2 is closed at once and the agent stops.
        revoked = api1.post(f"{api1.base}/api/devices/{edge.device_id}/revoke/", timeout=10)
        assert revoked.status_code == 200, revoked.text
        wait_until(
            lambda: edge.proc.poll() is not None, timeout=15, message=f"the edge to exit\n{edge.log()}"
        )
        assert edge.proc.returncode == 3 and "revoked" in edge.log()
    finally:
        for agent in started:
            agent.stop()
        stop_worker(second_worker)
