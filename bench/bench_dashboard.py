"""Dashboard pages at fleet scale: 500 devices and a day of telemetry, time to first byte and to render.

A separate database (``edgeorch_bench_dashboard``) gets N devices and a day of telemetry at one record per
``--every`` seconds per device (default 10 s: 4.3 M rows for 500 devices), inserted by ``generate_series`` in
PostgreSQL itself. One Daphne serves it; each URL is fetched ``--repeat`` times by a logged-in client (the
median is shown). With Debian's Chromium present, the Fleet and device pages are also timed in a headless
browser until their live snapshot is drawn.

    .venv/bin/python bench/bench_dashboard.py [--devices 500] [--every 10] [--repeat 7] [--write]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import ROOT, django_on_fresh_database, machine, markdown_table, write_section  # noqa: E402

DB = "edgeorch_bench_dashboard"
CHROMIUM = "/usr/bin/chromium"

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


def setup(devices: int, every: int) -> str:
    django_on_fresh_database(DB)
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from edgeorch.devices.models import Device

    User.objects.create_superuser("bench", password="bench-pass-123")
    now = timezone.now()
    Device.objects.bulk_create(
        Device(name=f"dev-{i:04}", status="online", last_seen=now, credential_hash="x" * 64, profile="rpi4")
        for i in range(devices)
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL, {"every": every, "count": 86400 // every})
        cursor.execute("analyze")
        cursor.execute("select count(*) from telemetry_telemetryrecord")
        rows = cursor.fetchone()[0]
    print(f"{rows:,} telemetry rows inserted in {time.perf_counter() - started:.0f} s")
    return str(Device.objects.order_by("name").first().pk), rows


def start_daphne(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PORT": str(port),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "EDGEORCH_CHANNEL_PREFIX": "bench-dashboard",
        "EDGEORCH_LIVENESS_TIMEOUT": "600",
    }
    proc = subprocess.Popen(
        [str(ROOT / "scripts/web.sh")],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=open("/tmp/bench_dashboard_daphne.log", "wb"),
    )
    for _ in range(150):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.2)
    raise SystemExit("Daphne did not start; see /tmp/bench_dashboard_daphne.log")


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


FIRST_PAINT = "performance.getEntriesByName('first-contentful-paint')[0].startTime"


def browser_times(base: str, device_id: str, repeat: int) -> dict[str, tuple[float, float]]:
    """Per page path, median ms from navigation to the first contentful paint (what the server rendered)
    and to the live snapshot drawn (the live dot turns green)."""
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        page = browser.new_page()
        page.goto(base + "/accounts/login/")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", "bench-pass-123")
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        for path in ["/", f"/devices/{device_id}/"]:
            times, paints = [], []
            for _ in range(repeat):
                started = time.perf_counter()
                page.goto(base + path)
                page.wait_for_selector("#live-status[data-state=on]", timeout=30000)
                times.append(time.perf_counter() - started)
                paints.append(page.evaluate(FIRST_PAINT) / 1000)
            out[path] = (statistics.median(paints) * 1000, statistics.median(times) * 1000)
        browser.close()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--every", type=int, default=10, help="seconds between a device's records")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    device_id, rows = setup(args.devices, args.every)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    daphne = start_daphne(port)
    try:
        base = f"http://127.0.0.1:{port}"
        session = log_in(base)
        urls = [
            ("Fleet page (HTML)", "/"),
            ("Fleet snapshot API", "/api/dashboard/fleet/"),
            ("Device page (HTML)", f"/devices/{device_id}/"),
            ("Device snapshot API", f"/api/dashboard/devices/{device_id}/"),
        ]
        session.get(base + "/api/dashboard/fleet/")  # warm the server's caches and connections
        rendered = browser_times(base, device_id, args.repeat) if os.path.exists(CHROMIUM) else {}
        table_rows = []
        for name, path in urls:
            ttfb, total, size = timed(session, base + path, args.repeat)
            paint, drawn = rendered.get(path, (None, None))
            table_rows.append(
                [
                    name,
                    f"{ttfb:.0f}",
                    f"{total:.0f}",
                    f"{size / 1024:.0f}",
                    f"{paint:.0f}" if paint else "—",
                    f"{drawn:.0f}" if drawn else "—",
                ]
            )
    finally:
        os.killpg(daphne.pid, signal.SIGTERM)
    headers = [
        "what",
        "first byte ms",
        "whole body ms",
        "KiB",
        "browser: first paint ms",
        "browser: snapshot drawn ms",
    ]
    table = markdown_table(headers, table_rows)
    print(table)
    if args.write:
        cmd = (
            f"`.venv/bin/python bench/bench_dashboard.py --devices {args.devices} --every {args.every}"
            " --write`"
        )
        body = (
            f"Machine: {machine()}. Command: {cmd}.\n\n"
            f"{args.devices} devices and a day of telemetry at one record per {args.every} s each "
            f"({rows:,} rows, 12 metrics per record) in PostgreSQL; one Daphne. Medians of "
            f"{args.repeat} requests by a logged-in client. The fleet snapshot is one SQL query (per device: "
            "an index probe for the latest record and a 15-minute window bucketed to 30 s maxima). "
            'In headless Chromium, "first paint" is the first contentful paint (the server-rendered page, '
            'every device with its status and last seen) and "snapshot drawn" is from navigation until the '
            "live snapshot (sparklines, latest values) is rendered.\n\n" + table
        )
        write_section("## Dashboard\n\n" + body)


if __name__ == "__main__":
    main()
