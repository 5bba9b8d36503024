"""The low-battery policy end to end: a live Daphne, a real Celery worker and real agents, the camera an
emulated Raspberry Pi 4 on an emulated battery its power model drains. An adaptive session started with
``battery_below`` just under its charge runs on the fastest plan (MobileNetV2 offloaded whole: its 602 KB
input crosses the Wi-Fi radio) until the battery falls below the threshold; then it re-plans by energy and
switches to a plan that keeps the first blocks on the camera (a smaller tensor crosses the radio), for
fewer joules per frame."""

from __future__ import annotations

import pytest

from edgeorch.devices import services as device_services
from edgeorch.devices.models import Device
from edgeorch.jobs.models import PlanSwitch, Session
from edgeorch.scenarios.runner import ensure_model
from edgeorch.telemetry.services import latest_metric

from .support import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def start(agents, name: str, profile: str, *extra: str):
    _, token = device_services.create_enrollment_token()
    agent = agents(name)
    assert agent.enroll(token, "--profile", profile).returncode == 0
    agent.start(*extra)
    wait_until(
        lambda: Device.objects.filter(
            pk=agent.device_id, status="online", dataplane_port__isnull=False
        ).exists(),
        timeout=30,
        message=f"{name} online",
    )
    return Device.objects.get(pk=agent.device_id)


def blocks_on(device: str, plan: str) -> int:
    """How many blocks a plan summary (``ab12cd34[0-15] -> ef56ab78[16-49]``) puts on ``device``."""
    count = 0
    for stage in plan.split(" -> "):
        name, _, span = stage.partition("[")
        first, _, last = span.rstrip("]").partition("-")
        count += int(last) - int(first) + 1 if name == device else 0
    return count


@pytest.mark.usefixtures("worker")
def test_an_adaptive_session_switches_to_energy_when_the_cameras_battery_runs_low(agents, api):
    # 0.08 Wh drained at 2.7-6.4 W: about 1 % a second.
    camera = start(agents, "cam", "rpi4", "--battery-wh", "0.08", "--battery-percent", "80")
    start(agents, "edge", "edge-server")
    model = ensure_model("mobilenetv2")
    wait_until(lambda: latest_metric(camera, "battery.percent") is not None, message="the camera's battery")
    threshold = round(latest_metric(camera, "battery.percent") - 6.0, 1)  # crossed some 6 s from now

    body = {"model": model.pk, "source": str(camera.pk), "strategy": "adaptive", "rate": 4, "duration_s": 40}
    response = api.post(f"{api.base}/api/sessions/", json={**body, "battery_below": threshold}, timeout=30)
    assert response.status_code == 202, response.text
    session_id = response.json()["id"]

    def battery_switch():
        return PlanSwitch.objects.filter(session_id=session_id, reason__contains="battery").first()

    wait_until(lambda: battery_switch() is not None, timeout=90, interval=0.5, message="a switch on battery")
    switch = battery_switch()
    session = Session.objects.get(pk=session_id)
    assert session.adaptation["objective"] == "energy" and session.adaptation["battery_low"]
    assert f"below {threshold:g}%: objective energy" in switch.reason, switch.reason
    assert "J" in switch.reason  # judged by the camera's joules, not by latency
    source = str(camera.pk)[:8]
    assert blocks_on(source, switch.new_plan) > blocks_on(source, switch.old_plan), switch
    assert session.plan["objective"] == "energy"
    assert latest_metric(camera, "battery.percent") < threshold

    detail = api.get(f"{api.base}/api/sessions/{session_id}/", timeout=10).json()
    assert (detail["battery_below"], detail["objective"], detail["objective_now"]) == (
        threshold,
        "latency",
        "energy",
    )
    api.post(f"{api.base}/api/sessions/{session_id}/stop/", timeout=10)
    wait_until(lambda: Session.objects.get(pk=session_id).terminal, timeout=30, message="the session ends")
    summary = Session.objects.get(pk=session_id).summary
    assert summary["energy"]["basis"] == "estimated"  # an emulated device has no power meter
