"""A run's topology (GET /api/sessions|jobs|deployments/{id}/topology/): devices, stages, the hops
of a frame with their bytes and measured links, and the slow stage, from the plan, the newest frames'
traces and the link probes (no agents: rows as the agents' reports would leave them)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from edgeorch.jobs.models import Deployment, Frame, Job, Session
from edgeorch.plans import measurements

pytestmark = pytest.mark.demo


@pytest.fixture
def three(db):
    from edgeorch.devices import services

    made = []
    for name in ("cam", "edge-1", "edge-2"):
        _, token = services.create_enrollment_token()
        device = services.enroll_device(token, name=name).device
        device.status = "online"
        device.save()
        made.append(device)
    return made


def stage(device, first: int, last: int) -> dict:
    return {"device": str(device.pk), "unit": "cpu", "first_block": first, "last_block": last}


def trace(cam, e1, e2, slow: float) -> list[dict]:
    """A frame's trace on cam (blocks 0-6), edge-1 (7-8), edge-2 (9); edge-1 takes ``slow`` seconds."""
    return [
        {"stage": -1, "device": str(cam.pk), "transfer_s": 0.0},
        {"stage": 0, "device": str(cam.pk), "compute_s": 0.002, "transfer_s": 0.001},
        {"stage": 1, "device": str(e1.pk), "compute_s": slow, "queue_s": 0.001, "transfer_s": 0.001},
        {"stage": 2, "device": str(e2.pk), "compute_s": 0.003, "transfer_s": 0.0005},
    ]


@pytest.fixture
def session(three, digits):
    cam, e1, e2 = three
    plan = {"stages": [stage(cam, 0, 6), stage(e1, 7, 8), stage(e2, 9, 9)], "input_transfer": 0.0}
    session = Session.objects.create(
        model=digits,
        source=cam,
        strategy="multi-device",
        timeout_s=10,
        base_url="http://cp",
        state="running",
        rate=10,
        frames=100,
        plan=plan,
    )
    for r in range(30):
        Frame.objects.create(
            session=session, request_id=r, ok=True, latency_s=0.05, trace=trace(cam, e1, e2, 0.04)
        )
    # An older frame on another route does not count (a plan switch).
    Frame.objects.create(session=session, request_id=30, ok=False, latency_s=0, trace=[])
    return session


