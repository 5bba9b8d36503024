"""Split inference end to end: a live Daphne, a real Celery worker, real agent processes passing activations
peer to peer, on PostgreSQL and Redis, with the digits CNN of the zoo."""

from __future__ import annotations

import json
import os
import signal
import time
from io import BytesIO

import numpy as np
import pytest
import requests

from edgeorch.devices.models import Device
from edgeorch.jobs.models import Deployment, Job, Session

from .support import finished, full_model_output, input_of, output_of, submit, token_for, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.demo]


def test_a_job_split_across_two_agents_returns_the_full_models_output(fleet, api, digits, client, alice):
    phone, edge = fleet("phone", "edge")
    body = finished(
        api,
        "jobs",
        submit(
            api,
            model=digits.pk,
            source=phone.device_id,
            strategy="split",
            params={"cut": 3, "device": edge.device_id},
            sample=7,
        ),
    )
    assert body["state"] == "completed", body
    assert [s["device"] for s in body["stages"]] == [phone.device_id, edge.device_id]
    for stage in body["stages"]:
        assert stage["measured"]["compute_s"] > 0
    assert body["stages"][0]["measured"]["transfer_s"] > 0  # the activation crossed between agents
    assert body["predicted_latency_s"] > 0 and body["measured_latency_s"] > 0
    assert body["prediction_error"] is not None
    expected = full_model_output(digits, input_of(body["id"]))
    assert np.allclose(output_of(api, body["id"]), expected, atol=1e-5)
    assert body["output"]["top_k"][0][0] == int(np.argmax(expected))
    client.force_login(alice)
    page = client.get(f"/runs/jobs/{body['id']}/")
    assert page.status_code == 200 and 'id="gantt"' in page.content.decode()
    assert client.get("/runs/").status_code == 200


def test_an_offloaded_job_starts_at_its_source_which_sends_the_input_to_the_edge(
    fleet, api, digits, client, alice
):
    phone, edge = fleet("phone", "edge")
    body = finished(
        api,
        "jobs",
        submit(
            api,
            model=digits.pk,
            source=phone.device_id,
            strategy="split",
            params={"cut": 0, "device": edge.device_id},
            sample=3,
        ),
    )
    assert body["state"] == "completed", body
    source, first = body["stages"][0], body["stages"][1]
    assert source["input"] and source["stage"] == -1 and source["device"] == phone.device_id
    assert source["measured"]["transfer_s"] > 0  # the input crossed from phone to edge over the data plane
    assert source["predicted"]["transfer_s"] == body["plan"]["input_transfer"] > 0
    assert first["device"] == edge.device_id and first["measured"]["compute_s"] > 0
    assert np.allclose(output_of(api, body["id"]), full_model_output(digits, input_of(body["id"])), atol=1e-5)
    client.force_login(alice)
    response = client.get(f"/runs/jobs/{body['id']}/")
    page = response.content.decode()
    assert "<td>input</td><td>phone</td><td>its input, to stage 0</td>" in page
    # Where the time went: every part of the gap between predicted and measured, the parts within the
    # measured latency adding up to it (the control plane's share is what the stages' traces do not cover).
    gaps = {g["part"]: g for g in response.context["gaps"]}
    assert list(gaps) == ["deploy", "queue", "compute", "transfer", "control"] and 'id="gaps"' in page
    assert gaps["deploy"]["measured"] > 0 and gaps["compute"]["measured"] == pytest.approx(
        first["measured"]["compute_s"]
    )
    within = sum(gaps[p]["measured"] for p in ("queue", "compute", "transfer", "control"))
    assert within == pytest.approx(body["measured_latency_s"], abs=1e-9)
    assert gaps["compute"]["gap"] == pytest.approx(gaps["compute"]["measured"] - gaps["compute"]["predicted"])
    assert "runs.js" not in page  # a finished job's page has nothing left to follow


