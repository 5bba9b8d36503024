"""The operator console's actions, units and downloads in a real browser (see test_browser.py for the set-up),
on the demo configuration too (SQLite in the demo tier).

Screenshots are saved under the test's ``tmp_path`` (``screenshots/``).
"""

from __future__ import annotations

import pytest

from . import test_browser
from .support import wait_until
from .test_browser import log_in, watch

# test_browser's fixtures (the module skips with it where Chromium is missing).
browser, page, shots = test_browser.browser, test_browser.page, test_browser.shots

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.demo]


def test_an_operator_profiles_probes_renames_and_revokes_a_device_from_its_page(
    page, live_server_proc, fleet, digits, alice, shots
):
    from edgeorch.devices.models import Device
    from edgeorch.plans.models import BlockProfile

    camera, edge = fleet("camera", "edge")
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)
    page.goto(f"{live_server_proc.url}/devices/{camera.device_id}/")
    assert "POST /api" not in page.text_content("main")

    # Profile: the bar counts the blocks the agent has timed (its progress, pushed live) until it is done.
    page.evaluate("""() => {
      const bar = document.getElementById("profile-bar");
      window.barSteps = [];
      new MutationObserver(() => window.barSteps.push([bar.value, bar.max]))
        .observe(bar, { attributes: true, attributeFilter: ["value", "max"] });
    }""")
    page.select_option("#profile-form select[name=model]", str(digits.pk))
    page.click("#profile-form button")
    page.wait_for_selector("#profile-progress[data-state=pending]")
    page.wait_for_selector("#profile-progress[data-state=done]", timeout=30000)
    assert page.text_content("#profile-state").startswith(f"Profiled {digits}: ")
    blocks = len(digits.blocks)
    assert page.get_attribute("#profile-bar", "max") == str(blocks)
    assert page.get_attribute("#profile-bar", "value") == str(blocks)
    values = [value for value, top in page.evaluate("window.barSteps") if top == blocks]
    assert values == sorted(values) and 0 < len(set(values) - {0, blocks}), (
        values
    )  # it advanced, block by block
    assert BlockProfile.objects.filter(device_id=camera.device_id, model=digits).exists()
    page.screenshot(path=shots / "profiled.png", full_page=True)

    # Probe links: the links table is redrawn with the measured peer, no reload.
    assert "No link measurements yet" in page.text_content("#links")
    page.click("#probe-links")
    page.wait_for_selector("#probe-state[data-state=done]", timeout=30000)
    assert "measured" in page.text_content("#probe-state")
    page.wait_for_selector("#links tbody tr >> text=edge")
    page.screenshot(path=shots / "probed.png", full_page=True)

    # Rename.
    page.fill("#rename-form input[name=name]", "camera-north")
    page.click("#rename-form button")
    page.wait_for_selector("h1 >> text=camera-north")
    assert Device.objects.get(pk=camera.device_id).name == "camera-north"

    # Revoke asks first: dismissed, nothing happens; accepted, the device is revoked and its actions go.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#revoke-device")
    assert Device.objects.get(pk=camera.device_id).status == "online"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#revoke-device")
    page.wait_for_selector("#device-status.revoked")
    assert Device.objects.get(pk=camera.device_id).status == "revoked"
    assert page.query_selector("#device-actions") is None and page.query_selector("#probe-links") is None
    page.screenshot(path=shots / "revoked.png", full_page=True)
    assert not problems, problems


def test_a_refused_action_is_said_in_words(page, live_server_proc, agents, digits, alice, shots):
    """An enrolled device that never connected cannot be profiled: the API's reason is shown."""
    from edgeorch.devices import services

    _, token = services.create_enrollment_token(max_uses=1)
    device = services.enroll_device(token, name="sleeper").device
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    page.goto(f"{live_server_proc.url}/devices/{device.pk}/")
    page.click("#profile-form button")
    page.wait_for_selector("#profile-progress[data-state=failed]")
    assert "sleeper is not connected" in page.text_content("#profile-state")
    page.fill("#rename-form input[name=name]", "   ")  # passes the browser's "required", not the API
    page.click("#rename-form button")
    page.wait_for_selector("#action-error:has-text('Rename failed: name: This field may not be blank.')")
    page.screenshot(path=shots / "refused.png", full_page=True)


def test_a_viewer_sees_no_actions(page, live_server_proc, digits, bob):
    from edgeorch.devices import services

    _, token = services.create_enrollment_token(max_uses=1)
    device = services.enroll_device(token, name="watched").device
    log_in(page, live_server_proc, "bob", "bob-pass-123")
    page.goto(f"{live_server_proc.url}/devices/{device.pk}/")
    assert page.query_selector("#device-actions") is None and page.query_selector("#probe-links") is None
    page.goto(f"{live_server_proc.url}/models/{digits.pk}/")
    assert page.query_selector("#delete-model") is None


