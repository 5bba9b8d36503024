"""The fleet page's energy per inference per device: from the latest finished run each device took part in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from edgeorch.dashboard import snapshots
from edgeorch.devices import services
from edgeorch.jobs.models import Job, Session

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def device(name: str, profile: str):
    _, plain = services.create_enrollment_token(max_uses=1)
    row = services.enroll_device(plain, name=name).device
    row.profile = profile
    row.save(update_fields=["profile"])
    return row


def planned(source, edge, source_j: float, edge_j: float) -> dict:
    devices = [
        {"device": str(source.pk), "total": source_j, "known": True},
        {"device": str(edge.pk), "total": edge_j, "known": True},
    ]
    return {"stages": [], "energy": {"total": source_j, "radio": 0.1, "devices": devices}}


@pytest.fixture
def fleet(digits):
    cam, edge, idle = device("cam", "rpi4"), device("edge", "edge-server"), device("spare", "rpi4")
    then = timezone.now() - timedelta(minutes=5)
    common = {"model": digits, "source": cam, "timeout_s": 10, "base_url": "http://cp", "state": "completed"}
    Session.objects.create(
        **common,
        strategy="device-edge",
        rate=4,
        frames=8,
        finished_at=then,
        plan=planned(cam, edge, 0.5, 3.0),
        summary={"energy": {"joules": 0.42, "basis": "measured", "emulated_j": 0.5}},
    )
    trace = [{"device": str(cam.pk), "compute_s": 0.01, "start": 100.0, "end": 100.02}]
    Job.objects.create(
        **common,
        strategy="local",
        finished_at=then - timedelta(minutes=1),  # older: the session's figure wins for cam
        plan=planned(cam, edge, 0.2, 0.0),
        trace=trace,
        measured_latency_s=0.02,
    )
    return cam, edge, idle


def test_each_device_shows_its_joules_per_inference_in_its_latest_run(fleet):
    cam, edge, idle = fleet
    energy = snapshots.fleet_energy()
    assert energy[str(cam.pk)] == {
        "joules": 0.42,
        "basis": "measured",
        "role": "source",
        "run": energy[str(cam.pk)]["run"],
        "model": "digits-cnn",
    }
    assert energy[str(cam.pk)]["run"].startswith("session ")
    assert energy[str(edge.pk)] == {
        **energy[str(edge.pk)],
        "joules": 3.0,
        "basis": "predicted",
        "role": "stage",
    }
    assert str(idle.pk) not in energy  # never took part in a run


def test_a_jobs_source_is_priced_from_its_trace(fleet):
    cam = fleet[0]
    Session.objects.all().delete()
    row = snapshots.fleet_energy()[str(cam.pk)]
    # rpi4: 2.7 W over the 20 ms, 3.7 W more over its 10 ms of compute, and the planned radio
    assert row["joules"] == pytest.approx(2.7 * 0.02 + 3.7 * 0.01 + 0.1)
    assert row["basis"] == "estimated" and row["run"].startswith("job ")


def test_the_fleet_snapshot_api_and_page_carry_it(fleet, client, bob):
    client.force_login(bob)
    body = client.get("/api/dashboard/fleet/").json()
    assert body["energy"][str(fleet[0].pk)]["joules"] == 0.42
    page = client.get("/").content.decode()
    assert "Energy / inference" in page
