"""The topology page of a running three-stage session and a model's graph with its cut points, in a real
browser (see test_browser.py for the set-up), on the demo configuration too (SQLite in the demo tier).

Screenshots are saved under the test's ``tmp_path`` (``screenshots/``).
"""

from __future__ import annotations

import re

import pytest

from . import test_browser
from .support import finished, submit, wait_until
from .test_browser import log_in, sync_api, watch

# test_browser's fixtures (the module skips with it where Chromium is missing).
browser, page, shots = test_browser.browser, test_browser.page, test_browser.shots

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.demo]

NODE_LABELS = "() => EO.topology.nodes().map((n) => n.data('label'))"
# The graph drawn with the three devices, three stages and three hops whose first two name a measured link.
DRAWN = """() => EO.topology && EO.topology.nodes("[kind = 'stage']").length === 3
  && EO.topology.edges("[hop = 'yes']").length === 3
  && EO.topology.edges("[hop = 'yes']").map((e) => e.data('label')).slice(0, 2)
    .every((label) => /[MG]bit\\/s/.test(label))"""


def expect_three_stages_on_three_devices(page) -> None:
    """The topology page, settled, shows cam → edge-1 → edge-2 and back, with one slow stage in the graph
    and the tables (Playwright's expectations retry until the page agrees)."""
    expect = sync_api.expect
    expect(page.locator("#topology")).to_have_attribute("data-devices", "3")
    expect(page.locator("#topology")).to_have_attribute("data-slow-stage", re.compile(r"^\d$"))
    # A frame's path: the activations cam → edge-1 → edge-2 and the result back, each with its bytes and
    # the probed link's bandwidth where one was measured (cam and edge-1 probed theirs).
    expect(page.locator("#topology-hops tbody tr td:nth-child(1)")).to_have_text(["cam", "edge-1", "edge-2"])
    expect(page.locator("#topology-hops tbody tr td:nth-child(2)")).to_have_text(["edge-1", "edge-2", "cam"])
    expect(page.locator("#topology-stages tbody tr.slow")).to_have_count(1)
    page.wait_for_function(DRAWN)
    labels = page.evaluate(NODE_LABELS)
    for name in ("cam (source)", "edge-1", "edge-2"):
        assert any(label.startswith(name) for label in labels), labels
    slow = page.get_attribute("#topology", "data-slow-stage")
    expect(page.locator("#topology-stages tbody tr.slow")).to_have_attribute("data-stage", slow)
    assert page.evaluate("() => EO.topology.nodes(\"[slow = 'yes']\").map((n) => n.id())") == [f"s:{slow}"]


def test_the_topology_of_a_three_stage_session_and_job_shows_devices_links_and_slow_stage_live(
    page, live_server_proc, fleet, api, digits, alice, shots
):
    from edgeorch.plans.models import LinkSample

    from .test_jobs_e2e import emulate_profiles

    expect = sync_api.expect
    cam, e1, e2 = fleet("cam", "edge-1", "edge-2")
    # Each device fast on its own blocks (cuts after blocks 6 and 8, where no fusion breaks): the planner
    # chains the three.
    emulate_profiles(digits, {cam.device_id: set(range(7)), e1.device_id: {7, 8}, e2.device_id: {9}})
    for agent in (cam, e1):
        assert api.post(f"{api.base}/api/devices/{agent.device_id}/probe/", timeout=10).status_code == 202
    wait_until(lambda: LinkSample.objects.filter(device_to__isnull=False).count() >= 3, message="probed")
    body = {"model": digits.pk, "source": cam.device_id, "strategy": "multi-device", "rate": 10, "frames": 80}
    started = api.post(api.base + "/api/sessions/", json=body, timeout=10)
    assert started.status_code == 202, started.text
    session = started.json()["id"]

    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)
    page.goto(f"{live_server_proc.url}/live/sessions/{session}/")
    page.click("#topology-link")
    page.wait_for_url(f"**/live/sessions/{session}/topology/")
    expect_three_stages_on_three_devices(page)
    assert page.text_content("#run-state") != "completed"  # drawn while it runs
    page.screenshot(path=shots / "topology.png", full_page=True)
    # Live: the session's end arrives over the socket, no reload.
    expect(page.locator("#run-state")).to_have_text("completed", timeout=30000)
    expect(page.locator("#topology")).to_have_attribute("data-frames", "20")
    page.screenshot(path=shots / "topology-completed.png", full_page=True)

    # A job on the same fleet: its page links its topology, drawn from its one trace.
    job = finished(api, "jobs", submit(api, model=digits.pk, source=cam.device_id, strategy="multi-device"))
    assert job["state"] == "completed", job
    page.goto(f"{live_server_proc.url}/runs/jobs/{job['id']}/")
    page.click("#topology-link")
    page.wait_for_url(f"**/live/jobs/{job['id']}/topology/")
    expect(page.locator("#run-state")).to_have_text("completed")
    expect(page.locator("#topology")).to_have_attribute("data-frames", "1")
    expect_three_stages_on_three_devices(page)
    expect(page.locator("#topology-frames")).to_have_text("measured from its trace")
    page.screenshot(path=shots / "job-topology.png", full_page=True)
    assert not problems, problems


