"""The global coordinator end to end (docs/qos.md, "The coordinator"): real agents, a source and two edges,
one of them slow (an emulated profile); two sessions offered to the slow edge saturate its stage queues, and
the coordinator (Celery beat) moves the low-priority one off it while both stream: its next frames are
answered on the new route, and each user's budget is set for the route it streams on."""

from __future__ import annotations

import json

import pytest

from edgeorch.devices import services as device_services
from edgeorch.devices.models import Device
from edgeorch.jobs.models import BudgetChange, Deployment, Frame, PlanSwitch, Session

from .support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

SLOW = {
    "name": "coordinator-slow-edge",
    "description": "a slow edge, for the coordinator test only",
    "class": "edge",
    "speed": 3000.0,
    "units": [{"name": "cpu", "speed": 1.0, "shm_bandwidth_bps": 3.2e10}],
}


@pytest.fixture
def server_env(server_env):
    """The coordinator looks every second and calls an edge saturated at 2 queued frames."""
    return {
        **server_env,
        "EDGEORCH_COORDINATOR": "true",
        "EDGEORCH_COORDINATOR_INTERVAL": "1",
        "EDGEORCH_COORDINATOR_SATURATED_QUEUED": "2",
    }


def test_the_coordinator_moves_the_low_priority_user_off_a_saturated_edge_live(
    agents, beat, api, digits, tmp_path
):
    profile = tmp_path / "slow.json"
    profile.write_text(json.dumps(SLOW))
    started = {}
    for name, extra in (("cam", ()), ("slow-edge", ("--profile", str(profile))), ("edge-2", ())):
        _, token = device_services.create_enrollment_token()
        agent = agents(name)
        assert agent.enroll(token).returncode == 0
        started[name] = agent.start(*extra)
    for agent in started.values():
        wait_until(
            lambda a=agent: Device.objects.filter(
                pk=a.device_id, status="online", dataplane_port__isnull=False
            ).exists(),
            message=f"{agent.name} online",
        )
    cam, slow = started["cam"], started["slow-edge"]
    sessions = {}
    for priority in ("high", "low"):
        response = api.post(
            api.base + "/api/sessions/",
            json={
                "model": digits.pk,
                "source": cam.device_id,
                "strategy": "split",
                "params": {"cut": 0, "device": slow.device_id},
                "devices": [slow.device_id, started["edge-2"].device_id],
                "rate": 20,
                "frames": 400,
                "max_in_flight": 8,
                "sample": 1,
                "priority": priority,
            },
            timeout=10,
        )
        assert response.status_code == 202, response.text
        sessions[priority] = response.json()["id"]

    wait_until(
        lambda: PlanSwitch.objects.filter(reason__startswith="coordinator:").exists(),
        timeout=40,
        message="the coordinator moving a user",
    )
    first = PlanSwitch.objects.filter(reason__startswith="coordinator:").order_by("pk").first()
    assert first is not None and str(first.session_id) == sessions["low"], first.reason
    assert "slow-edge is saturated" in first.reason
    moved = Session.objects.get(pk=sessions["low"])
    assert moved.deployment is not None and slow.device_id not in moved.deployment.devices

    def answered_off_the_slow_edge() -> bool:
        frames = Frame.objects.filter(session_id=sessions["low"], ok=True, request_id__gt=first.after_frame)
        return any(all(t["device"] != slow.device_id for t in f.trace) for f in frames)

    wait_until(answered_off_the_slow_edge, timeout=20, message="the moved user's frames answered elsewhere")
    assert Session.objects.get(pk=sessions["low"]).state == "running"  # its stream never stopped

    # each user's budget (docs/qos.md, "Budgets"): set by the beat's passes for the route it streamed on,
    # naming the edges of that deployment only; one that uses an edge now has one for its route now (one
    # moved onto its own device needs none: the budget it had was for its old route, which lifts it)
    def budgeted(session: str) -> bool:
        row = Session.objects.select_related("deployment").get(pk=session)
        edges = {str(d) for d in row.deployment.devices} - {cam.device_id}
        return not edges or row.budget.get("deployment") == str(row.deployment_id)

    for priority, session in sessions.items():
        wait_until(lambda s=session: budgeted(s), timeout=20, message=f"the {priority} user's budget")
    changes = list(BudgetChange.objects.filter(session_id__in=sessions.values()))
    assert changes, "no budget was set"
    for change in changes:
        placed = {str(d) for d in Deployment.objects.get(pk=change.deployment).devices} - {cam.device_id}
        assert {e["device_id"] for e in change.edges} <= placed and all(
            0 < e["share"] <= 1 for e in change.edges
        )
    on_slow = [c for c in changes if slow.device_id in {e["device_id"] for e in c.edges}]
    assert on_slow  # the users of the slow edge had their share of it
    shown = api.get(api.base + f"/api/sessions/{on_slow[0].session_id}/", timeout=10).json()
    assert on_slow[0].budget_id in [c["budget_id"] for c in shown["budget_changes"]]
    for session in sessions.values():
        api.post(api.base + f"/api/sessions/{session}/stop/", timeout=10)
