"""Failover end to end: a stream split between a phone and an edge server whose edge agent is killed with
SIGKILL mid-stream. With ``failover: cold`` the session goes on — the control plane re-plans over the devices
left (here the phone alone: local fallback), deploys, and switches the phone to it; the phone sends the frames
that were cut off again — and every frame is answered exactly once, right. With ``none`` it fails, as before
(tests/test_device_loss_e2e.py)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from edgeorch.jobs.models import Failure, Frame, PlanSwitch, Session

from .support import finished, full_model_output, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

FRAMES = 120


def test_a_cold_failover_session_loses_its_edge_and_answers_every_frame_on_the_phone(fleet, api, digits):
    phone, edge = fleet("phone", "edge")
    response = api.post(
        api.base + "/api/sessions/",
        json={
            "model": digits.pk,
            "source": phone.device_id,
            "strategy": "split",
            "params": {"cut": 3, "device": edge.device_id},
            "rate": 30,
            "frames": FRAMES,
            "max_in_flight": 4,
            "sample": 1,
            "failover": "cold",
        },
        timeout=10,
    )
    assert response.status_code == 202, response.text
    session = response.json()["id"]
    assert response.json()["failover"] == "cold"
    wait_until(
        lambda: Frame.objects.filter(session_id=session, ok=True).count() >= 10,
        timeout=30,
        message="ten frames on the split",
    )
    os.killpg(edge.proc.pid, signal.SIGKILL)
    edge.proc.wait()

    body = finished(api, "sessions", session, timeout=60)
    assert body["state"] == "completed", (body, phone.log()[-3000:])
    assert body["frames_sent"] == body["frames_ok"] == FRAMES  # nothing lost
    frames = list(Frame.objects.filter(session_id=session).order_by("request_id"))
    assert [f.request_id for f in frames] == list(range(FRAMES))  # each once
    assert all(f.ok for f in frames), [f.error for f in frames if not f.ok]
    # Every answer is the model's: the sample's class on the split and on the phone alone alike.
    sample_top = int(np.argmax(full_model_output(digits, _sample(digits))))
    assert {f.output["top_k"][0][0] for f in frames} == {sample_top}
    before = [f for f in frames if {t["device"] for t in f.trace} == {phone.device_id, edge.device_id}]
    after = [f for f in frames if {t["device"] for t in f.trace} == {phone.device_id}]
    assert before and after and len(before) + len(after) == FRAMES
    assert max(f.request_id for f in before) < max(f.request_id for f in after)
    resent = [f for f in frames if f.resent]
    # Frames sent after the kill and before the switch failed at the phone's hand-over to the edge: sent again.
    assert resent, "no frame was cut off"
    assert all(f in after for f in resent) and all(f.failover_s is not None for f in resent)

    failure = Failure.objects.get(session_id=session)
    assert failure.device_name == "edge" and failure.stage == 1 and failure.policy == "cold"
    assert failure.outcome == "recovered" and failure.mttr_s is not None and failure.mttr_s > 0
    switch = PlanSwitch.objects.get(session_id=session)
    assert failure.switch_id == switch.pk and "edge lost" in switch.reason
    detail = api.get(f"{api.base}/api/sessions/{session}/", timeout=10).json()
    (shown,) = detail["failures"]
    assert shown["outcome"] == "recovered" and shown["mttr_s"] == pytest.approx(failure.mttr_s)
    assert Session.objects.get(pk=session).reason == ""


def _sample(digits):
    from edgeorch.jobs.inputs import sample

    return sample(digits, 1)