def test_deleting_a_model_asks_first(page, live_server_proc, digits, alice, shots):
    from edgeorch.catalog.models import MLModel

    log_in(page, live_server_proc, "alice", "alice-pass-123")
    page.goto(f"{live_server_proc.url}/models/{digits.pk}/")
    button = page.locator("#delete-model button")
    assert "danger" in button.get_attribute("class")
    asked: list[str] = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    button.click()
    assert asked and str(digits) in asked[0]
    assert MLModel.objects.filter(pk=digits.pk).exists() and page.url.endswith(f"/models/{digits.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    page.wait_for_url(f"{live_server_proc.url}/models/")
    assert f"{digits} was deleted" in page.text_content("main")
    wait_until(lambda: not MLModel.objects.filter(pk=digits.pk).exists(), message="deleted")
    page.screenshot(path=shots / "model-deleted.png", full_page=True)


def test_times_read_in_ms_with_units_in_headers_and_devices_and_classes_by_name(
    page, live_server_proc, agents, worker, api, digits, alice, shots
):
    import re

    from .test_browser import demo_fleet

    camera, edge, job, session = demo_fleet(agents, api, digits)
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)
    in_ms = re.compile(r"^\d+(\.\d{1,2})? ms$")

    page.goto(f"{live_server_proc.url}/runs/jobs/{job}/")
    assert in_ms.match(page.text_content("#predicted-latency")), page.text_content("#predicted-latency")
    assert in_ms.match(page.text_content("#measured-latency")), page.text_content("#measured-latency")
    assert re.match(r"^digit \d \(", page.text_content("#top-classes").strip())  # the digits model's names
    assert "(cut 3, device edge-1)" in page.inner_text("dl.facts")  # the split's device by name
    headers = page.locator("#stages thead th").all_text_contents()
    assert [h for h in headers if h.endswith("(ms)")] == [
        "Predicted compute (ms)",
        "Queue (ms)",
        "Compute (ms)",
        "Serialize (ms)",
        "Transfer (ms)",
    ]
    # The gap between predicted and measured, part by part, in ms.
    assert page.locator("#gaps tbody tr").count() == 5
    assert page.locator("#gaps thead").text_content().count("(ms)") == 3
    assert not re.search(r"\d\.\d{4,}", page.inner_text("main")), "seconds to many decimals"
    gantt_rows = page.evaluate("() => document.getElementById('gantt').data[0].y")
    assert {label.split(" · ")[-1] for label in gantt_rows} <= {"camera-pi", "edge-1"}
    page.screenshot(path=shots / "job.png", full_page=True)

    page.goto(f"{live_server_proc.url}/runs/sessions/{session}/")
    assert page.text_content("#latency-percentiles").endswith(" ms")
    assert not re.search(r"\d\.\d{4,}", page.inner_text("main")), "seconds to many decimals"

    page.goto(f"{live_server_proc.url}/runs/")
    assert "Measured (ms)" in page.locator("#jobs thead").text_content()
    assert "p50 (ms)" in page.locator("#sessions thead").text_content()

    # The live page's stage timeline labels its rows with device names, not id prefixes.
    page.goto(f"{live_server_proc.url}/live/sessions/{session}/")
    page.wait_for_function(
        "() => (document.getElementById('chart-gantt').data || []).some((t) => t.y.includes('edge-1'))"
    )
    rows = page.evaluate("() => document.getElementById('chart-gantt').data.flatMap((t) => t.y)")
    assert set(rows) <= {"camera-pi", "edge-1"}, rows
    page.screenshot(path=shots / "session-live.png", full_page=True)

    page.goto(f"{live_server_proc.url}/devices/{camera.device_id}/")
    assert re.search(r"latest record #\d+", page.text_content("dl.facts"))
    assert not problems, problems


