"""The dashboard in a real browser: headless Debian Chromium against a live Daphne with real agent processes.

Screenshots of every page visited are saved under the test's ``tmp_path`` (``screenshots/``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgeorch.devices import services

from .support import finished, submit, wait_until

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still plain
    # synchronous code between browser steps, so Django's async-safety guard does not apply to them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    # bypass_csp: Playwright's wait_for_function evaluates its predicate from a string, which the pages'
    # strict CSP refuses once it has to poll (seen once under load). The CSP test uses its own page.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(15000)
    sync_api.expect.set_options(timeout=15000)  # Playwright's expectations: the same patience
    yield context.new_page()
    context.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


def log_in(page, server, user: str, password: str) -> None:
    page.goto(server.url + "/accounts/login/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")


def live(page) -> None:
    """Wait until the page's socket is subscribed and its snapshot loaded (the green dot)."""
    page.wait_for_selector("#live-status[data-state=on]")


def test_an_anonymous_visitor_is_sent_to_log_in(page, live_server_proc, shots):
    for path in ["/", "/enroll/", "/run/"]:
        page.goto(live_server_proc.url + path)
        assert "/accounts/login/" in page.url
    page.screenshot(path=shots / "login.png", full_page=True)


def test_a_newly_enrolled_agent_appears_on_the_fleet_page_and_its_charts_grow(
    page, live_server_proc, agents, alice, shots
):
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    live(page)
    assert page.locator("#devices tbody tr.empty").count() == 1
    page.screenshot(path=shots / "fleet-empty.png", full_page=True)

    _, token = services.create_enrollment_token(max_uses=1)
    agent = agents("pi-browser")
    assert agent.enroll(token).returncode == 0
    agent.start()
    # No reload: the enrollment and the agent's telemetry arrive over the dashboard socket.
    row = page.locator("#devices tbody tr", has_text="pi-browser")
    row.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#devices tbody tr')]"
        ".some(r => r.textContent.includes('Online') && r.textContent.includes('%'))"
    )
    page.screenshot(path=shots / "fleet.png", full_page=True)

    row.locator("a", has_text="pi-browser").click()
    page.wait_for_url(f"**/devices/{agent.device_id}/")
    live(page)
    page.wait_for_function("() => Number(document.getElementById('chart-cpu').dataset.points || 0) >= 1")
    first = int(page.get_attribute("#chart-cpu", "data-points"))
    # The chart grows live: 5 s buckets, so a new point within ~6 s.
    page.wait_for_function(
        f"() => Number(document.getElementById('chart-cpu').dataset.points) > {first}", timeout=20000
    )
    # This machine (and CI) has no thermal sensors and the agent has no emulated profile to invent them, so
    # the temperature chart must say "no sensor" rather than draw zeros; CPU above is the chart that grows.
    temp_points = int(page.get_attribute("#chart-temp", "data-points") or 0)
    if temp_points == 0:
        assert page.is_visible("#temp-nosensor")
    page.screenshot(path=shots / "device.png", full_page=True)


def test_the_main_pages_render_in_one_design(page, live_server_proc, alice, shots):
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    for name, path in [
        ("users", "/users/"),
        ("models", "/models/"),
        ("plans", "/plans/"),
        ("runs", "/runs/"),
        ("run-form", "/run/"),
        ("enrollment", "/enroll/"),
        ("alerts", "/alerts/"),
        ("api-key", "/account/api-key/"),
    ]:
        response = page.goto(live_server_proc.url + path)
        assert response.status == 200, path
        assert page.locator("header.top nav a.active").count() == (0 if name == "api-key" else 1), path
        page.screenshot(path=shots / f"{name}.png", full_page=True)


def test_a_server_restart_reconnects_the_page(page, live_server_proc, alice, shots):
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    live(page)
    live_server_proc.stop()
    page.wait_for_selector("#live-status[data-state=retrying]")
    live_server_proc.start()
    wait_until(
        lambda: page.get_attribute("#live-status", "data-state") == "on", timeout=40, message="reconnect"
    )


