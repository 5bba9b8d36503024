"""Scenarios end to end: ``run_scenario`` on a short bandwidth collapse with a live Daphne, a real Celery
worker and real agent processes (started by the command itself): the adaptive session switches plan, says why,
and loses or repeats no frame; the report has every strategy and the oracle."""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse
from django.utils.html import escape

from edgeorch.jobs.models import Frame, PlanSwitch, Session

from .support import run_scenario, token_for

pytestmark = pytest.mark.django_db(transaction=True)


COLLAPSE = {
    "name": "tiny-collapse",
    "description": "100 Mbit/s, then 2 Mbit/s from t=3 s.",
    "model": "mobilenetv2",
    "window_s": 3,
    "strategies": ["device-edge", "adaptive"],
    "devices": [
        {"name": "cam", "role": "end", "profile": "rpi4"},
        {"name": "edge", "role": "edge", "profile": "edge-server"},
    ],
    "links": [
        {"between": ["cam", "edge"], "bandwidth_bps": {"steps": [[0, 1.0e8], [3, 2.0e6]]}, "rtt_s": 0.004}
    ],
    "session": {"source": "cam", "rate": 4, "duration_s": 10, "deadline_s": 0.5},
}


@pytest.mark.usefixtures("worker")
def test_an_adaptive_session_switches_plan_on_a_bandwidth_collapse_without_losing_a_frame(
    live_server_proc, server_env, tmp_path, alice, client
):
    report, report_path = run_scenario(COLLAPSE, server_env, live_server_proc, tmp_path, "tiny")
    assert set(report["strategies"]) == {"device-edge", "adaptive", "oracle"}
    for row in report["strategies"].values():
        assert row["oracle_ratio"] is not None and row["oracle_ratio"] > 0.5
    # Which strategy is faster is a benchmark's question (bench/bench_scenarios.py), not this test's.
    row = report["strategies"]["adaptive"]
    assert row["state"] == "completed", row
    assert row["missing"] == 0 and row["duplicates"] == 0
    assert report_path.with_suffix(".md").read_text().count("| adaptive |") == 1

    session = Session.objects.get(strategy="adaptive")
    assert sorted(Frame.objects.filter(session=session).values_list("request_id", flat=True)) == list(
        range(40)
    )
    assert session.frames_sent == 40
    switches = list(PlanSwitch.objects.filter(session=session))
    assert switches, session.adaptation.get("log")
    # A look may first refine the plan (a calibration); the collapse itself must move work onto the camera:
    # the raw input no longer crosses the collapsed link (everything local, or a later, smaller cut).
    collapse = next((w for w in switches if "drift: link" in w.reason), None)
    assert collapse is not None, [w.reason for w in switches]
    assert "Mbit/s" in collapse.reason and collapse.predicted_new_s < collapse.predicted_old_s
    source = str(session.source_id)[:8]
    assert collapse.new_plan.startswith(source), collapse.new_plan
    assert blocks_on(source, collapse.new_plan) > blocks_on(source, collapse.old_plan), collapse
    assert report["strategies"]["adaptive"]["switches"] == len(switches)

    # The switches are in the session's REST snapshot and marked on its page.
    headers = {"Authorization": f"Token {token_for(alice)}"}
    body = requests.get(
        f"{live_server_proc.url}/api/sessions/{session.pk}/", headers=headers, timeout=10
    ).json()
    assert [w["reason"] for w in body["switches"]] == [w.reason for w in switches]
    client.force_login(alice)
    page = client.get(reverse("jobs:session", args=[session.pk])).content.decode()
    assert 'id="plan-switches"' in page and escape(collapse.new_plan) in page  # "->" is HTML-escaped


def blocks_on(device: str, plan: str) -> int:
    """How many blocks a plan summary (``ab12cd34[0-22] -> ef56ab78[23-49]``) puts on ``device``."""
    count = 0
    for stage in plan.split(" -> "):
        name, _, span = stage.partition("[")
        first, _, last = span.rstrip("]").partition("-")
        if name == device:
            count += int(last) - int(first) + 1
    return count
