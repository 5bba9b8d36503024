"""The device page's time-range picker and shared crosshair in a real browser (see test_browser.py).

The charts show the live snapshot's last 15 minutes; a picked range (6 h, a custom one) is read from the
telemetry API and shows what is older; hovering one chart shows the same time on the others; every chart's
axes have titles.
"""

from __future__ import annotations

import time

import pytest
from edgeorch_wire import protocol as p

from edgeorch.devices import services
from edgeorch.telemetry.services import store_batches

from .test_browser import ARGS, CHROMIUM, log_in, sync_api, watch  # noqa: F401 (skips with it)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.demo]

POINTS = "() => Number(document.getElementById('chart-cpu').dataset.points || 0)"
OLDEST = "() => Math.min(...document.getElementById('chart-cpu').data[0].x.map((x) => new Date(x).getTime()))"


@pytest.fixture
def page(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
        context.set_default_timeout(15000)
        yield context.new_page()
        chromium.close()


def test_a_picked_range_shows_older_telemetry_and_hover_is_shared(page, live_server_proc, alice, tmp_path):
    _, plain = services.create_enrollment_token(max_uses=1)
    device = services.enroll_device(plain, name="ranged").device
    now = time.time()
    metrics = {"cpu.percent": 40.0, "temp.max": 55.0, "mem.used_percent": 30.0, "cpu.throttle_factor": 1.0}
    old = [p.Record(seq=i, ts=now - 3 * 3600 + i * 60, metrics=metrics) for i in range(10)]  # 3 h ago
    recent = [p.Record(seq=100 + i, ts=now - 60 + i * 5, metrics=metrics) for i in range(6)]
    store_batches([(str(device.pk), p.Telemetry(records=old + recent))])
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)

    page.goto(f"{live_server_proc.url}/devices/{device.pk}/")
    page.wait_for_function(f"() => ({POINTS})() >= 1")
    assert page.evaluate(OLDEST) > (now - 20 * 60) * 1000  # live: the last 15 minutes only

    page.select_option("#device-range select", "6h")
    page.wait_for_function(f"() => ({OLDEST})() < {(now - 2 * 3600) * 1000}")
    page.wait_for_function(
        "() => document.getElementById('range-state').textContent.startsWith('mean of every')"
    )

    # A custom range around the old records only.
    page.select_option("#device-range select", "custom")
    fmt = "%Y-%m-%dT%H:%M"
    page.fill("#range-since", time.strftime(fmt, time.gmtime(now - 4 * 3600)))
    page.fill("#range-until", time.strftime(fmt, time.gmtime(now - 2 * 3600)))
    page.dispatch_event("#range-until", "change")
    page.wait_for_function(
        "() => { const x = document.getElementById('chart-cpu').data[0].x;"
        f" return x.length && Math.max(...x.map((t) => new Date(t).getTime())) < {(now - 7200) * 1000}; }}"
    )

    # Hovering the CPU chart shows a hover label on the temperature chart too (the shared crosshair).
    page.locator("#chart-cpu .nsewdrag").first.hover()  # its middle: the old records, 3 h ago
    page.wait_for_function("() => document.querySelectorAll('#chart-temp .hoverlayer .hovertext').length > 0")

    titles = page.evaluate(
        "() => [...document.querySelectorAll('.chart.js-plotly-plot')].filter((c) => c.offsetParent)"
        ".map((c) => [c.id, c.layout.xaxis.title.text, c.layout.yaxis.title.text])"
    )
    assert titles and all(x and y for _, x, y in titles), titles
    page.screenshot(path=tmp_path / "device-range.png", full_page=True)

    page.select_option("#device-range select", "live")
    page.wait_for_function(f"() => ({OLDEST})() > {(now - 20 * 60) * 1000}")
    assert not problems, problems