def test_a_job_honours_the_codec_it_asks_for(fleet, api, digits):
    phone, edge = fleet("phone", "edge")
    split = {"cut": 1, "device": edge.device_id}
    raw = finished(
        api,
        "jobs",
        submit(api, model=digits.pk, source=phone.device_id, strategy="split", params=split, sample=2),
    )
    int8 = finished(
        api,
        "jobs",
        submit(
            api,
            model=digits.pk,
            source=phone.device_id,
            strategy="split",
            params=split,
            sample=2,
            codec="int8",
        ),
    )
    assert raw["state"] == int8["state"] == "completed", (raw, int8)
    hops = [s["next"] for s in Deployment.objects.get(pk=int8["deployment"]).stages if s["next"]]
    assert [h["codec"] for h in hops] == ["int8"]
    assert raw["deployment"] != int8["deployment"]
    exact, quantised = output_of(api, raw["id"]), output_of(api, int8["id"])
    assert not np.array_equal(exact, quantised)  # the activation really went through int8
    assert np.allclose(exact, quantised, atol=0.5) and np.argmax(exact) == np.argmax(quantised)


def emulate_profiles(model, fast_blocks: dict):
    """Block profiles where each device is fast (0.1 ms) on its own blocks and slow (10 ms) elsewhere."""
    from edgeorch.plans import measurements
    from edgeorch.plans.choices import ProfileSource

    n = len(model.blocks)
    for device_id, fast in fast_blocks.items():
        times = [{"block": i, "median_s": 1e-4 if i in fast else 1e-2, "runs": 5} for i in range(n)]
        measurements.record_profile(
            Device.objects.get(pk=device_id), model, times, source=ProfileSource.EMULATED
        )


def test_a_multi_device_job_chains_three_agents(fleet, api, digits):
    a, b, c = fleet("cam", "edge-1", "edge-2")
    # Cut where no fusion breaks (after blocks 6 and 8: catalog/fusion.py), so the chain pays no penalty.
    emulate_profiles(digits, {a.device_id: set(range(7)), b.device_id: {7, 8}, c.device_id: {9}})
    body = finished(
        api, "jobs", submit(api, model=digits.pk, source=a.device_id, strategy="multi-device", sample=0)
    )
    assert body["state"] == "completed", body
    assert [s["device"] for s in body["stages"]] == [a.device_id, b.device_id, c.device_id]
    assert all(s["measured"] for s in body["stages"])
    assert np.allclose(output_of(api, body["id"]), full_model_output(digits, input_of(body["id"])), atol=1e-5)


def test_a_stream_session_keeps_several_frames_in_flight(fleet, api, digits, client, alice):
    phone, edge = fleet("phone", "edge")
    response = api.post(
        api.base + "/api/sessions/",
        json={
            "model": digits.pk,
            "source": phone.device_id,
            "strategy": "split",
            # Frames offered far faster than one takes (0.2 ms apart), so up to 4 are always in the pipeline.
            "params": {"cut": 3, "device": edge.device_id},
            "rate": 5000,
            "frames": 40,
            "deadline_s": 1.0,
            "max_in_flight": 4,
            "sample": 1,
        },
        timeout=10,
    )
    assert response.status_code == 202, response.text
    body = finished(api, "sessions", response.json()["id"], timeout=40)
    assert body["state"] == "completed", body
    assert body["frames_sent"] == 40 and body["frames_ok"] == 40
    summary = body["summary"]
    assert summary["frames"] == 40 and summary["deadline_misses"] == 0
    assert summary["latency_s"]["p50"] > 0 and summary["latency_s"]["p99"] >= summary["latency_s"]["p50"]
    assert summary["throughput_fps"] > 0
    assert summary["overlapped"] > 0  # pipelining: a frame entered before the previous one had left
    frames = api.get(f"{api.base}/api/sessions/{body['id']}/frames/", timeout=10).json()["results"]
    assert len(frames) == 40 and {len(f["trace"]) for f in frames} == {2}
    client.force_login(alice)
    page = client.get(f"/runs/sessions/{body['id']}/")
    assert page.status_code == 200 and 'id="frame-latency"' in page.content.decode()