def test_a_models_graph_marks_its_cut_points_with_their_bytes(page, live_server_proc, digits, alice, shots):
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)
    page.goto(f"{live_server_proc.url}/models/{digits.pk}/")
    page.wait_for_selector("#model-graph[data-cuts]")
    cuts = list(digits.cut_points.order_by("index"))
    assert page.get_attribute("#model-graph", "data-cuts") == str(len(cuts))
    assert page.get_attribute("#model-graph", "data-nodes") == str(
        10 + len(digits.inputs) + len(digits.outputs)
    )
    labels = page.evaluate("() => EO.modelGraph.edges('[cut]').map((e) => e.data('label'))")
    six = next(c for c in cuts if c.index == 6)
    assert f"cut 6 · {six.bytes / 1024:.1f} KiB" in labels or f"cut 6 · {six.bytes} B" in labels, labels
    page.locator("#model-graph").scroll_into_view_if_needed()
    page.screenshot(path=shots / "model-graph.png", full_page=True)
    assert not problems, problems


def test_a_deployments_topology_follows_a_session_started_after_the_page_loaded(
    page, live_server_proc, fleet, api, digits, alice, shots
):
    """The deployment's page, open before a session on it starts, lists that session and re-times the
    stages from its frames while it runs, without a reload (it subscribes to the session's topic once a
    run's state change says it is there)."""
    from edgeorch.jobs.models import Session

    expect = sync_api.expect
    cam, edge = fleet("cam", "edge")
    split = {
        "model": digits.pk,
        "source": cam.device_id,
        "strategy": "split",
        "params": {"cut": 3, "device": edge.device_id},
    }
    job = finished(api, "jobs", submit(api, **split))
    assert job["state"] == "completed", job
    deployment = job["deployment"]

    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)
    page.goto(f"{live_server_proc.url}/live/deployments/{deployment}/topology/")
    expect(page.locator("#topology")).to_have_attribute("data-runs", "1")
    expect(page.locator("#topology")).to_have_attribute("data-frames", "1")  # the job's trace
    page.wait_for_selector("#live-status[data-state=on]")

    # A long session on the same placement, started now: slow enough that its end is far away.
    started = api.post(api.base + "/api/sessions/", json={**split, "rate": 10, "frames": 5000}, timeout=10)
    assert started.status_code == 202, started.text
    session = started.json()["id"]
    wait_until(lambda: Session.objects.filter(pk=session, state="running").exists(), message="running")
    assert str(Session.objects.get(pk=session).deployment_id) == deployment  # the same segments
    expect(page.locator(f"#topology-runs tr[data-run='session:{session}']")).to_have_count(1)
    # Its frames re-time the stages as they come: the newest 20 of the job's and its answered frames,
    # reached while it still runs (its state changes alone would not fetch the view again before its end).
    expect(page.locator("#topology")).to_have_attribute("data-frames", "20", timeout=30000)
    assert Session.objects.get(pk=session).state == "running"
    expect(page.locator(f"#topology-runs tr[data-run='session:{session}'] .badge")).to_have_text("running")
    page.screenshot(path=shots / "deployment-topology-followed.png", full_page=True)
    assert api.post(f"{api.base}/api/sessions/{session}/stop/", timeout=10).status_code == 200
    expect(page.locator(f"#topology-runs tr[data-run='session:{session}'] .badge")).to_have_text("cancelled")
    assert not problems, problems
