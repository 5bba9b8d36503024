"""Failover end to end, with real agents killed by SIGKILL mid-stream. With ``failover: cold`` the control
plane re-plans over the devices left, deploys and switches the source, which sends the frames that were cut
off again; with ``warm`` a standby deployment loaded ahead takes over; either way every frame is answered
exactly once, right. Losing the only edge falls back to the phone alone (on a smaller variant of the model
where the full one would miss the deadline there); losing the middle node of a three-node pipeline re-plans
the chain over the two left. With ``none`` the session fails, as before
(tests/test_device_loss_e2e.py)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from edgeorch.devices.models import Device
from edgeorch.jobs.models import Failure, Frame, PlanSwitch, Session

from .support import finished, full_model_output, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

FRAMES = 120


def start(api, digits, source, failover: str, **plan) -> str:
    body = {
        "model": digits.pk,
        "source": source.device_id,
        "rate": 30,
        "frames": FRAMES,
        "max_in_flight": 4,
        "sample": 1,
        "failover": failover,
        **plan,
    }
    response = api.post(api.base + "/api/sessions/", json=body, timeout=10)
    assert response.status_code == 202, response.text
    assert response.json()["failover"] == failover
    session = response.json()["id"]
    wait_until(
        lambda: Frame.objects.filter(session_id=session, ok=True).count() >= 10,
        timeout=30,
        message="ten frames answered",
    )
    return session


def kill(agent) -> None:
    os.killpg(agent.proc.pid, signal.SIGKILL)
    agent.proc.wait()


def answered_once_and_right(api, digits, session, source) -> list[Frame]:
    """The session completes with every frame answered exactly once, each the model's answer."""
    body = finished(api, "sessions", session, timeout=60)
    assert body["state"] == "completed", (body, source.log()[-3000:])
    assert body["frames_sent"] == body["frames_ok"] == FRAMES  # nothing lost
    frames = list(Frame.objects.filter(session_id=session).order_by("request_id"))
    assert [f.request_id for f in frames] == list(range(FRAMES))  # each once
    assert all(f.ok for f in frames), [f.error for f in frames if not f.ok]
    from edgeorch.jobs.inputs import sample

    top = int(np.argmax(full_model_output(digits, sample(digits, 1))))
    assert {f.output["top_k"][0][0] for f in frames} == {top}
    # Frames sent after the kill and before the switch were cut off, and sent again on the new route.
    resent = [f for f in frames if f.resent]
    assert resent and all(f.failover_s is not None for f in resent)
    return frames


def devices_of(frame: Frame) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t["device"] for t in frame.trace))


@pytest.mark.parametrize("policy", ["cold", "warm"])
def test_a_session_that_loses_its_only_edge_falls_back_to_the_phone_and_loses_no_frame(
    fleet, api, digits, policy, client, alice
):
    phone, edge = fleet("phone", "edge")
    split = {"strategy": "split", "params": {"cut": 3, "device": edge.device_id}}
    session = start(api, digits, phone, policy, **split)
    if policy == "warm":
        # The standby for the edge's loss (the phone alone) is loaded before anything fails.
        row = wait_until(
            lambda: (s := Session.objects.get(pk=session)).standbys and s, timeout=30, message="a standby"
        )
        (standby,) = row.standbys.values()
        assert list(row.standbys) == [edge.device_id]
        assert (
            set(standby["memory_bytes"]) == {phone.device_id} and standby["memory_bytes"][phone.device_id] > 0
        )
    kill(edge)
    frames = answered_once_and_right(api, digits, session, phone)
    routes = [devices_of(f) for f in frames]
    assert routes[0] == (phone.device_id, edge.device_id) and routes[-1] == (phone.device_id,)
    assert len([k for k in range(1, FRAMES) if routes[k] != routes[k - 1]]) == 1  # one switch, for good

    failure = Failure.objects.get(session_id=session)
    assert (failure.device_name, failure.stage, failure.policy) == ("edge", 1, policy)
    assert failure.takeover == policy  # warm: the standby took over; cold: planned and deployed then
    assert failure.outcome == "recovered" and failure.mttr_s is not None and failure.mttr_s > 0
    switch = PlanSwitch.objects.get(session_id=session)
    assert failure.switch_id == switch.pk and "edge lost" in switch.reason
    (shown,) = api.get(f"{api.base}/api/sessions/{session}/", timeout=10).json()["failures"]
    assert shown["outcome"] == "recovered" and shown["mttr_s"] == pytest.approx(failure.mttr_s)
    assert Session.objects.get(pk=session).reason == ""
    # The operator sees it: on the session's record and on the fleet page.
    client.force_login(alice)
    record = client.get(f"/runs/sessions/{session}/").content.decode()
    assert 'id="failures"' in record and "recovered" in record and f"{policy}</td>" in record
    fleet_page = client.get("/").content.decode()
    assert 'id="fleet-failures"' in fleet_page and str(session)[:8] in fleet_page


