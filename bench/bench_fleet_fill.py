"""The fleet page's live fill at fleet scale, two versions of the code side by side on one database.

Where a 500-device fleet page's time goes, from Chromium's own timing: the page's HTML (response end, KiB),
DOMContentLoaded, the snapshot request (``/api/dashboard/fleet/``: sent, first byte, end, KiB), the table
drawn (fleet.js's ``eo:fleet-drawn`` mark, where the code has it) and the bench's "data" moment
(``bench_dashboard.DATA_READY``: the live snapshot drawn). ``--against DIR`` serves a second checkout (for
example ``git archive <rev> | tar -x -C DIR``) from its own Daphne on the same database, and the two are
loaded in turn, so both see the same load on a shared machine (a folder served twice, as the documentation's
tests do with ``--quick --against .``, has its static files collected once). The database gets
``--devices`` devices and an hour of telemetry at one record per 10 s each (the snapshot reads the last 15
minutes of it). After each load the range picker is set to 24 h (where the code has one): the sparklines
redrawn from ``/api/dashboard/fleet/?since=`` (every device's peaks of the hour stored, in 24-minute
buckets), ms from the pick to the table drawn, and that answer's KiB.

First it times the ingest statement (``telemetry.services._PG_INSERT``, which also keeps the fleet's peaks)
against the records-only statement it replaced (``RECORDS_ONLY``), in turn, on flushes of ``--records``
records from every device (each flush rolled back, so both write into the same state): records stored/s.

    .venv/bin/python bench/bench_fleet_fill.py [--devices 500] [--repeat 7] [--against DIR] [--records 10]
        [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import ROOT, django_on_fresh_database, markdown_table  # noqa: E402
from bench.bench_dashboard import (  # noqa: E402
    CHROMIUM,
    DATA_READY,
    FILL,
    QUICK_STATIC_IGNORE,
    fill_peaks,
    quick_fleet,
)

DB = os.environ.get("BENCH_FLEET_FILL_DB", "edgeorch_bench_fleet_fill")

BREAKDOWN = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const snap = performance.getEntriesByType("resource").find((r) => r.name.includes("/api/dashboard/fleet/"));
  const drawn = performance.getEntriesByName("eo:fleet-drawn")[0];
  return {html: nav.responseEnd, html_kib: nav.transferSize / 1024, dcl: nav.domContentLoadedEventEnd,
    sent: snap && snap.startTime, first_byte: snap && snap.responseStart, snapshot: snap && snap.responseEnd,
    snapshot_kib: snap && snap.transferSize / 1024, drawn: drawn ? drawn.startTime : null,
    rows: document.querySelectorAll("#devices tbody tr[data-device]").length};
}"""
# The range picker set to 24 h: ms until the table is drawn from the range's answer (null: no picker).
RANGE = """async () => {
  const select = document.querySelector("#fleet-range select");
  if (!select) return {range: null, range_kib: null};
  const table = document.getElementById("devices");
  const started = performance.now();
  select.value = "24h";
  select.dispatchEvent(new Event("change", {bubbles: true}));
  while (table.dataset.bucket !== "1440" && performance.now() - started < 60000) {
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
  if (table.dataset.bucket !== "1440") throw new Error("the 24 h range was not drawn in 60 s");
  const took = performance.now() - started;
  const answer = performance.getEntriesByType("resource")
    .find((r) => r.name.includes("/api/dashboard/fleet/?since="));
  return {range: took, range_kib: answer ? answer.transferSize / 1024 : null};
}"""
COLUMNS = [
    "html",
    "html_kib",
    "dcl",
    "sent",
    "first_byte",
    "snapshot",
    "snapshot_kib",
    "drawn",
    "data",
    "rows",
    "range",
    "range_kib",
]


def setup(devices: int | None) -> int:
    """The database with ``devices`` devices (None: ``--quick``'s, ``quick_fleet()``) and their hour of
    telemetry; returns how many devices."""
    django_on_fresh_database(DB)
    devices = quick_fleet() if devices is None else devices
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
    with connection.cursor() as cursor:
        cursor.execute(FILL.replace("interval '1 day'", "interval '1 hour'"), {"every": 10, "count": 360})
        fill_peaks(cursor)
        cursor.execute("analyze")
    return devices


# The ingest statement before it kept the fleet's peaks (telemetry.services._PG_INSERT, before 0002).
RECORDS_ONLY = """
    insert into telemetry_telemetryrecord (device_id, seq, ts, received_at, metrics)
    select u.device_id, u.seq, to_timestamp(u.ts), %s, m.metrics
    from unnest(%s::uuid[], %s::bigint[], %s::float8[]) with ordinality as u(device_id, seq, ts, i)
    join jsonb_array_elements(%s::jsonb) with ordinality as m(metrics, i) using (i)
    on conflict (device_id, seq) do nothing
    returning device_id, seq
"""


def time_ingest(records: int, flushes: int = 7) -> dict[str, float]:
    """Median records stored/s of one flush (``records`` new records from every device) per statement."""
    import json
    import random

    from django.db import connection, transaction
    from django.utils import timezone

    from edgeorch.devices.models import Device
    from edgeorch.telemetry import services

    ids = [str(pk) for pk in Device.objects.values_list("pk", flat=True)]
    now = timezone.now()
    base = now.timestamp()
    rows = [(d, 10_000 + i, base + i) for d in ids for i in range(records)]
    metrics = [
        {
            "cpu.percent": round(100 * random.random(), 1),
            "temp.cpu": 50.0 + i % 30,
            "temp.gpu": 45.0,
            "load.1m": 1.0,
        }
        for i in range(len(rows))
    ]
    params = [
        now,
        [d for d, _, _ in rows],
        [s for _, s, _ in rows],
        [t for _, _, t in rows],
        json.dumps(metrics),
    ]
    times: dict[str, list[float]] = {"records only": [], "records and peaks": []}
    for _ in range(flushes):
        for name, sql in (("records only", RECORDS_ONLY), ("records and peaks", services._PG_INSERT)):
            with transaction.atomic(), connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(sql, params)
                assert len(cursor.fetchall()) == len(rows)
                times[name].append(time.perf_counter() - started)
                transaction.set_rollback(True)
    return {name: len(rows) / statistics.median(t) for name, t in times.items()}