def test_an_agent_killed_mid_job_fails_the_job_at_its_stage_and_the_next_job_plans_around_it(
    fleet, api, digits
):
    phone, edge = fleet("phone", "edge")
    split = {
        "model": digits.pk,
        "source": phone.device_id,
        "strategy": "split",
        "params": {"cut": 2, "device": edge.device_id},
    }
    assert finished(api, "jobs", submit(api, **split))["state"] == "completed"  # deployed and warm
    os.killpg(edge.proc.pid, signal.SIGSTOP)  # the edge hangs with the activation on its way to it
    try:
        job = submit(api, **split)
        wait_until(lambda: Job.objects.filter(pk=job, state="running").exists(), message="job running")
        time.sleep(0.3)
    finally:
        os.killpg(edge.proc.pid, signal.SIGKILL)
        os.killpg(edge.proc.pid, signal.SIGCONT)
    body = finished(api, "jobs", job, timeout=15)
    assert body["state"] == "failed"
    assert body["failed_stage"] == 1 and "edge disconnected during stage 1" in body["reason"]
    assert not Job.objects.filter(state__in=["pending", "planning", "deploying", "running"]).exists()
    after = finished(
        api,
        "jobs",
        submit(
            api,
            model=digits.pk,
            source=phone.device_id,
            strategy="multi-device",
            devices=[phone.device_id, edge.device_id],
        ),
    )
    assert after["state"] == "completed", after
    assert {s["device"] for s in after["stages"]} == {phone.device_id}


def test_a_job_that_outlives_its_timeout_fails_saying_where_it_waited_and_cancel_ends_a_running_job(
    fleet, api, digits
):
    phone, edge = fleet("phone", "edge")
    split = {
        "model": digits.pk,
        "source": phone.device_id,
        "strategy": "split",
        "params": {"cut": 4, "device": edge.device_id},
    }
    assert finished(api, "jobs", submit(api, **split))["state"] == "completed"
    os.killpg(edge.proc.pid, signal.SIGSTOP)
    try:
        late = finished(api, "jobs", submit(api, **split, timeout_s=1.5), timeout=15)
        assert late["state"] == "failed", late
        assert late["reason"].startswith("timed out after 1.5 s at stage 1 (edge)"), late["reason"]
        assert late["failed_stage"] == 1
        job = submit(api, **split)
        wait_until(lambda: Job.objects.filter(pk=job, state="running").exists(), message="job running")
        response = api.post(f"{api.base}/api/jobs/{job}/cancel/", timeout=10)
        assert response.status_code == 200 and response.json()["state"] == "cancelled"
        assert api.post(f"{api.base}/api/jobs/{job}/cancel/", timeout=10).status_code == 409
    finally:
        os.killpg(edge.proc.pid, signal.SIGCONT)
    time.sleep(1.0)  # the edge wakes up and finishes: the late result must not revive the cancelled job
    assert Job.objects.get(pk=job).state == "cancelled"


def test_bad_requests_are_refused_with_messages_and_bob_cannot_submit(fleet, api, digits, bob):
    (phone,) = fleet("phone")
    url = api.base + "/api/jobs/"
    good = {"model": digits.pk, "source": phone.device_id}
    wrong = BytesIO()
    np.save(wrong, np.zeros((1, 1, 4, 4), dtype=np.float32))
    upload = {"input": ("x.npy", wrong.getvalue())}
    response = api.post(url + "upload/", data=good, files=upload, timeout=10)
    assert response.status_code == 400 and "must have shape [1, 1, 8, 8]" in response.text
    # POST /api/jobs/ takes JSON only, as its schema says: a form is refused, naming the upload path.
    response = api.post(url, data=good, files=upload, timeout=10)
    assert response.status_code == 415 and "/api/jobs/upload/" in response.json()["detail"], response.text
    response = api.post(url, json={**good, "model": "no-such-model"}, timeout=10)
    assert response.status_code == 400 and "no model 'no-such-model'" in response.text
    response = api.post(url, json={**good, "source": "8d4f6c3e-0000-4000-8000-000000000000"}, timeout=10)
    assert response.status_code == 400 and "no device" in response.text
    response = api.post(url, json={**good, "strategy": "teleport"}, timeout=10)
    assert response.status_code == 400 and "unknown strategy 'teleport'" in response.text
    response = api.post(url, json={**good, "strategy": "split", "params": {"k": 2}}, timeout=10)
    assert response.status_code == 400 and "split takes no parameter k" in response.text
    response = api.post(url, json={**good, "codec": "jpeg"}, timeout=10)
    assert response.status_code == 400 and "unknown codec 'jpeg'" in response.text
    viewer = {"Authorization": f"Token {token_for(bob)}"}
    assert requests.post(url, json=good, headers=viewer, timeout=10).status_code == 403
    assert requests.get(url, headers=viewer, timeout=10).status_code == 200
    assert not Job.objects.exists() and not Session.objects.exists()


