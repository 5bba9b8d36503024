"""The device page's Power and battery chart in a real browser (see test_browser.py for the set-up).

Measured power (RAPL zones, INA3221 rails) and battery level are not in the live snapshot; the page reads them
from the telemetry API. A device that reports none shows a note, and its hidden chart is not an empty one.
"""

from __future__ import annotations

import time

import pytest
from edgeorch_wire import protocol as p

from edgeorch.devices import services
from edgeorch.telemetry.services import store_batches

from .test_browser import ARGS, CHROMIUM, EMPTY_CHARTS, log_in, sync_api, watch  # noqa: F401 (skips with it)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def page(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15000)
        yield context.new_page()
        chromium.close()


def device_with(name: str, **metrics: float):
    _, plain = services.create_enrollment_token(max_uses=1)
    device = services.enroll_device(plain, name=name).device
    now = time.time()
    records = [p.Record(seq=i, ts=now - 30 + i * 5, metrics=metrics) for i in range(6)]
    store_batches([(str(device.pk), p.Telemetry(records=records))])
    return device


def test_the_power_chart_shows_measured_zones_and_battery_and_says_so_when_there_are_none(
    page, live_server_proc, alice, tmp_path
):
    measured = device_with(
        "laptop",
        **{"cpu.percent": 20.0, "power.rapl.package-0_w": 12.5, "power.rapl.package-0.core_w": 7.0},
        **{"battery.percent": 64.0, "battery.plugged": 0.0},
    )
    silent = device_with("sensorless", **{"cpu.percent": 5.0})
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)

    page.goto(f"{live_server_proc.url}/devices/{measured.pk}/")
    page.wait_for_function("() => Number(document.getElementById('chart-power').dataset.points || 0) >= 3")
    assert page.locator("#chart-power").is_visible()
    assert not page.locator("#power-none").is_visible()
    assert page.locator("#power-note").is_visible()
    names = page.evaluate("() => document.getElementById('chart-power').data.map((t) => t.name)")
    assert sorted(names) == ["battery %", "rapl.package-0 W", "rapl.package-0.core W"]
    page.screenshot(path=tmp_path / "device-power.png", full_page=True)

    page.goto(f"{live_server_proc.url}/devices/{silent.pk}/")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => document.getElementById('chart-cpu').dataset.points !== undefined")
    assert page.locator("#power-none").is_visible()
    assert "no power readings" in page.text_content("#power-none")
    assert not page.locator("#chart-power").is_visible()
    assert "chart-power" not in page.evaluate(EMPTY_CHARTS)  # hidden, so not an empty chart on show
    assert not problems, problems
