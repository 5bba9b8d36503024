"""Dashboard pages at fleet scale: 500 devices and a day of telemetry, first byte, first paint, data.

A separate database (``edgeorch_bench_dashboard``) gets N devices and a day of telemetry at one record per
``--every`` seconds per device (default 10 s: 4.3 M rows for 500 devices), inserted by ``generate_series`` in
PostgreSQL itself, plus the model zoo, a finished job and a finished session. Static files are collected as
production does (``collectstatic`` with the manifest storage: hashed names, gzip and Brotli copies, served by
WhiteNoise); one Daphne serves it with DEBUG off. The fleet and device snapshot APIs are fetched ``--repeat``
times by a logged-in client (the median is shown). With Debian's Chromium present, every page is loaded
``--repeat`` times in headless Chromium with its cache disabled (a first visit), unthrottled and on a link
emulated by Chromium (``Network.emulateNetworkConditions``: ``--mbps`` down and up, ``--latency-ms``), timed
to its first contentful paint and to its data (see ``DATA_READY``); one browser loads both rounds. ``--quick``
is a smoke run of every step (the documentation's tests run it): a small fleet, one model, the static files
the pages load (``QUICK_STATIC_IGNORE``), one load a page, and only two pages on the emulated link.

    .venv/bin/python bench/bench_dashboard.py [--devices 500] [--every 10] [--repeat 7] [--write] [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import ROOT, django_on_fresh_database, machine, markdown_table, write_section  # noqa: E402

DB = os.environ.get("BENCH_DASHBOARD_DB", "edgeorch_bench_dashboard")  # own name: two runs at once
CHROMIUM = "/usr/bin/chromium"
QUICK_LINK_PAGES = ("fleet", "device")  # --quick loads these on the emulated link too (a live page each)

# A day of records for every device, spaced --every seconds, with realistic metric keys.
FILL = """
insert into telemetry_telemetryrecord (device_id, seq, ts, received_at, metrics)
select d.id, g.i, now() - interval '1 day' + g.i * (%(every)s * interval '1 second'),
       now() - interval '1 day' + g.i * (%(every)s * interval '1 second'),
       jsonb_build_object(
         'cpu.percent', round((20 + 60 * random())::numeric, 1),
         'cpu.core0.percent', round((100 * random())::numeric, 1),
         'cpu.core1.percent', round((100 * random())::numeric, 1),
         'cpu.freq_mhz', 1200 + (g.i %% 5) * 100,
         'cpu.throttle_factor', case when g.i %% 17 = 0 then 1.6 else 1.0 end,
         'mem.total_bytes', 4294967296, 'mem.available_bytes', 2147483648,
         'mem.used_percent', round((30 + 40 * random())::numeric, 1),
         'load.1m', round((4 * random())::numeric, 2), 'temp.cpu', round((45 + 35 * random())::numeric, 1),
         'temp.gpu', round((40 + 30 * random())::numeric, 1), 'net.rx_bps', round((1e6 * random())::numeric))
from devices_device d, generate_series(0, %(count)s - 1) as g(i)
"""


def fill_peaks(cursor) -> None:
    """The fleet's peaks of what ``FILL`` wrote past the ingest statement that keeps them on PostgreSQL."""
    from edgeorch.telemetry.services import PG_PEAKS

    peaks = PG_PEAKS.format(records="telemetry_telemetryrecord", where="")
    cursor.execute(f"insert into telemetry_telemetrypeak (device_id, bucket, cpu, temp) {peaks}", [])


def quick_fleet() -> int:
    """``--quick``'s fleet (Django set up): one device more than the fleet page renders on the server
    (``FLEET_ROWS_RENDERED``), so that its script draws every row from the snapshot, as in a full run."""
    from edgeorch.dashboard.views import FLEET_ROWS_RENDERED

    return FLEET_ROWS_RENDERED + 1


