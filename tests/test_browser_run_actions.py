"""Cancelling a running job and stopping a running session from their pages, with real agents, in a real
browser (see test_browser.py for the set-up), on the demo configuration too (SQLite in the demo tier): each
asks first, and the new state arrives over the page's socket, without a reload; a job's page that sees its job
complete shows the result and the timeline in place.

Screenshots are saved under the test's ``tmp_path`` (``screenshots/``).
"""

from __future__ import annotations

import os
import signal

import pytest

from . import test_browser
from .support import finished, submit, wait_until
from .test_browser import live, log_in, sync_api, watch

# test_browser's fixtures (the module skips with it where Chromium is missing).
browser, page, shots = test_browser.browser, test_browser.page, test_browser.shots

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.demo]

MARK = "() => { window.__notReloaded = true; }"
STILL_MARKED = "() => window.__notReloaded === true"


def confirm(page, button: str, answer: bool) -> str:
    """Click ``button`` and answer its confirmation; the question asked."""
    asked: list[str] = []

    def reply(dialog):
        asked.append(dialog.message)
        dialog.accept() if answer else dialog.dismiss()

    page.once("dialog", reply)
    page.click(button)
    assert asked, f"{button} asked nothing"
    return asked[0]


def test_an_operator_cancels_a_running_job_and_stops_a_session_from_their_pages_and_sees_it_live(
    page, live_server_proc, fleet, api, digits, alice, shots
):
    from edgeorch.jobs.models import Job, Session

    expect = sync_api.expect
    phone, edge = fleet("phone", "edge")
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)
    # The edge's agent paused (a real process, stopped): the job waits at its stage on the edge, running.
    split = {"model": digits.pk, "source": phone.device_id, "strategy": "split"}
    split["params"] = {"cut": 4, "device": edge.device_id}
    assert finished(api, "jobs", submit(api, **split))["state"] == "completed"  # deployed on the edge
    os.killpg(edge.proc.pid, signal.SIGSTOP)
    try:
        job, other = submit(api, **split), submit(api, **split)
        for pk in (job, other):
            wait_until(lambda pk=pk: Job.objects.filter(pk=pk, state="running").exists(), message="running")
        page.goto(f"{live_server_proc.url}/runs/jobs/{job}/")
        live(page)
        page.evaluate(MARK)
        assert confirm(page, "#cancel-run", answer=False) == f"Cancel job {job}?"
        assert Job.objects.get(pk=job).state == "running"  # dismissed: nothing sent
        confirm(page, "#cancel-run", answer=True)
        expect(page.locator("#job-state")).to_have_text("cancelled")
        expect(page.locator("#reason")).to_contain_text("cancelled by alice")
        expect(page.locator("#cancel-run")).to_have_count(0)
        assert page.evaluate(STILL_MARKED), "the page reloaded"
        assert Job.objects.get(pk=job).state == "cancelled"
        page.screenshot(path=shots / "job-cancelled.png", full_page=True)
        # The other job, left to run: its page shows the result and the timeline when the edge wakes up.
        page.goto(f"{live_server_proc.url}/runs/jobs/{other}/")
        live(page)
        page.evaluate(MARK)
    finally:
        os.killpg(edge.proc.pid, signal.SIGCONT)
    expect(page.locator("#job-state")).to_have_text("completed", timeout=30000)
    expect(page.locator("#gantt.js-plotly-plot")).to_have_count(1)
    assert page.evaluate(STILL_MARKED), "the page reloaded"
    assert Job.objects.get(pk=job).state == "cancelled"  # the edge's late answer did not revive it

    body = {"model": digits.pk, "source": phone.device_id, "strategy": "local", "rate": 5, "frames": 5000}
    started = api.post(api.base + "/api/sessions/", json=body, timeout=10)
    assert started.status_code == 202, started.text
    session = started.json()["id"]
    wait_until(lambda: Session.objects.filter(pk=session, state="running").exists(), message="running")
    page.goto(f"{live_server_proc.url}/live/sessions/{session}/")
    live(page)
    page.evaluate(MARK)
    question = confirm(page, "#stop-run", answer=True)
    assert question.startswith("Stop this session?"), question
    expect(page.locator("#session-state")).to_have_text("cancelled")
    expect(page.locator("#stop-run")).to_have_count(0)
    assert page.evaluate(STILL_MARKED), "the page reloaded"
    assert Session.objects.get(pk=session).reason.startswith("cancelled by alice")
    page.screenshot(path=shots / "session-stopped.png", full_page=True)
    assert not problems, problems
