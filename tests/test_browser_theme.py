"""Dark mode: every surface follows the operator's system setting (prefers-color-scheme), in Chromium."""

from __future__ import annotations

import pytest

from .test_browser import browser, log_in, shots  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The luminance (0 dark .. 1 light) of each surface the pages draw on, and of the body's text.
SURFACES = """() => {
  const lum = (css) => { const [r, g, b] = css.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
                         return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255; };
  const out = {body: lum(getComputedStyle(document.body).backgroundColor),
               text: lum(getComputedStyle(document.body).color), surfaces: []};
  for (const el of document.querySelectorAll('.card, table.grid, dl.facts, .stats div, input, select')) {
    const bg = getComputedStyle(el).backgroundColor;
    if (!bg.startsWith('rgba(0, 0, 0, 0')) out.surfaces.push([el.tagName + '.' + el.className, lum(bg)]);
  }
  out.charts = [...document.querySelectorAll('.js-plotly-plot')].map(el => getComputedStyle(el).filter);
  return out;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_follow_the_systems_colour_scheme(browser, live_server_proc, digits, alice, shots, scheme):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    context.set_default_timeout(15000)
    page = context.new_page()
    log_in(page, live_server_proc, "alice", "alice-pass-123")
    for path in ("/", "/models/", f"/models/{digits.pk}/", "/run/", "/runs/"):
        assert page.goto(live_server_proc.url + path).status == 200, path
        page.wait_for_load_state("networkidle")
        found = page.evaluate(SURFACES)
        page.screenshot(path=shots / f"{scheme}-{path.strip('/').replace('/', '-') or 'fleet'}.png")
        assert found["surfaces"], path
        if scheme == "dark":
            assert found["body"] < 0.2 and found["text"] > 0.7, (path, found)
            assert all(lum < 0.3 for _, lum in found["surfaces"]), (path, found["surfaces"])
            assert all("invert" in f for f in found["charts"]), (path, found["charts"])
        else:
            assert found["body"] > 0.9 and found["text"] < 0.3, (path, found)
            assert all(lum > 0.85 for _, lum in found["surfaces"]), (path, found["surfaces"])
            assert all(f == "none" for f in found["charts"]), (path, found["charts"])
    context.close()
