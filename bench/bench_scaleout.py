"""Scale-out: telemetry ingest with 1 vs 2 web processes, and job throughput with 1 vs 2 Celery workers.

    .venv/bin/python bench/bench_scaleout.py [--agents N] [--records N] [--seconds S] [--jobs N] [--write]

Everything on this host, against one PostgreSQL and one Redis (a database of its own, recreated), as
docs/deploy.md's "Several hosts" runs it, in one run so the ratios compare like with like:

* **telemetry**: ``--agents`` simulated agents (bench_telemetry's asyncio clients, the real protocol), each
  sending one batch of ``--records`` records a second — more than one Daphne stores here — spread over one,
  then two Daphne processes; records stored per second over ``--seconds``, the p99 delay from send to row,
  and the CPU each kind of process used in the window (Daphne, the load generator, the whole host);
* **jobs**: one Daphne and two agents; ``--jobs`` one-shot ``local`` digits-cnn jobs submitted at once
  (8 clients in parallel), served by one, then two Celery workers (``--concurrency 1`` each: the process,
  not the pool, is what scales out); jobs completed per second from the first submission to the last result,
  and the CPU of the workers, Daphne, the agents and the whole host.

The host has two cores and every process shares them: the ratio says what a second process buys when the
cores are already busy; the CPU columns say where the time went. With --write, replaces the "## Scale-out"
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench import bench_jobs, bench_telemetry  # noqa: E402
from bench._common import machine, markdown_table, product_environment, write_section  # noqa: E402
from tests import support  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_scaleout.py --write"
BIN = Path(sys.executable).parent


class CpuMeter:
    """CPU seconds (user + system) used by groups of long-lived processes (and their children) between
    ``start`` and ``stop``, and by the whole host (every core's non-idle time): PostgreSQL's backends come and
    go with connections, so its share is in the host's, not counted apart."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups

    def _now(self) -> dict[str, float]:
        out = {}
        for name, pids in self.groups.items():
            total = 0.0
            for pid in pids:
                if pid == os.getpid():
                    t = os.times()
                    total += t.user + t.system
                    continue
                try:
                    procs = [psutil.Process(pid)]
                    procs += procs[0].children(recursive=True)
                    total += sum(sum(p.cpu_times()[:2]) for p in procs)
                except psutil.NoSuchProcess:
                    pass
            out[name] = total
        host = psutil.cpu_times()
        out["host"] = host.user + host.nice + host.system + host.irq + host.softirq + host.steal
        return out

    def start(self):
        self.t0, self.before = time.monotonic(), self._now()
        return self

    def stop(self) -> dict[str, float]:
        after, wall = self._now(), time.monotonic() - self.t0
        return {name: (after[name] - self.before[name]) / wall for name in after}  # cores busy on average


def spawn_web(fleet: bench_jobs.Fleet, name: str, port: int) -> None:
    import requests

    fleet.spawn(
        name, [str(ROOT / "scripts/web.sh")], {**fleet.env, "PORT": str(port), "LOG_LEVEL": "WARNING"}
    )
    bench_jobs.wait_until(
        lambda: bench_jobs._answers(requests, f"http://127.0.0.1:{port}"), what=name, interval=0.2
    )


def telemetry_rows(env: dict, workdir: Path, agents: int, records: int, seconds: int) -> list[list]:
    fleet_devices = bench_telemetry.enroll(agents)
    ids = [d for d, _ in fleet_devices]
    rows, base = [], None
    for webs in (1, 2):
        fleet = bench_jobs.Fleet(env, workdir)
        ports = [support.free_port() for _ in range(webs)]
        try:
            for i, port in enumerate(ports):
                spawn_web(fleet, f"telemetry-web-{webs}-{i}", port)
            meter = CpuMeter(
                {
                    "daphne": [p.pid for p in fleet.procs],
                    "load generator": [os.getpid()],
                }
            )
            urls = [f"ws://127.0.0.1:{port}/ws/agent/" for port in ports]
            meter.start()
            counters, errors = asyncio.run(bench_telemetry.run_fleet(urls, fleet_devices, records, seconds))
            cpu = meter.stop()
        finally:
            fleet.stop()
        start = counters.get("steady_from", time.time()) + 2
        stored, _, p99 = bench_telemetry.measure(ids, start, start + seconds)
        rate = stored / seconds
        base = base or rate
        rows.append(
            [webs, agents * records, f"{rate:,.0f}", f"{rate / base:.2f}x", f"{(p99 or 0) * 1e3:,.0f}",
             f"{cpu['daphne']:.2f}", f"{cpu['load generator']:.2f}", f"{cpu['host']:.2f}", len(errors)]
        )  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def jobs_rows(env: dict, workdir: Path, count: int) -> list[list]:
    import requests
    from django.contrib.auth.models import User

    from edgeorch.api.keys import create_key
    from edgeorch.catalog import services as catalog
    from edgeorch.devices import services as devices
    from edgeorch.devices.models import Device
    from edgeorch.jobs.models import Job

    digits = next(m for m in catalog.register_zoo() if m.name == "digits-cnn")
    admin = User.objects.create_superuser("bench", password="bench-pass-123")
    api = requests.Session()
    api.headers["Authorization"] = f"Token {create_key(admin)}"
    fleet = bench_jobs.Fleet(env, workdir)
    rows, base = [], None
    try:
        source, _ = fleet.start([devices.create_enrollment_token()[1] for _ in range(2)])
        bench_jobs.wait_until(
            lambda: Device.objects.filter(status="online", dataplane_port__isnull=False).count() == 2,
            what="both agents online",
            interval=0.2,
        )
        body = {"model": digits.pk, "source": source, "strategy": "local", "seed": 1}
        bench_jobs.run_jobs(api, fleet.url, body, 1)  # deploys, and warms every process up
        daphne, first_worker, *agent_procs = fleet.procs
        for workers in (1, 2):
            if workers == 2:
                fleet.spawn(
                    "celery-2",
                    [str(BIN / "celery"), "-A", "edgeorch", "worker", "-n", "second@%h", "-l", "warning",
                     "--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                )  # fmt: skip
                time.sleep(5)  # until it consumes
            meter = CpuMeter(
                {
                    "workers": [p.pid for p in fleet.procs if p not in (daphne, *agent_procs)],
                    "daphne": [daphne.pid],
                    "agents": [p.pid for p in agent_procs],
                }
            ).start()
            started = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                ids = list(
                    pool.map(
                        lambda _: api.post(fleet.url + "/api/jobs/", json=body, timeout=60).json()["id"],
                        range(count),
                    )
                )
            bench_jobs.wait_until(
                lambda ids=ids: (
                    Job.objects.filter(pk__in=ids, state__in=["completed", "failed"]).count() == len(ids)
                ),
                timeout=300,
                interval=0.05,
                what=f"{count} jobs",
            )
            wall = time.monotonic() - started
            cpu = meter.stop()
            failed = Job.objects.filter(pk__in=ids, state="failed").count()
            rate = (count - failed) / wall
            base = base or rate
            rows.append(
                [workers, count, f"{wall:.1f}", f"{rate:.1f}", f"{rate / base:.2f}x", f"{cpu['workers']:.2f}",
                 f"{cpu['daphne']:.2f}", f"{cpu['agents']:.2f}", f"{cpu['host']:.2f}", failed]
            )  # fmt: skip
            print(rows[-1], flush=True)
    finally:
        fleet.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=400, help="simulated agents (telemetry)")
    parser.add_argument("--records", type=int, default=40, help="records per batch, one batch a second")
    parser.add_argument("--seconds", type=int, default=15, help="measured telemetry window")
    parser.add_argument("--jobs", type=int, default=60, help="jobs submitted at once per worker count")
    parser.add_argument(
        "--write", action="store_true", help="replace the Scale-out section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    # A database of its own (the other benchmarks recreate edgeorch_bench).
    env = product_environment(workdir, "edgeorch_bench_scaleout", f"bench-{os.getpid()}",
                              EDGEORCH_TELEMETRY_INTERVAL="1")  # fmt: skip
    for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "EDGEORCH_RUN_DIR",
                "EDGEORCH_MEDIA_ROOT", "EDGEORCH_CHANNEL_PREFIX", "EDGEORCH_CELERY_QUEUE"):  # fmt: skip
        os.environ[key] = env[key]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edgeorch.settings")
    bench_jobs.recreate_database(env)
    import django

    django.setup()
    load_before = os.getloadavg()[0]
    telemetry = telemetry_rows(env, workdir, args.agents, args.records, args.seconds)
    jobs = jobs_rows(env, workdir, args.jobs)
    t_table = markdown_table(
        ["web processes", "records offered/s", "records stored/s", "vs 1", "p99 send→row ms",
         "Daphne cores busy", "load generator cores busy", "host cores busy", "client errors"],
        telemetry,
    )  # fmt: skip
    j_table = markdown_table(
        ["workers", "jobs", "wall s", "jobs/s", "vs 1", "worker cores busy", "Daphne cores busy",
         "agents cores busy", "host cores busy", "failed"],
        jobs,
    )  # fmt: skip
    print(t_table + "\n\n" + j_table)
    if args.write:
        write_section(
            "## Scale-out\n\n"
            f"`{COMMAND}` — {machine()}; load average {load_before:.1f} when it started. One PostgreSQL, one "
            "Redis, everything on this host (bench/bench_scaleout.py's docstring says what runs). "
            '"Cores busy" is CPU seconds per second of the window, children included; the host has '
            f"{os.cpu_count()}.\n\n"
            f"Telemetry ingest, 1 vs 2 Daphne processes:\n\n{t_table}\n\n"
            f"Job throughput, 1 vs 2 Celery workers:\n\n{j_table}\n"
        )


if __name__ == "__main__":
    main()