def test_a_session_started_from_the_form_fills_its_latency_chart(
    page, live_server_proc, fleet, digits, alice, shots
):
    phone, edge = fleet("phone", "edge")
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    page.goto(live_server_proc.url + "/run/")
    page.select_option("select[name=kind]", "session")
    page.select_option("select[name=model]", str(digits.pk))
    page.select_option("select[name=strategy]", "device-edge")
    page.select_option("select[name=source]", phone.device_id)
    page.fill("input[name=rate]", "20")
    page.fill("input[name=frames]", "30")
    page.select_option("select[name=failover]", "cold")
    page.wait_for_selector("#plan-latency:not(:text('—'))")  # the planner's prediction, before running
    page.screenshot(path=shots / "run.png", full_page=True)
    page.click("#run-start")
    page.wait_for_url("**/live/sessions/**")
    live(page)
    page.wait_for_function(
        "Number(document.getElementById('chart-latency').dataset.frames || 0) >= 30", timeout=30000
    )
    page.screenshot(path=shots / "session.png", full_page=True)
    assert page.text_content("#stat-predicted").endswith("ms")  # the plan's prediction beside the measured
    session_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    from edgeorch.jobs.models import Session

    session = wait_until(
        lambda: Session.objects.filter(pk=session_id, state="completed").first(), message="done"
    )
    assert session.frame_records.count() == 30 and session.source_id is not None
    assert session.failover == "cold"  # the form's failover policy
    # Ended while the page was open: its Stop button goes with the live state.
    page.wait_for_selector("#session-state.completed")
    assert page.query_selector("#stop-run") is None


def test_the_run_form_posts_the_chosen_strategys_parameters(
    page, live_server_proc, fleet, digits, alice, shots
):
    """Choosing a strategy shows its parameters only (the registry's); those filled in go with the run, typed,
    and the blank ones are left to their defaults: here qoe-bandit split by ans, both learners at once. Its
    live page charts the arm each frame took against what the source learned."""
    from edgeorch.jobs.models import Session

    phone, edge = fleet("phone", "edge")
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    page.goto(live_server_proc.url + "/run/")
    page.select_option("select[name=kind]", "job")
    assert not page.is_visible("input[name=rate]")  # a one-shot job has no rate, frames or deadline
    page.select_option("select[name=kind]", "session")
    assert page.is_visible("input[name=rate]")
    page.select_option("select[name=model]", str(digits.pk))
    page.select_option("select[name=source]", phone.device_id)
    page.select_option("select[name=strategy]", "qoe-bandit")
    assert page.is_visible("select[name='qoe-bandit.split']") and not page.is_visible(
        "input[name='pipeline.k']"
    )
    page.select_option("select[name='qoe-bandit.split']", "ans")
    # A parameter the planner refuses: no plan, the old prediction gone, Start disabled with the reason.
    page.wait_for_selector("#plan-strategy:text('qoe-bandit')")
    page.fill("input[name='qoe-bandit.window']", "0.5")
    page.wait_for_selector("#run-start[disabled]")
    assert page.text_content("#plan-latency") == "—"
    assert page.get_attribute("#run-start", "title").startswith("Cannot start: qoe-bandit: window")
    page.fill("input[name='qoe-bandit.window']", "5")
    page.select_option("select[name='qoe-bandit.edge']", edge.device_id)
    page.select_option("select[name='qoe-bandit.prune']", "false")
    page.fill("input[name=rate]", "20")
    page.fill("input[name=frames]", "10")
    page.wait_for_selector("#plan-strategy:text('qoe-bandit')")  # the prediction asked with the parameters
    page.screenshot(path=shots / "run-params.png", full_page=True)
    page.click("#run-start")
    page.wait_for_url("**/live/sessions/**")
    session_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    session = Session.objects.get(pk=session_id)
    assert session.strategy == "qoe-bandit"
    assert session.params == {"split": "ans", "window": 5, "edge": edge.device_id, "prune": False}
    # The live page draws each frame's arm and, dashed, what the source learned of the arms.
    live(page)
    page.wait_for_function(
        "Number(document.getElementById('chart-arms').dataset.frames || 0) >= 10"
        " && Number(document.getElementById('chart-arms').dataset.learned || 0) >= 1",
        timeout=30000,
    )
    page.screenshot(path=shots / "arms.png", full_page=True)
    rows = page.query_selector_all("#arms-table tbody tr")
    answered = sum(int(r.query_selector_all("td")[1].text_content()) for r in rows)
    assert answered == 10  # every frame under the arm it took
    wait_until(lambda: Session.objects.filter(pk=session_id, state="completed").exists(), message="done")