def as_person(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_a_three_stage_sessions_topology_names_its_devices_hops_links_and_slow_stage(
    session, three, digits, bob
):
    cam, e1, e2 = three
    measurements.record_link(cam, e1, 80e6, 0.002)
    measurements.record_link(e2, e1, 20e6, 0.004)  # only the other way: shown, marked reverse
    body = as_person(bob).get(f"/api/sessions/{session.pk}/topology/").json()

    assert [d["name"] for d in body["devices"]] == ["cam", "edge-1", "edge-2"]
    assert [d["stages"] for d in body["devices"]] == [[0], [1], [2]]
    assert body["devices"][0]["source"] and not body["devices"][1]["source"]
    assert [s["blocks"] for s in body["stages"]] == [[0, 6], [7, 8], [9, 9]]
    assert body["frames"] == 20  # the newest 20 answered frames by default
    assert body["stages"][1]["measured"]["compute_s"] == pytest.approx(0.04)
    assert body["stages"][1]["measured"]["total_s"] == pytest.approx(0.042)
    assert body["slow_stage"] == 1 and [s["slow"] for s in body["stages"]] == [False, True, False]
    assert body["path"] == [str(cam.pk), str(e1.pk), str(e2.pk), str(cam.pk)]

    hops = {(h["from_name"], h["to_name"]): h for h in body["hops"]}
    assert list(hops) == [("cam", "edge-1"), ("edge-1", "edge-2"), ("edge-2", "cam")]  # stage 0 is on cam
    blocks = digits.blocks
    assert hops["cam", "edge-1"]["bytes"] == blocks[6]["output_bytes"]
    assert hops["edge-1", "edge-2"]["bytes"] == blocks[8]["output_bytes"]
    assert hops["edge-2", "cam"]["kind"] == "result"
    assert hops["cam", "edge-1"]["link"]["bandwidth_bps"] == 80e6
    assert hops["cam", "edge-1"]["link"]["direction"] == "forward"
    assert hops["edge-1", "edge-2"]["link"] == {**hops["edge-1", "edge-2"]["link"], "rtt_s": 0.004}
    assert hops["edge-1", "edge-2"]["link"]["direction"] == "reverse"
    assert hops["edge-2", "cam"]["link"] is None  # never probed
    assert hops["edge-1", "edge-2"]["transfer_s"] == pytest.approx(0.001)


def test_the_slow_stage_follows_the_newest_frames(session, three, bob):
    cam, e1, e2 = three
    for r in range(31, 61):  # edge-1 got fast; edge-2 is now the slowest
        Frame.objects.create(
            session=session, request_id=r, ok=True, latency_s=0.01, trace=trace(cam, e1, e2, 0.001)
        )
    body = as_person(bob).get(f"/api/sessions/{session.pk}/topology/?frames=5").json()
    assert body["frames"] == 5 and body["slow_stage"] == 2


def test_frames_out_of_range_or_not_a_number_is_a_clear_400(session, bob):
    client = as_person(bob)
    for bad, words in (
        ("0", "greater than or equal to 1"),
        ("501", "less than or equal to 500"),
        ("x", "valid integer"),
    ):
        response = client.get(f"/api/sessions/{session.pk}/topology/?frames={bad}")
        assert response.status_code == 400, bad
        assert words in response.json()["frames"][0], response.json()


def test_a_session_not_planned_yet_has_its_source_alone(three, digits, bob):
    pending = Session.objects.create(
        model=digits, source=three[0], strategy="local", timeout_s=10, base_url="http://cp", rate=1, frames=1
    )
    body = as_person(bob).get(f"/api/sessions/{pending.pk}/topology/").json()
    assert [d["name"] for d in body["devices"]] == ["cam"]
    assert body["stages"] == [] and body["hops"] == [] and body["slow_stage"] is None


def test_a_jobs_topology_comes_from_its_one_trace_and_an_unknown_run_is_a_404(three, digits, bob):
    cam, e1, e2 = three
    job = Job.objects.create(
        model=digits,
        source=cam,
        strategy="multi-device",
        timeout_s=10,
        base_url="http://cp",
        state="completed",
        plan={"stages": [stage(cam, 0, 6), stage(e1, 7, 8), stage(e2, 9, 9)]},
        trace=trace(cam, e1, e2, 0.0001),
    )
    client = as_person(bob)
    body = client.get(f"/api/jobs/{job.pk}/topology/").json()
    assert body["run"]["kind"] == "job" and body["frames"] == 1 and body["slow_stage"] == 2
    assert client.get("/api/jobs/999999/topology/").status_code == 404
    missing = client.get("/api/sessions/00000000-0000-0000-0000-000000000000/topology/")
    assert missing.status_code == 404 and "detail" in missing.json()


def deploy(digits, *devices, cuts: str = "6,8") -> Deployment:
    """A ready deployment of digits' segments on ``devices``, one stage each, as ``create_deployment``
    leaves it (its stages' segment fields do not matter here)."""
    ids = [str(d.pk) for d in devices]
    return Deployment.objects.create(
        key="k" * 64,
        model=digits,
        cuts=cuts,
        stages=[{"stage": k, "device": pk} for k, pk in enumerate(ids)],
        devices=list(dict.fromkeys(ids)),
        ready_devices=ids,
        state="ready",
    )


def test_a_deployments_topology_times_its_stages_over_the_frames_and_jobs_of_every_run_on_it(
    session, three, digits, bob
):
    cam, e1, e2 = three
    deployment = deploy(digits, cam, e1, e2)
    Session.objects.filter(pk=session.pk).update(deployment=deployment)  # 30 frames, edge-1 slow (40 ms)
    job = Job.objects.create(
        model=digits,
        source=cam,
        strategy="multi-device",
        timeout_s=10,
        base_url="http://cp",
        state="completed",
        plan=session.plan,
        deployment=deployment,
        trace=trace(cam, e1, e2, 0.0001),
    )
    Job.objects.filter(pk=job.pk).update(finished_at=job.created_at)
    measurements.record_link(cam, e1, 80e6, 0.002)
    client = as_person(bob)

    body = client.get(f"/api/deployments/{deployment.pk}/topology/").json()
    assert body["deployment"]["id"] == str(deployment.pk) and body["deployment"]["state"] == "ready"
    assert [(r["kind"], r["id"]) for r in body["runs"]] == [
        ("job", str(job.pk)),
        ("session", str(session.pk)),
    ]
    assert body["runs"][1]["source_name"] == "cam"
    assert body["run"] == {**body["run"], "kind": "job", "id": str(job.pk)}  # the newest draws the path
    assert [d["name"] for d in body["devices"]] == ["cam", "edge-1", "edge-2"]
    assert [s["blocks"] for s in body["stages"]] == [[0, 6], [7, 8], [9, 9]]
    assert body["path"] == [str(cam.pk), str(e1.pk), str(e2.pk), str(cam.pk)]
    assert body["frames"] == 20 and body["slow_stage"] == 1  # the session's frames outnumber the job
    assert body["hops"][0]["link"]["bandwidth_bps"] == 80e6

    # Only the newest frame or job counts: the job, on which edge-1 was fast.
    body = client.get(f"/api/deployments/{deployment.pk}/topology/?frames=1").json()
    assert body["frames"] == 1 and body["slow_stage"] == 2


def test_a_deployment_no_run_is_on_shows_its_stages_alone_and_an_unknown_one_is_a_404(three, digits, bob):
    cam, e1, e2 = three
    deployment = deploy(digits, e1, e2, cuts="4")
    client = as_person(bob)
    body = client.get(f"/api/deployments/{deployment.pk}/topology/").json()
    assert body["run"] is None and body["runs"] == [] and body["frames"] == 0
    assert [d["name"] for d in body["devices"]] == ["edge-1", "edge-2"]
    assert [s["blocks"] for s in body["stages"]] == [[0, 4], [5, 9]]
    assert [(h["kind"], h["from_name"], h["to_name"]) for h in body["hops"]] == [
        ("activation", "edge-1", "edge-2")
    ]
    assert body["path"] == [str(e1.pk), str(e2.pk)] and body["slow_stage"] is None
    missing = client.get("/api/deployments/00000000-0000-0000-0000-000000000000/topology/")
    assert missing.status_code == 404 and "detail" in missing.json()
    assert APIClient().get(f"/api/deployments/{deployment.pk}/topology/").status_code in (401, 403)


def test_the_deployment_topology_page_is_linked_from_the_runs_on_it(session, three, digits, bob, client):
    deployment = deploy(digits, *three)
    # The record page reads the planner's predictions of each stage, as a real plan has them.
    plan = {
        "stages": [{**s, "queue": 0.0, "compute": 0.001, "transfer": 0.0} for s in session.plan["stages"]]
    }
    Session.objects.filter(pk=session.pk).update(deployment=deployment, plan=plan)
    client.force_login(bob)
    page = client.get(f"/live/deployments/{deployment.pk}/topology/").content.decode()
    assert f'data-url="/api/deployments/{deployment.pk}/topology/"' in page
    assert f"session:{session.pk}" in page  # its live session's frames re-time the stages
    assert 'id="topology-runs"' in page
    link = f"/live/deployments/{deployment.pk}/topology/"
    assert link in client.get(f"/runs/sessions/{session.pk}/").content.decode()
    assert link in client.get(f"/live/sessions/{session.pk}/topology/").content.decode()
    assert link in client.get(f"/live/sessions/{session.pk}/").content.decode()
    assert client.get("/live/deployments/00000000-0000-0000-0000-000000000000/topology/").status_code == 404