def test_a_jobs_trace_a_sessions_frames_and_a_devices_telemetry_download_and_metrics_scrape(
    page, live_server_proc, agents, worker, api, digits, alice, shots
):
    import csv
    from pathlib import Path

    from prometheus_client.parser import text_string_to_metric_families

    from edgeorch.jobs.models import Session

    from .test_browser import demo_fleet

    camera, edge, job, session = demo_fleet(agents, api, digits)
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)

    def download(selector: str):
        with page.expect_download() as got:
            page.click(selector)
        text = Path(got.value.path()).read_text()
        return got.value.suggested_filename, list(csv.DictReader(text.splitlines()))

    page.goto(f"{live_server_proc.url}/runs/jobs/{job}/")
    name, stages = download("#export-trace-csv")
    assert name == f"job-{job}-trace.csv"
    ran = [s for s in stages if s["stage"] != "-1"]
    assert [s["device_name"] for s in ran] == ["camera-pi", "edge-1"]
    assert all(float(s["compute_s"]) > 0 and s["predicted_compute_s"] for s in ran)

    frames_ok = Session.objects.get(pk=session).frames_ok
    for path in (f"/runs/sessions/{session}/", f"/live/sessions/{session}/"):
        page.goto(live_server_proc.url + path)
        name, frames = download("#export-frames-csv")
        assert name == f"session-{session}-frames.csv"
        assert [int(f["request_id"]) for f in frames] == list(range(30))
        assert sum(f["ok"] == "True" for f in frames) == frames_ok
        assert {f["devices"] for f in frames if f["ok"] == "True"} == {"camera-pi > edge-1"}
    as_json = api.get(f"{api.base}/api/sessions/{session}/export/?format=json", timeout=10).json()
    assert len(as_json) == 30 and all(isinstance(f["trace"], list) for f in as_json)

    page.goto(f"{live_server_proc.url}/devices/{camera.device_id}/")
    name, records = download("#export-telemetry-csv")
    assert name.startswith(f"telemetry-{camera.device_id}-") and name.endswith(".csv")
    assert records and all(r["samples"] == "1" and r["cpu.percent"] for r in records)
    assert not problems, problems

    # Prometheus scrapes /metrics with an API key; the text parses with prometheus_client's own parser.
    scraped = api.get(f"{api.base}/metrics", timeout=10)
    assert scraped.status_code == 200, scraped.text
    found = {f.name: f for f in text_string_to_metric_families(scraped.text)}
    requests = {
        (s.labels["model"], s.labels["strategy"], s.labels["kind"], s.labels["outcome"]): s.value
        for s in found["edgeorch_inference_requests"].samples
    }
    assert requests[("digits-cnn", "split", "job", "ok")] == 1
    assert requests[("digits-cnn", "split", "frame", "ok")] == frames_ok
    histogram = [
        s for s in found["edgeorch_inference_latency_seconds"].samples if s.labels["kind"] == "frame"
    ]
    buckets = [s.value for s in histogram if s.name.endswith("_bucket")]
    assert buckets == sorted(buckets) and buckets[-1] == frames_ok  # cumulative, +Inf = every frame
    assert next(s.value for s in histogram if s.name.endswith("_count")) == frames_ok
    up = {s.labels["name"]: s.value for s in found["edgeorch_device_up"].samples}
    assert up == {"camera-pi": 1.0, "edge-1": 1.0}
    cpu = {s.labels["name"] for s in found["edgeorch_device_cpu_percent"].samples}
    assert cpu == {"camera-pi", "edge-1"}
    assert {s.value for s in found["edgeorch_runs"].samples} == {0.0}  # all ended
    assert "edgeorch_celery_queue_length" in found


# What sticks out past the right edge of a 390 px wide page (a phone): the widest offenders, outermost first.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1 && !el.closest('.table-wrap, pre, .js-plotly-plot');
  });
  return { scroll: document.documentElement.scrollWidth, width: width,
    wide: wide.slice(0, 5).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '')) };
}"""


def test_no_page_scrolls_sideways_on_a_phone(
    browser, live_server_proc, agents, worker, api, digits, alice, shots
):
    from .test_browser import demo_fleet

    camera, edge, job, session = demo_fleet(agents, api, digits)
    deployment = api.get(f"{api.base}/api/jobs/{job}/", timeout=10).json()["deployment"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(live_server_proc.url + "/accounts/login/")
    assert page.evaluate(OVERFLOW)["scroll"] <= 390
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    paths = [
        "/",
        f"/devices/{camera.device_id}/",
        "/users/",
        "/run/",
        f"/live/sessions/{session}/",
        f"/live/sessions/{session}/topology/",
        "/runs/",
        f"/runs/jobs/{job}/",
        f"/live/jobs/{job}/topology/",
        f"/live/deployments/{deployment}/topology/",
        f"/runs/sessions/{session}/",
        "/models/",
        f"/models/{digits.pk}/",
        "/plans/",
        "/enroll/",
        "/account/api-key/",
        "/api/docs/",
    ]
    wide = {}
    for path in paths:
        assert page.goto(live_server_proc.url + path).status == 200, path
        page.wait_for_load_state("networkidle")
        found = page.evaluate(OVERFLOW)
        page.screenshot(
            path=shots / f"phone-{path.strip('/').replace('/', '-') or 'fleet'}.png", full_page=True
        )
        if found["scroll"] > found["width"]:
            wide[path] = found
    context.close()
    assert not wide, "\n".join(f"{path}: {found}" for path, found in wide.items())
