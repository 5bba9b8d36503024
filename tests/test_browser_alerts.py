"""Alerts in a real browser: an emulated device heats and cools, and the alert fires and resolves on its own.

A real agent emulates a Raspberry Pi 4 (its thermal model, with a shorter time constant so that the test
heats and cools it in seconds instead of minutes); a background tenant sent to it over its control channel
makes it work, and so heat. Celery beat and a worker evaluate the rules every second; the webhook of the rule
is a local HTTP server. The badge is followed on two pages: the Alerts page (its own live socket) and the
Models page (a static page: the badge's own socket). See test_browser.py for the browser set-up.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import edgeorch_wire.profiles
import pytest
from edgeorch_wire import protocol as p

from edgeorch.devices import services

from . import test_browser
from .support import wait_until
from .test_browser import live, log_in, watch

# test_browser's fixtures (the module skips with it where Chromium is missing).
browser, page, shots = test_browser.browser, test_browser.page, test_browser.shots

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.demo]


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received = received  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


# The rpi4 profile with a 4 s thermal time constant (its own is 60 s): idle at 49 °C, about 80 °C when busy.
QUICK_PI = {
    **json.loads((Path(edgeorch_wire.profiles.__file__).parent / "rpi4.json").read_text()),
    "name": "quick-rpi4",
}
QUICK_PI["thermal"] = {**QUICK_PI["thermal"], "tau_s": 4.0}


def tell(device, message) -> None:
    """Send a command to the device's agent, from a thread of its own: Playwright's loop runs in this one."""
    from edgeorch.jobs import agents as agent_channel

    with ThreadPoolExecutor(1) as pool:
        pool.submit(agent_channel.send, device, message).result(timeout=10)


def test_an_alert_fires_and_resolves_when_an_emulated_device_heats_and_cools(
    page, live_server_proc, agents, beat, alice, webhook, shots
):
    from edgeorch.alerts.models import Alert
    from edgeorch.devices.models import Device

    profile = shots.parent / "quick-rpi4.json"
    profile.write_text(json.dumps(QUICK_PI))
    _, token = services.create_enrollment_token(max_uses=1)
    agent = agents("camera-pi")
    assert agent.enroll(token).returncode == 0
    agent.start("--profile", str(profile))
    wait_until(
        lambda: Device.objects.filter(pk=agent.device_id, status="online", channel_name__gt="").exists(),
        message="camera-pi online",
    )
    device = Device.objects.get(pk=agent.device_id)

    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)
    page.click("nav >> text=Alerts")
    page.wait_for_url("**/alerts/")
    live(page)
    assert not page.is_visible("#alert-count")
    # The rule, from the form: the temperature of any device above 55 °C, told to the webhook.
    page.fill("#rule-form input[name=name]", "Hot camera")
    page.select_option("#rule-form select[name=kind]", "temperature_above")
    page.fill("#rule-form input[name=threshold]", "55")
    page.fill("#rule-form input[name=webhook_url]", webhook.url)
    page.click("#rule-form button[type=submit]")
    page.wait_for_selector("#rules tr[data-rule] >> text=Hot camera")
    live(page)
    other = page.context.new_page()  # a page with no live data of its own: the badge's own socket
    other.goto(live_server_proc.url + "/models/")

    tell(device, p.Tenant(0.95))  # busy 95 % of the time: it heats
    page.wait_for_selector("#open-alerts tr[data-state=fired]", timeout=30000)
    assert page.text_content("#alert-count") == "1"
    other.wait_for_selector("#alert-count:not([hidden])")
    assert other.text_content("#alert-count") == "1"
    row = page.text_content("#open-alerts tr[data-state=fired]")
    assert "Hot camera" in row and "camera-pi" in row and "above 55 °C" in row
    page.screenshot(path=shots / "alert-fired.png", full_page=True)

    page.click("#open-alerts button.ack")
    page.wait_for_selector("#open-alerts tr[data-state=acknowledged]")
    assert "by alice" in page.text_content("#open-alerts tr[data-state=acknowledged]")

    tell(device, p.Tenant(0.0))  # idle again: it cools
    page.wait_for_selector("#past-alerts tr[data-state=resolved]", timeout=30000)
    page.wait_for_selector("#open-alerts >> text=No open alerts.")
    assert not page.is_visible("#alert-count")
    other.wait_for_selector("#alert-count[hidden]", state="attached")
    page.screenshot(path=shots / "alert-resolved.png", full_page=True)

    alert = Alert.objects.get()
    assert alert.state == "resolved" and alert.acknowledged_by == alice and alert.value > 55
    # The worker told the webhook when it fired and when it resolved; the page shows that it did.
    wait_until(
        lambda: len(Alert.objects.get().deliveries) == 2, timeout=20, message="the webhook's two deliveries"
    )
    assert [(h["event"], h["alert"]["device_name"]) for h in webhook.received] == [
        ("fired", "camera-pi"),
        ("resolved", "camera-pi"),
    ]
    page.wait_for_selector("#past-alerts tr[data-state=resolved] >> text=webhook resolved ✓")  # live
    page.reload()  # a fresh snapshot says the same
    page.wait_for_selector("#past-alerts tr[data-state=resolved] >> text=webhook resolved ✓")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=shots / "alerts-390.png", full_page=True)
    assert not problems, problems
