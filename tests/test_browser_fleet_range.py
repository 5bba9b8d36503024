"""The fleet page's time-range picker in a real browser (see test_browser.py), on the demo configuration too.

The sparklines show the live snapshot's last 15 minutes; a picked range (6 h, 7 d, a custom one) is read
from the fleet snapshot API for the whole fleet at once and shows what is older (records of three hours ago,
a roll-up of three days ago); "live" brings the live window back.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from edgeorch_wire import protocol as p

from edgeorch.devices import services
from edgeorch.telemetry.models import TelemetryRollup
from edgeorch.telemetry.services import store_batches

from .test_browser import ARGS, CHROMIUM, log_in, sync_api, watch  # noqa: F401 (skips with it)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.demo]


@pytest.fixture
def page(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
        context.set_default_timeout(15000)
        sync_api.expect.set_options(timeout=15000)
        yield context.new_page()
        chromium.close()


def test_a_picked_range_redraws_the_fleets_sparklines_from_the_api(page, live_server_proc, alice, tmp_path):
    _, plain = services.create_enrollment_token(max_uses=2)
    warm = services.enroll_device(plain, name="warm").device
    cool = services.enroll_device(plain, name="cool").device
    now = time.time()
    old = [
        p.Record(seq=i, ts=now - 3 * 3600 + i * 60, metrics={"temp.cpu": 90.0, "cpu.percent": 95.0})
        for i in range(5)
    ]
    recent = [
        p.Record(seq=10 + i, ts=now - 180 + i * 30, metrics={"temp.cpu": 50.0, "cpu.percent": 20.0})
        for i in range(6)
    ]
    store_batches([(str(warm.pk), p.Telemetry(records=old + recent))])
    steady = [p.Record(seq=i, ts=now - 840 + i * 120, metrics={"temp.cpu": 40.0}) for i in range(7)]  # 14 min
    store_batches([(str(cool.pk), p.Telemetry(records=steady))])
    minute = (timezone.now() - timedelta(days=3)).replace(second=0, microsecond=0)
    TelemetryRollup.objects.create(device=warm, bucket=minute, samples=60, metrics={"temp.cpu": 99.5})
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)
    expect = sync_api.expect

    page.goto(live_server_proc.url + "/")
    temp = page.locator(f"tr[data-device='{warm.pk}'] td[data-metric=temp] svg title")
    expect(temp).to_have_text("peak 50.0 °C over the last 15 min")  # live: the old records are out of it

    page.select_option("#fleet-range select", "6h")
    expect(temp).to_have_text("peak 90.0 °C over the last 6 h, the peak of every 6 min")
    expect(page.locator("#range-state")).to_have_text("peak of every 6 min, moving on live")
    expect(page.locator("#devices")).to_have_attribute("data-bucket", "360")
    cool_temp = page.locator(f"tr[data-device='{cool.pk}'] td[data-metric=temp] svg title")
    expect(cool_temp).to_have_text("peak 40.0 °C over the last 6 h, the peak of every 6 min")

    page.select_option("#fleet-range select", "7d")  # the roll-up of three days ago, past the raw retention
    expect(temp).to_have_text("peak 99.5 °C over the last 7 d, the peak of every 168 min")

    # A custom range around the old records only: the cool device had nothing then.
    page.select_option("#fleet-range select", "custom")
    fmt = "%Y-%m-%dT%H:%M"
    page.fill("#range-since", time.strftime(fmt, time.gmtime(now - 4 * 3600)))
    page.fill("#range-until", time.strftime(fmt, time.gmtime(now - 2 * 3600)))
    page.dispatch_event("#range-until", "change")
    expect(temp).to_have_text("peak 90.0 °C over the range picked, the peak of every 2 min")
    expect(page.locator("#range-state")).to_have_text("peak of every 2 min, held still")
    expect(cool_temp).to_have_count(0)
    expect(page.locator(f"tr[data-device='{cool.pk}'] td[data-metric=temp]")).to_have_text("40.0 °C")
    page.screenshot(path=tmp_path / "fleet-range.png", full_page=True)

    page.select_option("#fleet-range select", "live")
    expect(temp).to_have_text("peak 50.0 °C over the last 15 min")
    expect(page.locator("#range-state")).to_have_text("")
    assert not problems, problems
