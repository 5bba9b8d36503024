"""Fault injection end to end: ``run_scenario`` on a short scenario whose edge server's agent is killed
(SIGKILL, by the scenario's fleet) mid-stream, under failover ``none`` and ``cold``, with a live Daphne, a
real Celery worker and real agent processes. Under cold the report shows the failure recovered and no frame
lost; under none the session failed; the killed agent is back for the second run."""

from __future__ import annotations

import pytest

from edgeorch.jobs.models import Failure, Session

from .support import run_scenario

pytestmark = pytest.mark.django_db(transaction=True)

FRAMES = 40
EDGE_DIES = {
    "name": "tiny-edge-dies",
    "model": "digits-cnn",
    "window_s": 2,
    # A split whose first stage runs on the camera: a frame the camera has not yet handed to the dead edge is
    # kept for the failover route (a first stage on the edge, as in offload, is not yet: docs/scenarios.md).
    "strategies": [{"split": {"cut": 3, "device": "edge"}}],
    "failover": ["none", "cold"],
    "devices": [
        {"name": "cam", "role": "end", "profile": "rpi4"},
        {"name": "edge", "role": "edge", "profile": "edge-server"},
    ],
    "links": [{"between": ["cam", "edge"], "bandwidth_bps": 5.0e7, "rtt_s": 0.004}],
    "session": {"source": "cam", "rate": 10, "frames": FRAMES, "sample": 1, "max_in_flight": 4},
    "faults": [{"at": 1.5, "kill": "edge"}],
}


@pytest.mark.usefixtures("worker")
def test_a_killed_edge_fails_the_session_under_none_and_loses_no_frame_under_cold(
    live_server_proc, server_env, tmp_path
):
    report, report_path = run_scenario(EDGE_DIES, server_env, live_server_proc, tmp_path, "edge-dies")
    assert set(report["strategies"]) == {"split:none", "split:cold", "oracle"}
    none, cold = report["strategies"]["split:none"], report["strategies"]["split:cold"]
    for row in (none, cold):
        (kill,) = row["faults"]["injected"]
        assert kill["action"] == "kill" and "error" not in kill, kill

    assert none["state"] == "failed" and "edge" in none["reason"], none
    assert none["faults"]["failures"] == 0 and none["faults"]["frames_lost"] > 0

    f = cold["faults"]
    assert cold["state"] == "completed", (cold["state"], cold["reason"], f["failure_log"])
    assert f["failures"] == f["recovered"] == 1, f["failure_log"]
    assert f["frames_lost"] == 0 and f["frames_unreported"] == 0 and cold["duplicates"] == 0, f["errors"]
    assert f["mttr_s"] is not None and 0 < f["mttr_s"] < 10
    assert f["accuracy"] is not None  # sample 1's class is known
    assert none["faults"]["accuracy"] in (f["accuracy"], None)

    # The cold run started with the full fleet: the edge killed in the first run was revived for it.
    session = Session.objects.get(pk=next(r["session"] for r in report["runs"] if r["policy"] == "cold"))
    (failure,) = Failure.objects.filter(session=session)
    assert failure.device_name == "edge" and failure.outcome == "recovered"
    assert "| split:cold | completed | 1 (1) |" in report_path.with_suffix(".md").read_text()
