"""The link between an agent and the control plane, end to end: a live Daphne, a Celery worker and a real
agent process measure it on request and periodically; a malformed probe result is refused and stores
nothing."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from django.db import connection
from edgeorch_wire import protocol as p

from edgeorch.devices import services as device_services
from edgeorch.jobs import services as jobs
from edgeorch.jobs.models import Measurement
from edgeorch.plans.models import LinkSample

from .support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def measured(api, pk) -> dict:
    return wait_until(
        lambda: (
            (body := api.get(f"{api.base}/api/measurements/{pk}/", timeout=10).json())["state"] != "pending"
            and body
        ),
        message=f"measurement {pk}",
    )


def test_a_lone_agent_measures_its_control_plane_link_on_request_and_periodically(
    fleet, api, live_server_proc, settings
):
    (phone,) = fleet("phone")
    response = api.post(f"{api.base}/api/devices/{phone.device_id}/probe/", timeout=10)
    assert response.status_code == 202, response.text
    body = measured(api, response.json()["id"])
    assert body["state"] == "done" and body["result"]["links"] == []  # no peers
    link = body["result"]["control_plane"]
    assert link["error"] is None and link["rtt_s"] > 0 and link["bandwidth_bps"] > 0, link
    sample = LinkSample.objects.get(device_from_id=phone.device_id, device_to=None)
    assert (sample.rtt_s, sample.bandwidth_bps) == (link["rtt_s"], link["bandwidth_bps"])
    links = api.get(f"{api.base}/api/devices/{phone.device_id}/links/", timeout=10).json()
    assert [(lk["direction"], lk["peer"], lk["peer_name"]) for lk in links] == [
        ("out", None, "control plane")
    ]
    assert links[0]["bandwidth_bps"] == link["bandwidth_bps"]

    # The beat task, here with an absolute public URL (the request above sent a path the agent resolved).
    settings.PUBLIC_URL = live_server_proc.url
    assert jobs.probe_fleet() == 1
    wait_until(
        lambda: LinkSample.objects.filter(device_from_id=phone.device_id, device_to=None).count() == 2,
        message="a second control-plane sample",
    )
    assert Measurement.objects.filter(device_id=phone.device_id, state="done").count() == 2


async def off_loop(query):
    """Run a database query from the test's event loop (in a thread, whose connection is closed after)."""

    def run():
        try:
            return query()
        finally:
            connection.close()

    return await asyncio.to_thread(run)


def test_a_malformed_probe_result_is_refused_with_a_clear_error_and_nothing_is_stored(live_server_proc):
    _, token = device_services.create_enrollment_token()
    enrolled = device_services.enroll_device(token, name="liar")
    device_id = str(enrolled.device.pk)
    probe = Measurement.objects.create(kind=Measurement.PROBE, device=enrolled.device)

    def result(**control_plane) -> str:
        return json.dumps(
            {
                "v": 1,
                "type": "probe_result",
                "probe_id": str(probe.pk),
                "links": [],
                "control_plane": control_plane,
            }
        )

    async def go() -> list[dict]:
        url = live_server_proc.url.replace("http://", "ws://") + "/ws/agent/"
        headers = {"Authorization": f"Device {enrolled.credential}"}
        async with websockets.connect(url, additional_headers=headers) as ws:
            hello = p.Hello(device_id=device_id, agent_version="test", inventory={"hostname": "h"})
            await ws.send(hello.to_json())
            assert json.loads(await ws.recv())["type"] == "welcome"
            errors = []
            for bad in (
                result(rtt_s=-1.0, bandwidth_bps=1e6),
                result(rtt_s=0.01, bandwidth_bps="fast"),
                result(rtt_s=0.01, bandwidth_bps=float("nan")),
                result(rtt_s=None, bandwidth_bps=None),
            ):
                await ws.send(bad)
                errors.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            # Checked before the good one is sent: nothing else can still be on its way.
            assert not await off_loop(LinkSample.objects.exists)
            await ws.send(result(rtt_s=0.002, bandwidth_bps=5e7))  # the same probe, well formed
            done = lambda: Measurement.objects.get(pk=probe.pk).state == "done"  # noqa: E731
            await off_loop(lambda: wait_until(done, message="the well-formed result"))
            return errors

    errors = asyncio.run(go())
    assert [(e["type"], e["code"]) for e in errors] == [
        ("error", "bad_value"),
        ("error", "wrong_type"),
        ("error", "bad_value"),
        ("error", "missing_field"),
    ]
    assert "probe_result.control_plane: rtt_s must be a finite number >= 0, not -1.0" in errors[0]["message"]
    assert "'bandwidth_bps' must be an integer or a number, not str" in errors[1]["message"]
    assert "'rtt_s' is null, so 'error' must say why" in errors[3]["message"]
    assert "sent a bad message (bad_value)" in live_server_proc.log()
    (sample,) = LinkSample.objects.filter(device_from=enrolled.device)
    assert sample.device_to is None and (sample.rtt_s, sample.bandwidth_bps) == (0.002, 5e7)