def setup(devices: int | None, every: int, zoo: tuple[str, ...] = ()) -> tuple[dict[str, str], int]:
    """The database with ``devices`` devices (None: ``quick_fleet()``), its catalog the zoo's models
    (``zoo``: these alone); returns the paths of every page (their objects created here) and the telemetry
    rows."""
    django_on_fresh_database(DB)
    devices = quick_fleet() if devices is None else devices
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from edgeorch.catalog import services as catalog
    from edgeorch.devices.models import Device
    from edgeorch.jobs.models import Job, RunState, Session

    user = User.objects.create_superuser("bench", password="bench-pass-123")
    now = timezone.now()
    Device.objects.bulk_create(
        Device(name=f"dev-{i:04}", status="online", last_seen=now, credential_hash="x" * 64, profile="rpi4")
        for i in range(devices)
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL, {"every": every, "count": 86400 // every})
        fill_peaks(cursor)
        cursor.execute("analyze")
        cursor.execute("select count(*) from telemetry_telemetryrecord")
        rows = cursor.fetchone()[0]
    print(f"{rows:,} telemetry rows inserted in {time.perf_counter() - started:.0f} s")
    models = catalog.register_zoo(only=zoo)
    model = next((m for m in models if m.name == "digits-cnn"), models[0])
    device = Device.objects.order_by("name").first()
    run = dict(model=model, source=device, strategy="local", timeout_s=30, base_url="http://127.0.0.1")
    finished = dict(state=RunState.COMPLETED, started_at=now, finished_at=now, created_by=user)
    job = Job.objects.create(**run, **finished, measured_latency_s=0.012, predicted_latency_s=0.010)
    session = Session.objects.create(**run, **finished, rate=10, frames=20)
    pages = {
        "fleet": "/",
        "device": f"/devices/{device.pk}/",
        "run form": "/run/",
        "live session": f"/live/sessions/{session.pk}/",
        "runs list": "/runs/",
        "job": f"/runs/jobs/{job.pk}/",
        "session record": f"/runs/sessions/{session.pk}/",
        "models": "/models/",
        "model detail": f"/models/{model.pk}/",
        "what-if": "/plans/",
        "alerts": "/alerts/",
        "enrollment": "/enroll/",
    }
    return pages, rows


# The static files of apps that no benchmarked page loads (the admin, the browsable API, the API docs'
# bundles): 650 of collectstatic's 750 files, and 23 of its 28 s of CPU here. --quick leaves them out.
QUICK_STATIC_IGNORE = ("admin", "rest_framework", "drf_spectacular_sidecar")


def collect_static(static_root: Path, ignore: tuple[str, ...] = ()) -> None:
    """``collectstatic`` as the image runs it (Dockerfile): hashed names, gzip and Brotli copies; ``ignore``:
    collectstatic's ``--ignore`` patterns."""
    env = {**os.environ, "EDGEORCH_STATIC_ROOT": str(static_root), "EDGEORCH_STATIC_MANIFEST": "true"}
    manage = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    subprocess.run(manage + [f"--ignore={p}" for p in ignore], cwd=ROOT, env=env, check=True)


def start_daphne(port: int, static_root: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PORT": str(port),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "EDGEORCH_STATIC_ROOT": str(static_root),
        "EDGEORCH_STATIC_MANIFEST": "true",
        "EDGEORCH_CHANNEL_PREFIX": "bench-dashboard",
        "EDGEORCH_LIVENESS_TIMEOUT": "600",
    }
    proc = subprocess.Popen(
        [str(ROOT / "scripts/web.sh")],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=open(f"/tmp/{DB}_daphne.log", "wb"),
    )
    for _ in range(150):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.2)
    raise SystemExit(f"Daphne did not start; see /tmp/{DB}_daphne.log")


def log_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/accounts/login/").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    session.post(
        base + "/accounts/login/",
        data={"username": "bench", "password": "bench-pass-123", "csrfmiddlewaretoken": token},
    )
    return session


