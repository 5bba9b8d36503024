"""The Users page in a real browser (see test_browser.py for the set-up), on the demo configuration too: two
sessions from two real agents on one edge show up under it, and their counts and miss rates change live, and
their budgets' shares of the edge appear, without a reload. Screenshots are saved under the test's
``tmp_path`` (``screenshots/``)."""

from __future__ import annotations

import pytest

from . import test_browser
from .test_browser import live, log_in, watch

browser, page, shots = test_browser.browser, test_browser.page, test_browser.shots

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.demo]


def set_budgets() -> int:
    """One budget pass (``budget.assign``), from a thread of its own: Playwright's loop runs in this one."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from edgeorch.jobs.services import budget

    def once() -> int:
        try:
            return len(budget.assign(lambda device: False))
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(once).result(timeout=30)


def cell(session: str, field: str) -> str:
    return f"#users tr[data-session='{session}'] [data-field={field}]"


def test_two_users_of_one_edge_show_up_and_their_miss_rates_change_live(
    page, live_server_proc, fleet, api, digits, alice, shots
):
    phone, cam, edge = fleet("phone", "cam", "edge")
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)
    page.goto(live_server_proc.url + "/users/")
    live(page)
    assert page.get_attribute("nav a.active", "href") == "/users/"
    page.evaluate("() => { window.notReloaded = true; }")

    started = {}
    for agent, deadline in ((phone, 5.0), (cam, 0.001)):  # loose: no misses; out of reach: misses and drops
        body = {
            "model": digits.pk,
            "source": agent.device_id,
            "strategy": "split",
            "params": {"cut": 3, "device": edge.device_id},
            "rate": 10,
            "frames": 150,
            "deadline_s": deadline,
        }
        response = api.post(api.base + "/api/sessions/", json=body, timeout=10)
        assert response.status_code == 202, response.text
        started[agent.name] = response.json()["id"]
    try:
        card = f"#users section[data-device='{edge.device_id}']"
        for session in started.values():  # both appear under the edge, pushed (session.running)
            page.wait_for_selector(f"{card} tr[data-session='{session}']", timeout=30000)
        loose, tight = started["phone"], started["cam"]
        page.wait_for_function(
            f"""() => Number(document.querySelector("{cell(tight, "frames")}").textContent) >= 3
              && Number(document.querySelector("{cell(loose, "frames")}").textContent) >= 3""",
            timeout=30000,
        )
        first = page.text_content(cell(tight, "frames"))
        page.wait_for_function(  # more frames counted as they are answered, still without a reload
            f"""() => Number(document.querySelector("{cell(tight, "frames")}").textContent) > {first}""",
            timeout=20000,
        )
        assert page.text_content(cell(loose, "miss-rate")) == "0.0"
        missed = float(page.text_content(cell(tight, "miss-rate")))
        dropped = int(page.text_content(cell(tight, "dropped")))
        assert missed > 0 or dropped > 0, (missed, dropped)  # 1 ms: no frame makes it
        assert (
            page.text_content(cell(loose, "config")) == "plan"
        )  # the plan's own route, not chosen per frame
        # the edge's queues, from its telemetry
        page.wait_for_selector(f"{card} [data-field=queued]")
        assert "phone" in page.text_content(f"{card} tbody") and "cam" in page.text_content(f"{card} tbody")
        # the coordinator's budget pass (off in these tests' worker: run here): each user's share of the
        # edge shows beside its class, pushed (budget.change); both are normal, so they share it evenly
        assert set_budgets() == 2
        for session in started.values():
            page.wait_for_selector(cell(session, "share"), timeout=20000)
        shares = [int(page.text_content(cell(s, "share")).rstrip("%")) for s in started.values()]
        assert shares[0] == shares[1] and 0 < sum(shares) <= 100, shares
        assert page.evaluate("() => window.notReloaded === true")
        page.screenshot(path=shots / "users.png", full_page=True)
        # a phone: the tables scroll in their cards, never the page; dark mode from the same variables
        page.set_viewport_size({"width": 390, "height": 844})
        page.emulate_media(color_scheme="dark")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        background = page.evaluate(
            f"() => getComputedStyle(document.querySelector(`{card}`)).backgroundColor"
        )
        assert background == "rgb(22, 27, 34)", background  # --surface, dark
        page.screenshot(path=shots / "users-phone-dark.png", full_page=True)
    finally:
        for session in started.values():
            api.post(f"{api.base}/api/sessions/{session}/stop/", timeout=10)
    # stopped: they leave the page, pushed
    for session in started.values():
        page.wait_for_selector(f"#users tr[data-session='{session}']", state="detached", timeout=30000)
    assert page.evaluate("() => window.notReloaded === true")
    assert not problems, problems