def test_a_pipeline_that_loses_its_middle_node_is_re_planned_over_the_two_left(fleet, api, digits):
    from .test_jobs_e2e import emulate_profiles

    cam, middle, last = fleet("cam", "edge-1", "edge-2")
    # Cut where no fusion breaks (after blocks 6 and 8: catalog/fusion.py), so the chain pays no penalty.
    emulate_profiles(digits, {cam.device_id: set(range(7)), middle.device_id: {7, 8}, last.device_id: {9}})
    session = start(api, digits, cam, "cold", strategy="multi-device")
    assert devices_of(Frame.objects.filter(session_id=session, ok=True).first()) == (
        cam.device_id,
        middle.device_id,
        last.device_id,
    )
    kill(middle)
    frames = answered_once_and_right(api, digits, session, cam)
    after = devices_of(frames[-1])
    assert middle.device_id not in after and after[0] == cam.device_id
    assert Device.objects.get(pk=middle.device_id).status == "offline"
    failure = Failure.objects.get(session_id=session)
    assert failure.device_name == "edge-1" and failure.outcome == "recovered"


def test_the_edge_coming_back_for_good_takes_the_session_back_to_the_split(fleet, api, digits):
    """Local fallback when the only edge dies, and back to the split once the edge has been back for the
    hold time (2 s here; the worker's ``EDGEORCH_FAILBACK_HOLD``): two switches in all."""
    phone, edge = fleet("phone", "edge")
    split = {"strategy": "split", "params": {"cut": 3, "device": edge.device_id}}
    session = start(api, digits, phone, "cold", **{**split, "rate": 20, "frames": 400})
    kill(edge)
    failure = wait_until(
        lambda: Failure.objects.filter(session_id=session, outcome="recovered").first(),
        timeout=30,
        message="failed over to the phone",
    )
    edge.start()
    failure = wait_until(
        lambda: (f := Failure.objects.get(pk=failure.pk)).restored_at and f, timeout=30, message="restored"
    )
    online_since = Device.objects.get(pk=edge.device_id).connected_at
    assert (failure.restored_at - online_since).total_seconds() >= 2.0  # not before the hold
    body = finished(api, "sessions", session, timeout=60)
    assert body["state"] == "completed" and body["frames_ok"] == 400, body
    assert PlanSwitch.objects.filter(session_id=session).count() == 2  # to the phone, and back
    frames = list(Frame.objects.filter(session_id=session).order_by("request_id"))
    routes = [devices_of(f) for f in frames]
    split_route = (phone.device_id, edge.device_id)
    assert routes[0] == split_route and routes[-1] == split_route
    assert (phone.device_id,) in routes


def test_a_second_camera_takes_over_the_stream_when_the_first_dies(fleet, api, digits):
    """Sensing redundancy: two cameras watch the same scene; the session's source dies and the backup
    source goes on with the stream from the next frame, planned with itself as the source."""
    cam1, cam2, edge = fleet("cam-1", "cam-2", "edge")
    split = {"strategy": "local", "backup_sources": ["cam-2"], "rate": 30, "frames": 150}
    session = start(api, digits, cam1, "cold", **split)
    assert api.get(f"{api.base}/api/sessions/{session}/", timeout=10).json()["backup_sources"] == [
        cam2.device_id
    ]
    kill(cam1)
    body = finished(api, "sessions", session, timeout=60)
    assert body["state"] == "completed", (body, cam2.log()[-3000:])
    frames = list(Frame.objects.filter(session_id=session).order_by("request_id"))
    ids = [f.request_id for f in frames]
    assert len(ids) == len(set(ids)) and ids[-1] == 149  # each once, to the end
    assert len(ids) >= 140  # at most the frames in flight on the dead camera are missing
    assert body["frames_sent"] == len(frames) and body["frames_ok"] == sum(f.ok for f in frames)
    sources = [f.trace[0]["device"] for f in frames if f.ok and f.trace]
    assert sources[0] == cam1.device_id and sources[-1] == cam2.device_id
    failure = Failure.objects.get(session_id=session)
    assert (failure.device_name, failure.stage, failure.takeover) == ("cam-1", -1, "source")
    assert failure.outcome == "recovered" and failure.mttr_s is not None
    assert str(Session.objects.get(pk=session).source_id) == cam2.device_id
    refused = api.post(
        api.base + "/api/sessions/",
        json={"model": digits.pk, "source": "cam-2", "rate": 1, "frames": 1, "backup_sources": ["cam-2"]},
        timeout=10,
    )
    assert refused.status_code == 400 and "backup" in refused.text


