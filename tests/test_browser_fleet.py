"""Fleet management in a real browser (see test_browser.py for the set-up), on the demo configuration too
(SQLite in the demo tier): search, filters and sort on the fleet page, tags edited on a device page, and
bulk profiling and probing of the selected devices with progress, the profiles shown live in the table.

Screenshots are saved under the test's ``tmp_path`` (``screenshots/``).
"""

from __future__ import annotations

import re

import pytest

from . import test_browser
from .test_browser import live, log_in, watch

# test_browser's fixtures (the module skips with it where Chromium is missing).
browser, page, shots = test_browser.browser, test_browser.page, test_browser.shots

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.demo]

# Records, from now on, every fleet row drawn with a profiling bar and every text of the fleet summary.
SEEN = """() => {
  window.eoSeen = {rows: new Set(), summary: new Set()};
  new MutationObserver(() => {
    for (const bar of document.querySelectorAll("#devices tbody tr[data-device] .badge.profiling"))
      window.eoSeen.rows.add(bar.closest("tr").dataset.device);
    const box = document.getElementById("fleet-profiling");
    if (!box.hidden) window.eoSeen.summary.add(box.querySelector("span").textContent);
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}"""

SHOWN = (
    "() => [...document.querySelectorAll('#devices tbody tr[data-device] td a')].map((a) => a.textContent)"
)


def test_the_fleet_is_searched_filtered_sorted_tagged_and_profiled_and_probed_in_bulk(
    page, live_server_proc, fleet, api, digits, alice, shots
):
    from edgeorch.devices import services
    from edgeorch.plans.models import BlockProfile, LinkSample

    cam_a, cam_b, edge = fleet("cam-a", "cam-b", "edge")
    _, token = services.create_enrollment_token()
    services.enroll_device(token, name="sleeper")  # enrolled, never connected: pending
    for agent, body in (
        (cam_a, {"tags": ["lab", "north"], "profile": "rpi4"}),
        (cam_b, {"tags": ["north"], "profile": "rpi4"}),
        (edge, {"tags": ["rack"], "profile": "edge-server", "role": "edge"}),
    ):
        assert api.patch(f"{api.base}/api/devices/{agent.device_id}/", json=body, timeout=10).ok

    log_in(page, live_server_proc, "alice", "alice-pass-123")
    problems = watch(page)
    live(page)

    def shown(expected: list[str]) -> None:
        try:
            page.wait_for_function(
                f"(want) => JSON.stringify(({SHOWN})()) === JSON.stringify(want)", arg=expected
            )
        except test_browser.sync_api.TimeoutError:
            raise AssertionError(f"shown {page.evaluate(SHOWN)}, not {expected}") from None

    shown(["cam-a", "cam-b", "edge", "sleeper"])
    page.fill("#fleet-tools input[name=q]", "CAM")
    shown(["cam-a", "cam-b"])
    assert page.text_content("#fleet-shown") == "2 of 4 shown"
    page.fill("#fleet-tools input[name=q]", "rack")  # a tag matches too
    shown(["edge"])
    page.fill("#fleet-tools input[name=q]", "")
    page.select_option("#fleet-tools select[name=tag]", "north")
    shown(["cam-a", "cam-b"])
    page.select_option("#fleet-tools select[name=tag]", "")
    page.select_option("#fleet-tools select[name=status]", "pending")
    shown(["sleeper"])
    page.select_option("#fleet-tools select[name=status]", "")
    page.select_option("#fleet-tools select[name=role]", "edge")
    shown(["edge"])
    page.select_option("#fleet-tools select[name=role]", "")
    page.select_option("#fleet-tools select[name=profile]", "rpi4")
    shown(["cam-a", "cam-b"])
    page.select_option("#fleet-tools select[name=profile]", "")
    page.select_option("#fleet-tools select[name=sort]", "profile")  # edge-server, rpi4, rpi4, none
    shown(["edge", "cam-a", "cam-b", "sleeper"])
    page.select_option("#fleet-tools select[name=sort]", "status")  # online first, pending after
    shown(["cam-a", "cam-b", "edge", "sleeper"])
    # The view is in the address: a reload (or a link) shows the same.
    page.select_option("#fleet-tools select[name=tag]", "north")
    assert "tag=north" in page.url and "sort=status" in page.url
    page.reload()
    live(page)
    shown(["cam-a", "cam-b"])
    page.screenshot(path=shots / "fleet-filtered.png", full_page=True)

    # Tags edited on a device page reach the fleet's tag menu.
    page.goto(f"{live_server_proc.url}/devices/{edge.device_id}/")
    page.fill("#tags-form input[name=tags]", "rack, gpu")
    page.click("#tags-form button")
    page.wait_for_selector("#device-tags >> text=gpu")
    page.fill("#tags-form input[name=tags]", "bad tag")
    page.click("#tags-form button")
    page.wait_for_selector("#action-error:has-text(\"'bad tag' is not a tag\")")
    assert [p for p in problems if "HTTP 400" not in p and "status of 400" not in p] == [], problems
    problems.clear()  # that refusal was the point
    page.goto(live_server_proc.url + "/?tag=gpu")
    live(page)
    shown(["edge"])

    # Bulk: select two devices, probe their links, then profile them on the digits CNN.
    page.goto(live_server_proc.url + "/?tag=north")
    live(page)
    shown(["cam-a", "cam-b"])
    assert page.is_disabled("#bulk-probe")
    page.check("#select-all")
    assert page.text_content("#bulk-count") == "2"
    page.click("#bulk-probe")
    page.wait_for_selector("#bulk-progress[data-state=done]", timeout=30000)
    assert page.get_attribute("#bulk-bar", "value") == "2"
    results = page.locator("#bulk-results li").all_text_contents()
    assert sorted(r.split(":")[0] for r in results) == ["cam-a", "cam-b"] and all(
        "measured" in r for r in results
    )
    assert {str(s.device_from_id) for s in LinkSample.objects.all()} >= {cam_a.device_id, cam_b.device_id}
    # While the profiles run, the live table shows a bar on a profiling row and the fleet-wide summary
    # (drawn from profile.progress events, perhaps briefly: the page records every draw of them).
    page.evaluate(SEEN)
    page.select_option("#bulk-profile-form select[name=model]", str(digits.pk))
    page.click("#bulk-profile-form button")
    page.wait_for_selector("#bulk-progress[data-state=pending]")
    page.wait_for_selector("#bulk-progress[data-state=done]", timeout=60000)
    page.wait_for_selector("#fleet-profiling", state="hidden")  # the final progress events fold them away
    seen = page.evaluate(
        "() => ({rows: [...window.eoSeen.rows].sort(), summary: [...window.eoSeen.summary]})"
    )
    # A bar on a profiling row (a profile of 10 blocks can start and end between two of the page's
    # throttled draws: not necessarily both rows, but never another device's).
    assert seen["rows"] and set(seen["rows"]) <= {cam_a.device_id, cam_b.device_id}, seen
    assert any(
        re.fullmatch(r"Profiling [12] of \d+ online devices?: \d+ of \d+ blocks? timed \(.*digits.*\)", s)
        for s in seen["summary"]
    ), seen
    assert page.locator("#devices .badge.profiling").count() == 0
    assert page.text_content("#bulk-state").endswith("2 of 2 answered")
    profiled = set(BlockProfile.objects.filter(model=digits).values_list("device_id", flat=True))
    assert {str(d) for d in profiled} == {cam_a.device_id, cam_b.device_id}
    page.screenshot(path=shots / "fleet-bulk.png", full_page=True)
    assert not problems, problems
