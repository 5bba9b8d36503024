"""The Content-Security-Policy (#17 item 7) as a browser enforces it: every page of the demo, its charts, the
API docs and the admin run with no violation (headless Chromium, as in test_browser.py, on the demo
configuration too: SQLite in the demo tier)."""

from __future__ import annotations

import pytest

from . import test_browser
from .support import finished, submit
from .test_browser import log_in

# test_browser's fixtures (the module skips with it where Chromium is missing).
browser, shots = test_browser.browser, test_browser.shots


@pytest.fixture
def page(browser):
    """A page that enforces the CSP, as a user's browser does (the other browser tests' page bypasses it)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.demo]

# Each violation the page reports (the event fires on the document for scripts, styles, frames, connections).
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
  `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
"""
# Something each page draws by script, so that a page whose scripts were refused fails here too.
DRAWN = {
    "model": ("#cut-chart.js-plotly-plot", "#model-graph canvas"),
    "topology": "#topology canvas",
    "job-topology": "#topology canvas",
    "deployment-topology": "#topology canvas",
    "job": "#gantt.js-plotly-plot",
    "api-docs": ".swagger-ui .info",
}


def test_every_page_runs_without_a_content_security_policy_violation(
    page, live_server_proc, fleet, api, digits, alice, shots
):
    camera, edge = fleet("camera", "edge")
    split = {"model": digits.pk, "source": camera.device_id, "strategy": "split"}
    split["params"] = {"cut": 3, "device": edge.device_id}
    done = finished(api, "jobs", submit(api, **split))
    job, deployment = done["id"], done["deployment"]
    started = api.post(api.base + "/api/sessions/", json={**split, "rate": 20, "frames": 10}, timeout=10)
    session = finished(api, "sessions", started.json()["id"], timeout=40)["id"]  # its pages, in any state
    page.context.add_init_script(LISTEN)
    refused: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and refused.append(m.text))
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    pages = {
        "fleet": "/",
        "users": "/users/",
        "run-form": "/run/",
        "session-live": f"/live/sessions/{session}/",
        "topology": f"/live/sessions/{session}/topology/",
        "runs": "/runs/",
        "job": f"/runs/jobs/{job}/",
        "job-topology": f"/live/jobs/{job}/topology/",
        "deployment-topology": f"/live/deployments/{deployment}/topology/",
        "session": f"/runs/sessions/{session}/",
        "models": "/models/",
        "model": f"/models/{digits.pk}/",
        "plans": "/plans/",
        "enrollment": "/enroll/",
        "alerts": "/alerts/",
        "api-key": "/account/api-key/",
        "api-docs": "/api/docs/",
        "admin": "/admin/",
    }
    for name, path in pages.items():
        response = page.goto(live_server_proc.url + path)
        assert response.status == 200, (path, response.status)
        script_src = response.headers["content-security-policy"].split("script-src ")[1].split(";")[0]
        assert script_src.startswith("'self'") and "unsafe" not in script_src, (path, script_src)
        page.wait_for_load_state("networkidle")
        drawn = DRAWN.get(name, ())
        for selector in (drawn,) if isinstance(drawn, str) else drawn:
            page.wait_for_selector(selector, state="attached")
        page.screenshot(path=shots / f"{name}.png", full_page=True)
        assert page.evaluate("window.__violations") == [] and refused == [], (path, refused)
    # The enrollment page's one inline script (the copy button), shown with a new token.
    page.goto(live_server_proc.url + "/enroll/")
    page.fill("input[name=name]", "csp")
    page.click("button:has-text('Create token')")
    page.wait_for_selector("#copy-install-command")
    page.screenshot(path=shots / "enrollment-created.png", full_page=True)
    assert page.evaluate("window.__violations") == [] and refused == [], refused