def test_a_phone_too_slow_for_the_deadline_falls_back_to_the_narrow_model_and_returns_to_the_full_one(
    fleet, api, digits, narrow, client, alice
):
    """Progressive failover: with the edge gone, the full model on the phone alone would miss the 50 ms
    deadline (the phone is profiled at 10 ms a block), its half-width variant would not; the phone answers
    with the variant, each answer saying so, until the edge has been back for the hold time, and the
    session returns to the full model's split. A frame cut off by the loss whose deadline passed while it
    waited for the new route fails with 'deadline:', saying so, rather than coming late."""
    from edgeorch.jobs.inputs import sample

    from .test_jobs_e2e import emulate_profiles

    phone, edge = fleet("phone", "edge")
    emulate_profiles(digits, {phone.device_id: set(), edge.device_id: set(range(len(digits.blocks)))})
    emulate_profiles(narrow, {phone.device_id: set(range(len(narrow.blocks)))})
    split = {"strategy": "split", "params": {"cut": 3, "device": edge.device_id}}
    session = start(api, digits, phone, "cold", **split, rate=20, frames=400, deadline_s=0.05)
    kill(edge)
    failure = wait_until(
        lambda: Failure.objects.filter(session_id=session, outcome="recovered").first(),
        timeout=30,
        message="failed over to the variant on the phone",
    )
    assert failure.fallback["model"]["name"] == "digits-cnn-narrow"
    assert failure.fallback["accuracy_cost"] == pytest.approx(digits.accuracy - narrow.accuracy, abs=1e-4)
    assert failure.fallback["full_latency"] > 0.05  # why: the full model would miss the deadline there
    assert "digits-cnn-narrow" in failure.switch.new_plan
    edge.start()
    wait_until(
        lambda: Failure.objects.get(pk=failure.pk).restored_at, timeout=30, message="back to the full model"
    )
    body = finished(api, "sessions", session, timeout=60)
    frames = list(Frame.objects.filter(session_id=session).order_by("request_id"))
    assert [f.request_id for f in frames] == list(range(400))  # none lost, each once
    late = [f for f in frames if not f.ok]
    assert body["state"] == "completed" and body["frames_ok"] == 400 - len(late), body
    for frame in late:  # cut off by the loss, its deadline passed during the recovery: failed, saying so
        if frame.dropped:  # or it was sent again in time, but a stage found its deadline out of reach
            assert frame.error.startswith("dropped") and frame.resent, frame.error  # docs/qos.md
            continue
        assert frame.error.startswith("deadline: 50 ms passed during recovery"), frame.error
        assert frame.failover_s is not None and frame.latency_s > 0.05 and not frame.resent
    if failure.replanned_s > 0.1:  # the frames in flight at the loss waited at least that long
        assert late
    frames = [f for f in frames if f.ok]
    models = [f.model_id for f in frames]
    assert models[0] == models[-1] == digits.pk and narrow.pk in models
    x = sample(digits, 1)
    want = {m.pk: int(np.argmax(full_model_output(m, x))) for m in (digits, narrow)}
    for frame in frames:  # each answer is the answering model's own
        assert frame.output["top_k"][0][0] == want[frame.model_id]
        if frame.model_id == narrow.pk:
            assert devices_of(frame) == (phone.device_id,)
    page = api.get(f"{api.base}/api/sessions/{session}/frames/?limit=400", timeout=10).json()["results"]
    assert {row["model"] for row in page} == {str(digits), str(narrow)}
    client.force_login(alice)  # the operator sees which model answered, and what it cost
    record = client.get(f"/runs/sessions/{session}/").content.decode()
    cost = f"{failure.fallback['accuracy_cost']:.3f}"
    assert f'<td class="fallback">digits-cnn-narrow (accuracy −{cost})</td>' in record
