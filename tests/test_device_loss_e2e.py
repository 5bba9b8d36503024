"""A device lost mid-run: its runs fail as soon as its socket closes, naming it and its stage, and a failed
session still counts the frames that completed. Real agents killed with SIGKILL, on both backends."""

from __future__ import annotations

import os
import signal
import time

import pytest

from edgeorch.jobs.models import Frame, Session

from .support import finished, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.demo, pytest.mark.e2e]

# The server's job timeout in these tests is 20 s (conftest.server_env): failing well inside it means the
# disconnect failed the run, not the timeout sweep.
PROMPTLY_S = 5.0


def start_stream(api, digits, phone, edge, frames=600, rate=20.0, cut=3):
    """A stream split at ``cut`` (0: offloaded) from phone to edge, once ten of its frames are reported."""
    response = api.post(
        api.base + "/api/sessions/",
        json={
            "model": digits.pk,
            "source": phone.device_id,
            "strategy": "split",
            "params": {"cut": cut, "device": edge.device_id},
            "rate": rate,
            "frames": frames,
            "sample": 1,
        },
        timeout=10,
    )
    assert response.status_code == 202, response.text
    session = response.json()["id"]
    wait_until(
        lambda: Frame.objects.filter(session_id=session, ok=True).count() >= 10,
        timeout=30,
        message="ten frames reported",
    )
    return session


def kill(agent) -> float:
    os.killpg(agent.proc.pid, signal.SIGKILL)
    agent.proc.wait()
    return time.time()


def test_a_session_whose_edge_dies_fails_at_once_naming_it_and_counts_the_frames_that_completed(
    fleet, api, digits
):
    phone, edge = fleet("phone", "edge")
    session = start_stream(api, digits, phone, edge)
    # The device pages show which stages each device ran for the stream's frames (on SQLite too).
    for agent, stage in ((phone, 0), (edge, 1)):
        snapshot = api.get(f"{api.base}/api/dashboard/devices/{agent.device_id}/", timeout=10)
        assert snapshot.status_code == 200, snapshot.text
        stages = snapshot.json()["stages"]
        assert (
            stages and {s["stage"] for s in stages} == {stage} and {s["session"] for s in stages} == {session}
        )
    killed_at = kill(edge)
    body = finished(api, "sessions", session, timeout=15)
    assert body["state"] == "failed", body
    assert body["reason"] == "device edge disconnected during stage 1" and body["failed_stage"] == 1
    assert Session.objects.get(pk=session).finished_at.timestamp() - killed_at < PROMPTLY_S
    assert body["frames_ok"] >= 10 and body["frames_sent"] >= body["frames_ok"]
    assert body["summary"]["ok"] == body["frames_ok"] and body["summary"]["latency_s"]["p50"] > 0

    # The source lives on: the frames it still reports, and its own count once the stop reaches it, refine
    # the tally; the session stays failed.
    def settled():
        row = Session.objects.get(pk=session)
        ok = Frame.objects.filter(session_id=session, ok=True).count()
        return row if row.frames_ok == ok == row.summary["ok"] else None

    row = wait_until(settled, timeout=10, message="the source's count")
    assert row.state == "failed" and row.frames_ok >= body["frames_ok"]


def test_a_session_whose_source_dies_fails_at_once_naming_the_source_and_keeps_its_frames(fleet, api, digits):
    phone, edge = fleet("phone", "edge")
    session = start_stream(api, digits, phone, edge)
    killed_at = kill(phone)
    body = finished(api, "sessions", session, timeout=15)
    assert body["state"] == "failed", body
    assert body["reason"] == "device phone disconnected during stage 0" and body["failed_stage"] == 0
    assert Session.objects.get(pk=session).finished_at.timestamp() - killed_at < PROMPTLY_S
    stored = Frame.objects.filter(session_id=session)
    assert body["frames_sent"] == stored.count() >= 10
    assert body["frames_ok"] == stored.filter(ok=True).count() >= 10
    assert body["summary"]["frames"] == body["frames_sent"] and body["summary"]["ok"] == body["frames_ok"]


def test_an_offloaded_session_whose_source_dies_fails_at_once_naming_the_source(fleet, api, digits):
    """The source runs no stage of an offloaded stream, but every frame starts and ends there."""
    phone, edge = fleet("phone", "edge")
    session = start_stream(api, digits, phone, edge, cut=0)
    killed_at = kill(phone)
    body = finished(api, "sessions", session, timeout=15)
    assert body["state"] == "failed", body
    assert body["reason"].startswith("device phone disconnected: it is the stream's source"), body["reason"]
    assert body["failed_stage"] == -1
    assert Session.objects.get(pk=session).finished_at.timestamp() - killed_at < PROMPTLY_S
    assert body["frames_ok"] == Frame.objects.filter(session_id=session, ok=True).count() >= 10