@pytest.mark.demo
def test_runs_are_started_and_stopped_from_the_pages(
    page, live_server_proc, fleet, digits, alice, bob, api, shots
):
    """Run is in the navigation and the lists have a New run button; a running session's page has a Stop
    button (confirmed first) that stops it; an ended job has no Cancel; a viewer sees neither."""
    from edgeorch.jobs.models import Session

    (phone,) = fleet("phone")
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    page.click("nav >> text=Jobs & Sessions")
    page.click("#new-run")
    page.wait_for_url("**/run/")
    assert page.get_attribute("nav a.active", "href") == "/run/"
    page.select_option("select[name=kind]", "session")
    page.select_option("select[name=model]", str(digits.pk))
    page.select_option("select[name=strategy]", "local")
    page.select_option("select[name=source]", phone.device_id)
    page.fill("input[name=rate]", "5")
    page.fill("input[name=frames]", "5000")
    page.wait_for_selector("#plan-latency:not(:text('—'))")
    page.click("#run-start")
    page.wait_for_url("**/live/sessions/**")
    session_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    wait_until(lambda: Session.objects.filter(pk=session_id, state="running").exists(), message="running")
    page.goto(page.url)  # rendered while running: the Stop button is there
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#stop-run")
    stopped = wait_until(
        lambda: Session.objects.filter(pk=session_id, state="cancelled").first(), message="stopped"
    )
    assert stopped.reason.startswith("cancelled by alice")
    page.wait_for_selector("#session-state.cancelled")
    page.screenshot(path=shots / "stopped.png", full_page=True)
    assert page.query_selector("#stop-run") is None  # ended: nothing to stop
    # The list follows runs live: a job submitted while it is open appears there, completed, unreloaded by
    # hand; a finished job has no Cancel button.
    page.goto(live_server_proc.url + "/runs/")
    page.wait_for_selector("#live-status[data-state=on]")
    job = finished(
        api, "jobs", submit(api, model=digits.pk, source=phone.device_id, strategy="local", sample=0)
    )
    page.wait_for_selector(f"#jobs tr:has(a[href='/runs/jobs/{job['id']}/']) >> td:text-is('completed')")
    page.goto(live_server_proc.url + f"/runs/jobs/{job['id']}/")
    assert page.query_selector("#cancel-run") is None
    # A viewer sees a running session without the button.
    again = api.post(
        api.base + "/api/sessions/",
        json={"model": digits.pk, "source": phone.device_id, "strategy": "local", "rate": 5, "frames": 5000},
        timeout=10,
    ).json()["id"]
    wait_until(lambda: Session.objects.filter(pk=again, state="running").exists(), message="running again")
    page.context.clear_cookies()  # logged out
    log_in(page, live_server_proc, "bob", "bob-pass-123")
    page.goto(live_server_proc.url + f"/live/sessions/{again}/")
    assert page.query_selector("#stop-run") is None
    assert api.post(f"{api.base}/api/sessions/{again}/stop/", timeout=10).status_code == 200


# --- the demo configuration: every page, as a new user of `make demo` sees it (SQLite in the demo tier) ---

EMPTY_CHARTS = """() => [...new Set(document.querySelectorAll('.chart, .js-plotly-plot, .plotly-graph-div'))]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => !(el.data || []).some((t) => ['x', 'y', 'values', 'z'].some((k) => t[k] && t[k].length)))
  .map((el) => el.id || el.className)"""


