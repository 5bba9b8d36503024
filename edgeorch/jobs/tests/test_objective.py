"""Jobs and sessions take an objective (stored in their params) and plan by it; a session's low-battery
policy (``battery_below``) makes its re-planner plan by energy while the source's battery is low."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from edgeorch.jobs import services
from edgeorch.jobs.conditions import objective_of
from edgeorch.jobs.models import Job, Session
from edgeorch.jobs.services import adaptive, dispatch
from edgeorch.telemetry.models import TelemetryRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def powered(devices):
    """phone is a Raspberry Pi 4-class camera (2.7 W idle, 6.4 W busy), edge an edge server."""
    phone, edge = devices
    phone.profile, edge.profile = "rpi4", "edge-server"
    phone.save(update_fields=["profile"])
    edge.save(update_fields=["profile"])
    return phone, edge


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


def test_a_job_stores_its_objective_and_is_planned_by_it(api, digits, powered):
    body = {"model": digits.pk, "source": powered[0].pk, "strategy": "device-edge", "objective": "energy"}
    response = api.post("/api/jobs/", body, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["objective"] == "energy"
    job = Job.objects.get()
    assert job.params == {"objective": "energy"}
    plan = dispatch.plan_run(job)
    assert plan["objective"] == "energy" and "objective: the source device's energy" in plan["notes"]


def test_a_run_without_an_objective_has_its_strategys(api, digits, powered):
    for strategy, objective in (("device-edge", "latency"), ("energy", "energy_under_deadline")):
        body = {"model": digits.pk, "source": powered[0].pk, "strategy": strategy}
        assert api.post("/api/jobs/", body, format="json").json()["objective"] == objective


def test_a_bad_or_unpriceable_objective_is_refused_before_anything_is_made(api, digits, devices, powered):
    body = {"model": digits.pk, "source": powered[0].pk, "strategy": "local", "objective": "battery"}
    response = api.post("/api/jobs/", body, format="json")
    assert response.status_code == 400 and "objective" in response.json()
    clash = {**body, "objective": "energy", "params": {"objective": "latency"}}
    assert api.post("/api/jobs/", clash, format="json").status_code == 400
    powered[0].profile = ""
    powered[0].save(update_fields=["profile"])
    response = api.post("/api/jobs/", {**body, "objective": "energy"}, format="json")
    assert response.status_code == 400 and "power model" in str(response.json())
    assert not Job.objects.exists()


def test_a_session_takes_an_objective_and_a_low_battery_policy(api, digits, powered):
    body = {"model": digits.pk, "source": powered[0].pk, "strategy": "adaptive", "rate": 5, "frames": 10}
    body.update(objective="energy_under_deadline", deadline_s=0.5, battery_below=20)
    response = api.post("/api/sessions/", body, format="json")
    assert response.status_code == 202, response.content
    data = response.json()
    assert (data["objective"], data["battery_below"], data["objective_now"]) == (
        "energy_under_deadline",
        20.0,
        "energy_under_deadline",
    )
    session = Session.objects.get()
    assert session.params == {"objective": "energy_under_deadline"}
    assert session.adaptation == {"battery_below": 20.0}


def test_the_low_battery_policy_needs_the_adaptive_strategy(api, digits, powered):
    body = {"model": digits.pk, "source": powered[0].pk, "strategy": "pipeline", "rate": 5, "frames": 10}
    response = api.post("/api/sessions/", {**body, "battery_below": 20}, format="json")
    assert response.status_code == 400 and "adaptive" in str(response.json())
    assert not Session.objects.exists()


def battery(device, seq: int, percent: float, plugged: bool = False) -> None:
    now = datetime.now(UTC)
    metrics = {"battery.percent": percent, "battery.plugged": 1.0 if plugged else 0.0}
    TelemetryRecord.objects.create(device=device, seq=seq, ts=now, received_at=now, metrics=metrics)
    time.sleep(0.002)  # the next sample is newer


def test_the_objective_turns_to_energy_below_the_threshold_and_back_above_it(digits, powered):
    phone = powered[0]
    session = services.start_session(
        model=digits, source=phone, strategy="adaptive", frames=10, battery_below=20, base_url="http://cp"
    )
    state = dict(session.adaptation)
    assert objective_of(session, state) == ("latency", None)  # no battery reported yet
    battery(phone, 1, 35.0)
    assert objective_of(session, state) == ("latency", None)
    battery(phone, 2, 18.0)
    assert objective_of(session, state) == ("energy", "battery 18% below 20%: objective energy")
    assert objective_of(session, state) == ("energy", None)  # no change: no re-plan of its own
    battery(phone, 3, 22.0)
    assert objective_of(session, state)[0] == "energy"  # within the hysteresis
    battery(phone, 4, 26.0)
    assert objective_of(session, state) == ("latency", "battery back to 26%: objective latency")
    battery(phone, 5, 10.0, plugged=True)
    assert objective_of(session, state) == ("latency", None)  # on mains power: no need to save


def test_an_adaptive_session_with_a_low_battery_starts_on_an_energy_plan(digits, powered):
    phone = powered[0]
    battery(phone, 1, 5.0)
    session = services.start_session(
        model=digits, source=phone, strategy="adaptive", frames=10, battery_below=20, base_url="http://cp"
    )
    plan = adaptive.initial_plan(session, list(powered))
    assert plan["objective"] == "energy"
    frugal = services.start_session(
        model=digits, source=phone, strategy="adaptive", frames=10, params={"objective": "energy"}
    )
    assert adaptive.initial_plan(frugal, list(powered))["objective"] == "energy"