def checkout_env(root: Path, static: Path) -> dict[str, str]:
    """The environment ``root``'s processes run in: its own packages first, its static files in ``static``."""
    return {
        **os.environ,
        "PYTHONPATH": f"{root}/agents:{root}/wire:{root}/clients/python",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "EDGEORCH_STATIC_ROOT": str(static),
        "EDGEORCH_STATIC_MANIFEST": "true",
    }


def collect_static(root: Path, name: str, ignore: tuple[str, ...] = ()) -> Path:
    """``root``'s static files collected as the image does (hashed names, compressed copies), but for those
    matching ``ignore`` (collectstatic's ``--ignore`` patterns): their folder."""
    static = Path(tempfile.mkdtemp(prefix=f"bench-fleet-fill-{name}-"))
    manage = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    manage += [f"--ignore={p}" for p in ignore]
    subprocess.run(manage, cwd=root, env=checkout_env(root, static), check=True)
    return static


def serve(root: Path, name: str, static: Path) -> tuple[subprocess.Popen, int]:
    """``root``'s Daphne on the bench database, DEBUG off, serving the static files collected in ``static``,
    started (``listening`` waits for it): the process and its port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = checkout_env(root, static)
    env |= {"PORT": str(port), "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING", "DEBUG": "false"}
    env |= {"EDGEORCH_CHANNEL_PREFIX": f"bench-fleet-fill-{name}", "EDGEORCH_LIVENESS_TIMEOUT": "6000"}
    log = open(f"/tmp/{DB}_{name}.log", "wb")
    proc = subprocess.Popen(
        [str(root / "scripts/web.sh")],
        cwd=root,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    return proc, port


def listening(port: int, name: str) -> str:
    """The base URL of the Daphne ``serve`` started on ``port``, once it accepts connections."""
    for _ in range(300):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return f"http://127.0.0.1:{port}"
        time.sleep(0.2)
    raise SystemExit(f"Daphne did not start; see /tmp/{DB}_{name}.log")


def measure(bases: dict[str, str], repeat: int) -> dict[str, list[dict]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[dict]] = {name: [] for name in bases}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        pages = {}
        for name, base in bases.items():
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(base + "/accounts/login/")
            page.fill("input[name=username]", "bench")
            page.fill("input[name=password]", "bench-pass-123")
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            cdp = page.context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            pages[name] = page
        for _ in range(repeat):
            for name, page in pages.items():  # in turn: both see the same load
                page.goto(bases[name] + "/", wait_until="domcontentloaded")
                data = page.wait_for_function(DATA_READY, polling="raf", timeout=60000).json_value()
                page.wait_for_function("document.querySelectorAll('#devices tbody tr[data-device]').length")
                out[name].append({**page.evaluate(BREAKDOWN), "data": data, **page.evaluate(RANGE)})
        browser.close()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--against", type=Path, help="another checkout, served side by side")
    parser.add_argument("--records", type=int, default=10, help="records per device in a timed ingest flush")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 101 devices (the fleet page's script draws them), two ingest flushes, the static "
        "files of the page's own apps, one load",
    )
    args = parser.parse_args()
    if args.quick:
        args.devices, args.repeat = None, 1
    args.devices = setup(args.devices)
    ingest = time_ingest(args.records, flushes=2 if args.quick else 7)
    flush = f"{args.devices} devices x {args.records} records"
    print(", ".join(f"{name}: {rate:,.0f} records/s" for name, rate in ingest.items()), f"({flush}, medians)")
    roots = {"this": ROOT, **({"against": args.against.resolve()} if args.against else {})}
    statics: dict[Path, Path] = {}  # one collection per folder: a quick run may serve this one twice
    servers: dict[str, tuple[subprocess.Popen, int]] = {}
    try:
        for name, root in roots.items():
            if root not in statics:
                statics[root] = collect_static(root, name, QUICK_STATIC_IGNORE if args.quick else ())
            servers[name] = serve(root, name, statics[root])
        bases = {name: listening(port, name) for name, (_, port) in servers.items()}
        runs = measure(bases, args.repeat)
    finally:
        for proc, _ in servers.values():
            os.killpg(proc.pid, signal.SIGTERM)
        for static in statics.values():
            shutil.rmtree(static, ignore_errors=True)
    rows = []
    for name, loads in runs.items():
        cells = []
        for column in COLUMNS:
            values = [load[column] for load in loads if load[column] is not None]
            cells.append(f"{statistics.median(values):.0f}" if values else "—")
        rows.append([f"{name} ({roots[name]})", *cells])
    header = [
        "code",
        "HTML ms",
        "HTML KiB",
        "DOMContentLoaded ms",
        "snapshot sent ms",
        "snapshot first byte ms",
    ]
    header += ["snapshot end ms", "snapshot KiB", "table drawn ms", "data ms", "rows", "24 h range ms"]
    header += ["24 h range KiB"]
    print(f"{args.devices} devices, medians of {args.repeat} loads (ms since navigation started)\n")
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
