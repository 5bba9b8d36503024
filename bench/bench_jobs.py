"""Jobs benchmark: what the control plane adds to split inference, and how well the plan predicts latency.

    .venv/bin/python bench/bench_jobs.py [--write] [--quick] [--models digits-cnn,alexnet] [--jobs 10]

Starts what the product runs — Daphne, a Celery worker, two local agents — against its own PostgreSQL
database (``edgeorch_bench``, recreated) and Redis, registers the zoo, and for each model measures:

* bare: the full model in this process with onnxruntime (median of the runs);
* 1-stage: a job planned ``local`` on agent A; 2-stage: ``split`` at the middle block from A to B;
* for each, over ``--jobs`` one-shot jobs after a warm-up job (which deploys): the server-side time from
  submission to the stored result, the work the agents report (queue + compute + serialise + transfer, summed
  over the trace), and the control plane's overhead = the difference (Celery pickup, planning, the ``run``
  message, the input download, the ``result`` message and storing it); target under 5 ms;
* streamed (2-stage): a session of frames; per-frame overhead = frame latency minus the traced work (no
  control-plane round trip per frame; target under 0.5 ms);
* MAPE of the job's predicted latency (the plan's, plus what recent jobs on its deployment took beyond their
  plan) against the measured (run sent to result stored).

The agents are unprofiled, so predictions use the planner's estimate (MACs over a default rate) unless a
profile is run first; ``--profile`` profiles each model on both agents before its jobs.
With --write, replaces the "## Jobs" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
from tests import support  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_jobs.py --write --profile"  # --agent-threads 1 is the default


def wait_until(predicate, timeout=60.0, interval=0.005, what="condition"):
    """``tests.support.wait_until`` polling every 5 ms by default (a job's end is noticed at once)."""
    return support.wait_until(predicate, timeout=timeout, interval=interval, message=what)


def environment(workdir: Path, agent_threads: int = 0) -> dict:
    from bench._common import product_environment

    return product_environment(
        workdir,
        "edgeorch_bench",
        f"bench-{os.getpid()}",
        EDGEORCH_TELEMETRY_INTERVAL="1",
        EDGEORCH_JOB_AGENT_THREADS=str(agent_threads),
    )


def recreate_database(env: dict) -> None:
    from bench._common import recreate_database as recreate

    recreate(env["DATABASE_URL"])
    subprocess.run([str(BIN / "python"), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


class Fleet:
    """Daphne, a Celery worker and two agents, stopped together."""

    def __init__(self, env: dict, workdir: Path):
        self.env, self.workdir, self.procs = env, workdir, []
        self.port = support.free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def spawn(self, name: str, cmd: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def start(self, tokens: list[str], agent_args: list[list[str]] | None = None) -> list[str]:
        """Daphne, the worker and one agent per token (``agent_args``: each agent's extra ``run`` flags)."""
        import requests

        self.spawn("daphne", [str(ROOT / "scripts/web.sh")], {**self.env, "PORT": str(self.port)})
        wait_until(lambda: _answers(requests, self.url), what="Daphne", interval=0.2)
        self.spawn(
            "celery",
            [
                str(BIN / "celery"),
                "-A",
                "edgeorch",
                "worker",
                "-l",
                "warning",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )
        ids = []
        extra = agent_args or [[] for _ in tokens]
        for name, token, flags in zip(("agent-a", "agent-b"), tokens, extra, strict=True):
            config = self.workdir / f"{name}.json"
            subprocess.run(
                [
                    str(BIN / "edgeorch-agent"),
                    "enroll",
                    "--server",
                    self.url,
                    "--token",
                    token,
                    "--name",
                    name,
                    "--config",
                    str(config),
                ],
                check=True,
                capture_output=True,
            )
            self.spawn(name, [str(BIN / "edgeorch-agent"), "run", "--config", str(config), *flags])
            ids.append(json.loads(config.read_text())["device_id"])
        return ids

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _answers(requests, url: str) -> bool:
    try:
        return requests.get(url + "/accounts/login/", timeout=5).status_code == 200
    except (requests.ConnectionError, requests.Timeout):  # not up yet, or still loading the application
        return False


def bare_ms(model, runs: int, threads: int | None = None) -> float:
    from edgeorch.catalog import runtime
    from edgeorch.jobs import inputs

    session = runtime.make_session(str(model.artifact_path), threads)
    feeds = {model.inputs[0]["name"]: inputs.random(model)}
    for _ in range(3):
        session.run(None, feeds)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def run_jobs(api, url: str, body: dict, count: int) -> list:
    from edgeorch.jobs.models import Job

    done = []
    for i in range(count + 1):  # the first one deploys: a warm-up
        response = api.post(url + "/api/jobs/", json=body, timeout=30)
        response.raise_for_status()
        pk = response.json()["id"]
        job = wait_until(
            lambda pk=pk: Job.objects.filter(pk=pk, state__in=["completed", "failed"]).first(),
            what=f"job {pk}",
        )
        if job.state != "completed":
            raise SystemExit(f"job {pk} failed: {job.reason}")
        if i:
            done.append(job)
    return done


def job_row(jobs) -> dict:
    from edgeorch.jobs import stats

    total = [(j.finished_at - j.created_at).total_seconds() for j in jobs]
    work = [sum(stats.stage_totals(j.trace).values()) for j in jobs]
    dispatch = [(j.started_at - j.created_at).total_seconds() for j in jobs]
    # The trace's clocks are the agents' (the same host here): the run message's way to the first stage,
    # and the result's way from the last stage's end to the stored row.
    run_hop = [j.trace[0]["start"] - j.trace[0].get("queue_s", 0.0) - j.started_at.timestamp() for j in jobs]
    result_hop = [j.finished_at.timestamp() - j.trace[-1]["end"] for j in jobs]
    measured = [j.measured_latency_s for j in jobs]
    predicted = [j.predicted_latency_s for j in jobs]
    return {
        "total_ms": statistics.median(total) * 1e3,
        "work_ms": statistics.median(work) * 1e3,
        "overhead_ms": statistics.median([t - w for t, w in zip(total, work, strict=True)]) * 1e3,
        "dispatch_ms": statistics.median(dispatch) * 1e3,
        "run_hop_ms": statistics.median(run_hop) * 1e3,
        "result_hop_ms": statistics.median(result_hop) * 1e3,
        "mape": float(np.mean([abs(m - p) / m for m, p in zip(measured, predicted, strict=True)])),
        "predicted_ms": statistics.median(predicted) * 1e3,
        "measured_ms": statistics.median(measured) * 1e3,
    }


def stream_row(api, url: str, body: dict) -> dict:
    from edgeorch.jobs import stats
    from edgeorch.jobs.models import Session

    response = api.post(url + "/api/sessions/", json=body, timeout=30)
    response.raise_for_status()
    pk = response.json()["id"]
    session = wait_until(
        lambda: Session.objects.filter(pk=pk, state__in=["completed", "failed"]).first(),
        timeout=300,
        what=f"session {pk}",
    )
    frames = [f for f in session.frame_records.all() if f.ok]
    if session.state != "completed" or not frames:
        raise SystemExit(f"session {pk}: {session.state} {session.reason}")
    overhead = [f.latency_s - sum(stats.stage_totals(f.trace).values()) for f in frames]
    # Where the untraced time lies: after each stage's compute and encoding until it hands the output on
    # (the stage thread waking the event loop), and from the last stage's end until the source hears of it
    # (the DONE frame's hop). The frame's latency starts as it enters stage 0's queue.
    hand_over = [
        sum(t["end"] - t["start"] - t["compute_s"] - t["serialize_s"] for t in f.trace) for f in frames
    ]
    done = [f.trace[0]["start"] - f.trace[0]["queue_s"] + f.latency_s - f.trace[-1]["end"] for f in frames]
    return {
        "frames": len(frames),
        "p50_ms": session.summary["latency_s"]["p50"] * 1e3,
        "fps": session.summary["throughput_fps"],
        "frame_overhead_ms": statistics.median(overhead) * 1e3,
        "hand_over_ms": statistics.median(hand_over) * 1e3,
        "done_ms": statistics.median(done) * 1e3,
    }


def profile(api, url: str, device_ids: list[str], model) -> None:
    from edgeorch.jobs.models import Measurement

    for device_id in device_ids:
        response = api.post(
            f"{url}/api/devices/{device_id}/profile/", json={"model": model.pk, "repeats": 10}, timeout=30
        )
        response.raise_for_status()
        pk = response.json()["id"]
        wait_until(
            lambda pk=pk: Measurement.objects.filter(pk=pk).exclude(state="pending").exists(),
            timeout=300,
            what=f"profile of {model}",
        )


def round_trips(env: dict, gap_s: float, count: int = 50) -> tuple[float, float]:
    """Median µs of one Redis PING and one PostgreSQL ``SELECT 1`` from this process, ``gap_s`` apart: what a
    single hop between two processes costs on this machine when the other one was asleep (as between jobs)."""
    import psycopg
    import redis

    r = redis.Redis.from_url(env["REDIS_URL"])
    pings, selects = [], []
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        for _ in range(count):
            for sink, call in ((pings, r.ping), (selects, lambda: conn.execute("select 1").fetchone())):
                time.sleep(gap_s)
                started = time.perf_counter()
                call()
                sink.append((time.perf_counter() - started) * 1e6)
    return statistics.median(pings), statistics.median(selects)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the Jobs section of docs/benchmarks.md")
    parser.add_argument("--quick", action="store_true", help="digits-cnn only, 5 jobs")
    parser.add_argument("--models", default="", help="comma-separated zoo names (default: all)")
    parser.add_argument("--jobs", type=int, default=10, help="one-shot jobs per configuration")
    parser.add_argument("--frames", type=int, default=40, help="frames per stream session")
    parser.add_argument("--profile", action="store_true", help="profile each model on both agents first")
    parser.add_argument(
        "--agent-threads",
        type=int,
        default=1,
        help="onnxruntime threads per agent (default 1: two emulated devices, a core each)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    env = environment(workdir, args.agent_threads)
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DATABASE_URL",
                "REDIS_URL",
                "SECRET_KEY",
                "DEBUG",
                "ALLOWED_HOSTS",
                "EDGEORCH_RUN_DIR",
                "EDGEORCH_MEDIA_ROOT",
                "EDGEORCH_CHANNEL_PREFIX",
            )
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edgeorch.settings")
    recreate_database(env)
    import django

    django.setup()
    import requests
    from django.contrib.auth.models import User

    from bench._common import machine, markdown_table, write_section
    from edgeorch.api.keys import create_key
    from edgeorch.catalog import services as catalog
    from edgeorch.devices import services as devices
    from edgeorch.devices.models import Device

    wanted = ["digits-cnn"] if args.quick else [m for m in args.models.split(",") if m]
    count = 5 if args.quick else args.jobs
    models = [m for m in catalog.register_zoo() if not wanted or m.name in wanted]
    admin = User.objects.create_superuser("bench", password="bench-pass-123")
    api = requests.Session()
    api.headers["Authorization"] = f"Token {create_key(admin)}"
    fleet = Fleet(env, workdir)
    try:
        a, b = fleet.start([devices.create_enrollment_token()[1] for _ in range(2)])
        wait_until(
            lambda: Device.objects.filter(status="online", dataplane_port__isnull=False).count() == 2,
            what="both agents online",
            interval=0.2,
        )
        rows, stream_rows = [], []
        hops = [(f"{gap * 1e3:g}", *(f"{us:.0f}" for us in round_trips(env, gap))) for gap in (0.0, 0.02)]
        for model in models:
            if args.profile:
                profile(api, fleet.url, [a, b], model)
            bare = bare_ms(model, 20, args.agent_threads or None)
            base = {"model": model.pk, "source": a, "seed": 1}
            one = job_row(run_jobs(api, fleet.url, {**base, "strategy": "local"}, count))
            cut = len(model.blocks) // 2
            split = {**base, "strategy": "split", "params": {"cut": cut, "device": b}}
            two = job_row(run_jobs(api, fleet.url, split, count))
            for label, r in (("1-stage", one), ("2-stage", two)):
                rows.append(
                    [
                        model.name,
                        label,
                        f"{bare:.2f}",
                        f"{r['total_ms']:.2f}",
                        f"{r['work_ms']:.2f}",
                        f"{r['overhead_ms']:.2f}",
                        f"{r['dispatch_ms']:.2f}",
                        f"{r['run_hop_ms']:.2f}",
                        f"{r['result_hop_ms']:.2f}",
                        f"{r['predicted_ms']:.2f}",
                        f"{r['measured_ms']:.2f}",
                        f"{r['mape']:.0%}",
                    ]
                )
                print(rows[-1], flush=True)
            rate = min(200.0, 0.5 / max(two["work_ms"] / 1e3, 1e-4))
            s = stream_row(
                api, fleet.url, {**split, "rate": rate, "frames": 20 if args.quick else args.frames}
            )
            stream_rows.append(
                [
                    model.name,
                    s["frames"],
                    f"{rate:.0f}",
                    f"{s['p50_ms']:.2f}",
                    f"{s['fps']:.1f}",
                    f"{s['frame_overhead_ms']:.3f}",
                    f"{s['hand_over_ms']:.3f}",
                    f"{s['done_ms']:.3f}",
                ]
            )
            print(stream_rows[-1], flush=True)
    finally:
        fleet.stop()
    one_shot = markdown_table(
        [
            "model",
            "job",
            "bare ms",
            "submit→result ms",
            "agents' work ms",
            "control-plane overhead ms",
            "of which dispatch ms",
            "run hop ms",
            "result hop ms",
            "predicted ms",
            "measured ms",
            "MAPE",
        ],
        rows,
    )
    hop_table = markdown_table(["gap between calls ms", "Redis PING µs", "PostgreSQL SELECT 1 µs"], hops)
    streamed = markdown_table(
        [
            "model",
            "frames",
            "rate /s",
            "p50 ms",
            "frames/s",
            "per-frame overhead ms",
            "of which: hand-overs ms",
            "DONE hop ms",
        ],
        stream_rows,
    )
    agent_threads = args.agent_threads
    section = f"""## Jobs

`{COMMAND}` — {machine()}. Daphne, one Celery worker and two agents on this host (loopback data plane),
PostgreSQL and Redis local. Medians over {count} one-shot jobs per row after a warm-up job that deploys.
*submit→result*: server time from the job row's creation to the stored result. *agents' work*: the trace's
queue + compute + serialise + transfer, summed over stages. *control-plane overhead*: the difference
(Celery pickup, planning, the `run` message, the `result` message and storing it); *dispatch* is its part
before the `run` message is sent (job created → `started_at`), *run hop* from then to the first stage's
arrival at its agent, *result hop* from the last stage's end to the stored result. Each agent runs
onnxruntime with {agent_threads or "its default"} intra-op thread(s) (`--agent-threads`): two emulated
devices on this host, so that one device's compute does not take the other's core. *predicted* vs
*measured*: the job's predicted latency (the plan's, plus the median of what the last jobs on its deployment
took beyond their plan, from the third job on; docs/api.md) against `run` sent → result stored; MAPE over the
jobs.

{one_shot}

One hop between two processes on this machine (from the benchmark process, after a pause of the gap: the
other process was asleep, as it is between jobs):

{hop_table}

Streamed (2-stage split, pipelined, one session per model): per-frame overhead = frame latency at the
source minus the traced work of its stages — no control-plane round trip per frame. Of it, *hand-overs*: after
each stage's compute and encoding until its output is handed on (a stage computing in its thread wakes the
agent's event loop; a stage runs on the loop itself when nothing else is in flight on its agent, or when it
takes under 1 ms), and the *DONE hop*: from the last stage's end until the source reads the frame's DONE.

{streamed}
"""
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