def test_profiling_and_probing_store_what_the_planner_reads(fleet, api, digits):
    from edgeorch.plans.models import BlockProfile, LinkSample

    phone, edge = fleet("phone", "edge")
    response = api.post(
        f"{api.base}/api/devices/{phone.device_id}/profile/",
        json={"model": digits.pk, "warmup": 1, "repeats": 3},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    profile_id = response.json()["id"]
    response = api.post(f"{api.base}/api/devices/{phone.device_id}/probe/", timeout=10)
    assert response.status_code == 202, response.text
    probe_id = response.json()["id"]
    for pk in (profile_id, probe_id):
        wait_until(
            lambda pk=pk: (
                api.get(f"{api.base}/api/measurements/{pk}/", timeout=10).json()["state"] != "pending"
            ),
            message=f"measurement {pk}",
        )
    profile = BlockProfile.objects.get(device_id=phone.device_id, model=digits)
    assert profile.complete and len(profile.median_s) == len(digits.blocks) and profile.runs == 3
    assert all(p90 >= median for median, p90 in zip(profile.median_s, profile.p90_s, strict=True))
    link = LinkSample.objects.get(device_from_id=phone.device_id, device_to_id=edge.device_id)
    assert link.bandwidth_bps > 0 and link.rtt_s > 0
    plan = finished(api, "jobs", submit(api, model=digits.pk, source=phone.device_id, strategy="local"))[
        "plan"
    ]
    assert plan["devices"][0]["times"] == "measured"  # the planner used the stored profile


def test_a_profiles_progress_reaches_the_dashboard_block_by_block_in_order_then_done(
    fleet, api, digits, client, alice
):
    """The agent says how far it has got after each block; a dashboard following the device sees each step,
    in order, and then the profile done."""
    from websockets.sync.client import connect

    (phone,) = fleet("phone")
    client.force_login(alice)
    url = api.base.replace("http://", "ws://") + "/ws/dashboard/"
    headers = {"Cookie": f"sessionid={client.cookies['sessionid'].value}", "Origin": api.base}
    with connect(url, additional_headers=headers, open_timeout=10) as ws:
        ws.send(json.dumps({"subscribe": [f"device:{phone.device_id}"]}))
        assert json.loads(ws.recv(timeout=10)) == {"subscribed": [f"device:{phone.device_id}"]}
        response = api.post(
            f"{api.base}/api/devices/{phone.device_id}/profile/",
            json={"model": digits.pk, "warmup": 1, "repeats": 2},
            timeout=10,
        )
        assert response.status_code == 202, response.text
        total = response.json()["result"]["total"]
        steps = []
        while not steps or steps[-1][0] == "pending":
            event = json.loads(ws.recv(timeout=60))
            if event["kind"] == "profile.progress":
                data = event["data"]
                assert data["measurement"] == response.json()["id"] and data["model_name"] == str(digits)
                steps.append((data["state"], data["done"], data["total"]))
    assert total == len(digits.blocks) > 1
    assert steps == [*(("pending", done, total) for done in range(total + 1)), ("done", total, total)]
    measurement = api.get(f"{api.base}/api/measurements/{response.json()['id']}/", timeout=10).json()
    assert measurement["state"] == "done" and len(measurement["result"]["blocks"]) == total


def test_profile_fleet_measures_every_model_on_every_online_device_once(fleet, digits):
    """What `make demo` runs in the background after its agents start: each device profiled on the catalog's
    models, so the planner starts from measured times; a second run has nothing left to do."""
    from io import StringIO

    from django.core.management import call_command

    from edgeorch.plans.measurements import latest_profile

    phone, edge = fleet("phone", "edge")
    out = StringIO()
    call_command("profile_fleet", stdout=out)
    assert out.getvalue().rstrip().endswith("2 profile(s) measured"), out.getvalue()
    for agent in (phone, edge):
        assert latest_profile(Device.objects.get(pk=agent.device_id), digits) is not None
    again = StringIO()
    call_command("profile_fleet", stdout=again)
    assert again.getvalue().strip() == "0 profile(s) measured"