# Every visible axis of every chart with a title (units in it where the axis has any): Plotly draws an axis
# without one silently.
UNTITLED_AXES = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter((el) => el.offsetParent !== null && el._fullLayout)
  .flatMap((el) => Object.entries(el._fullLayout)
    .filter(([key, axis]) => /^[xy]axis[0-9]*$/.test(key) && axis && axis.visible !== false && axis._id)
    .filter(([key, axis]) => !((axis.title && axis.title.text) || '').trim())
    .map(([key]) => `${el.id || el.className}: ${key}`))"""


def demo_fleet(agents, api, digits):
    """The demo's shape: an emulated Raspberry Pi camera node and an edge server, a job and a stream run on
    them, their links probed; returns (camera, edge, job id, session id)."""
    from edgeorch.devices.models import Device

    started = []
    for name, profile in (("camera-pi", "rpi4"), ("edge-1", "edge-server")):
        _, token = services.create_enrollment_token(max_uses=1)
        agent = agents(name)
        assert agent.enroll(token, "--profile", profile).returncode == 0
        started.append(agent.start())
    for agent in started:
        wait_until(
            lambda a=agent: Device.objects.filter(
                pk=a.device_id, status="online", dataplane_port__isnull=False
            ).exists(),
            message=f"{agent.name} online",
        )
    camera, edge = started
    split = {
        "model": digits.pk,
        "source": camera.device_id,
        "strategy": "split",
        "params": {"cut": 3, "device": edge.device_id},
    }
    job = finished(api, "jobs", submit(api, **split))
    assert job["state"] == "completed", job
    response = api.post(
        api.base + "/api/sessions/", json={**split, "rate": 20, "frames": 30, "sample": 2}, timeout=10
    )
    assert response.status_code == 202, response.text
    session = finished(api, "sessions", response.json()["id"], timeout=40)
    assert session["state"] == "completed", session
    assert api.post(f"{api.base}/api/devices/{camera.device_id}/probe/", timeout=10).status_code == 202
    wait_until(
        lambda: api.get(f"{api.base}/api/devices/{camera.device_id}/links/", timeout=10).json(),
        timeout=30,
        message="the camera's links measured",
    )
    return camera, edge, job["id"], session["id"]


def watch(page) -> list[str]:
    """Every failed response, console error and uncaught exception of the page, as it happens."""
    problems: list[str] = []
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status} {r.url}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return problems


@pytest.mark.demo
def test_a_walk_through_every_page_meets_no_error_and_every_chart_shows_data(
    page, live_server_proc, agents, worker, api, digits, alice, shots
):
    camera, edge, job, session = demo_fleet(agents, api, digits)
    deployment = api.get(f"{api.base}/api/jobs/{job}/", timeout=10).json()["deployment"]
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)
    pages = {
        "fleet": "/",
        "camera": f"/devices/{camera.device_id}/",
        "edge": f"/devices/{edge.device_id}/",
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
    }
    for name, path in pages.items():
        response = page.goto(live_server_proc.url + path)
        assert response.status == 200, (path, response.status)
        page.wait_for_load_state("networkidle")
        if page.locator("#live-status:not([hidden])").count():
            live(page)
        try:
            page.wait_for_function(f"() => ({EMPTY_CHARTS})().length === 0", timeout=15000)
        except sync_api.TimeoutError:
            raise AssertionError(f"{path}: charts without data: {page.evaluate(EMPTY_CHARTS)}") from None
        assert page.evaluate(UNTITLED_AXES) == [], path
        page.screenshot(path=shots / f"{name}.png", full_page=True)
        if name in ("camera", "edge"):
            assert "Loading" not in page.text_content("#links"), path
            assert page.locator("#chart-stages").get_attribute("class").count("js-plotly-plot")
            # "Last seen" follows the live telemetry (agents here report every 0.2 s).
            first = page.get_attribute("#device-last-seen", "datetime")
            page.wait_for_function(
                f"() => document.getElementById('device-last-seen').getAttribute('datetime') > '{first}'"
            )
        assert not problems, (path, problems)


@pytest.mark.demo
def test_the_device_page_says_when_its_data_cannot_be_loaded_and_recovers_by_itself(
    page, live_server_proc, agents, alice, shots
):
    _, token = services.create_enrollment_token(max_uses=1)
    agent = agents("pi")
    assert agent.enroll(token, "--profile", "rpi4").returncode == 0
    agent.start()
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    broken = lambda route: route.fulfill(  # noqa: E731
        status=500, content_type="application/json", body='{"detail": "the database is on fire"}'
    )
    page.route("**/api/dashboard/devices/**", broken)
    page.goto(f"{live_server_proc.url}/devices/{agent.device_id}/")
    error = page.locator("#live-error")
    error.wait_for(state="visible")
    assert "HTTP 500" in error.text_content() and "the database is on fire" in error.text_content()
    assert "retrying in" in error.text_content()
    page.screenshot(path=shots / "device-error.png", full_page=True)
    page.unroute("**/api/dashboard/devices/**")
    live(page)  # the next retry (with back-off) loads it
    assert not error.is_visible()
    page.wait_for_function("() => Number(document.getElementById('chart-cpu').dataset.points || 0) >= 1")