def timed(session: requests.Session, url: str, repeat: int) -> tuple[float, float, int]:
    """Median time to first byte and to the whole body (ms), and the body size."""
    first, whole, size = [], [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        with session.get(url, stream=True) as response:
            response.raise_for_status()
            chunks = response.iter_content(65536)
            body = next(chunks, b"")
            first.append(time.perf_counter() - started)
            body += b"".join(chunks)
            whole.append(time.perf_counter() - started)
            size = len(body)
    return statistics.median(first) * 1000, statistics.median(whole) * 1000, size


# The first contentful paint's entry can come after the load event (seen once in ten --quick runs under load):
# polled for (``first_paint``); a page that never records one in 15 s counts as not painted (None).
FIRST_PAINT = "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime"


def first_paint(page, timeout_s: float = 15.0) -> float | None:
    """The page's first contentful paint (ms since navigation), polled by ``page.evaluate``: the pages'
    Content-Security-Policy refuses the string evaluation ``wait_for_function`` makes of an expression."""
    end = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(FIRST_PAINT)
        if value is not None or time.monotonic() > end:
            return value
        time.sleep(0.05)


# A page's data is there when (all three): its deferred scripts have run (DOMContentLoaded has ended: for a
# server-rendered page that is all of it); where it has a live connection (its dot shown), its snapshot is
# drawn (the live dot turns green); every visible chart is drawn by plotly. The answer is ms since navigation
# started: polled from DOMContentLoaded on each animation frame, and DOMContentLoaded's end where all was
# there at the first poll.
DATA_READY = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  if (!nav || !nav.domContentLoadedEventEnd) return false;
  const first = !window.__benchPolled;
  window.__benchPolled = true;
  const live = document.getElementById("live-status");
  if (live && !live.hidden && live.dataset.state !== "on") return false;
  for (const chart of document.querySelectorAll(".chart, #whatif-chart")) {
    if (chart.offsetParent !== null && !chart.classList.contains("js-plotly-plot")) return false;
  }
  return first ? nav.domContentLoadedEventEnd : performance.now();
}"""


# Chromium's network emulation switched off again (a throughput of -1: no throttling).
UNTHROTTLED = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


def browser_times(
    base: str, runs: list[tuple[dict | None, dict[str, str]]], repeat: int
) -> list[dict[str, tuple[float | None, float | None, int]]]:
    """For each run (``link``, ``pages``) in turn, per page name: median ms from navigation to the first
    contentful paint and to its data (None where one did not come within 15 s), and the bytes transferred, on
    a first visit (cache off); ``link`` is Chromium's network emulation (None: unthrottled). One Chromium,
    logged in once, loads the pages of every run."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(base + "/accounts/login/")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", "bench-pass-123")
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        throttled = False
        for link, pages in runs:
            if link or throttled:
                cdp.send("Network.emulateNetworkConditions", {**UNTHROTTLED, **(link or {})})
                throttled = bool(link)
            out = {}
            for name, path in pages.items():
                paints, data, sizes = [], [], []
                for _ in range(repeat):
                    page.goto(base + path, wait_until="domcontentloaded")
                    try:
                        ready = page.wait_for_function(DATA_READY, polling="raf", timeout=15000)
                        data.append(ready.json_value())
                    except PlaywrightTimeout:
                        data.append(None)
                    page.wait_for_load_state("load")
                    paints.append(first_paint(page))
                    sizes.append(
                        page.evaluate(
                            "performance.getEntriesByType('navigation')[0].transferSize + performance"
                            ".getEntriesByType('resource').reduce((a, r) => a + r.transferSize, 0)"
                        )
                    )
                reached = [d for d in data if d is not None]
                painted = [p for p in paints if p is not None]
                out[name] = (
                    statistics.median(painted) if len(painted) == len(paints) else None,
                    statistics.median(reached) if len(reached) == len(data) else None,
                    int(statistics.median(sizes)),
                )
            results.append(out)
        browser.close()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--every", type=int, default=10, help="seconds between a device's records")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--mbps", type=float, default=10, help="the emulated link's rate, both ways")
    parser.add_argument("--latency-ms", type=float, default=20, help="the emulated link's added latency")
    parser.add_argument("--write", action="store_true")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run of every step: 101 devices (the fleet page's script draws them) at a record per 5 "
        "minutes, one model (digits-cnn), the static files of the pages' own apps, one load a page, the "
        "emulated link on the fleet and device pages only, nothing written",
    )
    args = parser.parse_args()
    if args.quick:
        args.devices, args.every, args.repeat, args.write = None, 300, 1, False
    pages, rows = setup(args.devices, args.every, zoo=("digits-cnn",) if args.quick else ())
    static_root = Path(tempfile.mkdtemp(prefix="bench-dashboard-static-"))
    collect_static(static_root, QUICK_STATIC_IGNORE if args.quick else ())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    daphne = start_daphne(port, static_root)
    link = {
        "latency": args.latency_ms,
        "downloadThroughput": args.mbps * 1e6 / 8,
        "uploadThroughput": args.mbps * 1e6 / 8,
    }
    try:
        base = f"http://127.0.0.1:{port}"
        session = log_in(base)
        device_id = pages["device"].split("/")[2]
        session.get(base + "/api/dashboard/fleet/")  # warm the server's caches and connections
        api_rows = []
        for name, path in [
            ("Fleet page (HTML)", "/"),
            ("Fleet snapshot API", "/api/dashboard/fleet/"),
            ("Device page (HTML)", pages["device"]),
            ("Device snapshot API", f"/api/dashboard/devices/{device_id}/"),
        ]:
            ttfb, total, size = timed(session, base + path, args.repeat)
            api_rows.append([name, f"{ttfb:.0f}", f"{total:.0f}", f"{size / 1024:.0f}"])
        browser_rows = []
        if os.path.exists(CHROMIUM):
            on_link = {n: p for n, p in pages.items() if n in QUICK_LINK_PAGES} if args.quick else pages
            fast, slow = browser_times(base, [(None, pages), (link, on_link)], args.repeat)
            for name in pages:
                slow_times = slow[name][:2] if name in slow else (None, None)
                browser_rows.append(
                    [name, f"{fast[name][2] / 1024:.0f}"]
                    + [f"{v:.0f}" if v is not None else "—" for v in (*fast[name][:2], *slow_times)]
                )
    finally:
        os.killpg(daphne.pid, signal.SIGTERM)
        shutil.rmtree(static_root, ignore_errors=True)
    api_table = markdown_table(["what", "first byte ms", "whole body ms", "KiB"], api_rows)
    rate = f"{args.mbps:g} Mbit/s + {args.latency_ms:g} ms"
    browser_table = markdown_table(
        [
            "page",
            "KiB transferred",
            "first paint ms",
            "data ms",
            f"{rate}: first paint ms",
            f"{rate}: data ms",
        ],
        browser_rows,
    )
    print(api_table + "\n\n" + browser_table)
    if args.write:
        cmd = (
            f"`.venv/bin/python bench/bench_dashboard.py --devices {args.devices} --every {args.every}"
            + (f" --repeat {args.repeat}" if args.repeat != 7 else "")
            + " --write`"
        )
        body = (
            f"Machine: {machine()}. Command: {cmd}.\n\n"
            f"{args.devices} devices and a day of telemetry at one record per {args.every} s each "
            f"({rows:,} rows, 12 metrics per record) in PostgreSQL; one Daphne, DEBUG off, static files "
            "collected as the image does (hashed names, compressed copies, served by WhiteNoise). Medians of "
            f"{args.repeat} requests by a logged-in client. The fleet snapshot is one SQL query (per device: "
            "an index probe for the latest record and a 15-minute window bucketed to 30 s maxima).\n\n"
            + api_table
            + "\n\nEvery page in headless Chromium at 1440×900, a first visit (cache disabled), medians of "
            f"{args.repeat} loads, unthrottled and on a link emulated by Chromium at {rate} "
            '(`Network.emulateNetworkConditions`). "First paint" is the first contentful paint; "data" is '
            "when the page's data is drawn: its deferred scripts have run, its live snapshot is drawn where "
            "it has one (the live dot turns green: for the fleet page, every device's sparklines and latest "
            "values), and every visible chart is drawn. Over plain HTTP Chromium asks for gzip, not Brotli "
            "(it offers Brotli over HTTPS only), so the transfer sizes are gzip's.\n\n" + browser_table
        )
        write_section("## Dashboard\n\n" + body)


if __name__ == "__main__":
    main()
