"""Multi-user benchmark (issue #23): 1 to N users sharing one slow edge, with mixed deadlines and priority
classes, in the same run under edgeorch's scheduler (``edgeorch``: each user at its own class, EDF within
priority in each stage queue and across the sessions on the edge's compute unit, and dynamic inference: per
frame the most accurate of the digits CNN and its variants that meets the deadline, docs/qos.md) and three
baselines: ``always-full-model`` (the same scheduler, every frame on the full model), ``one-class`` (every
user at one class, normal, on the full model: EDF on deadlines alone, one fixed configuration) and
``no-coordinator`` (edgeorch's scheduler with the global coordinator off: per-session planning without
coordination).

    .venv/bin/python bench/bench_multiuser.py [--users 1,2,4,8,12,16,24,32] [--duration 8] [--write]

For each user count and each scheduler it writes a scenario (scenarios/multiuser's form, ``users:``) and runs
``manage.py run_scenario`` on it: a planned session (user 0, high) and the other users stream the digits CNN
from two emulated cameras to one emulated slow edge (``scenarios/profiles/slow-edge.json``, two hundred times
this host's time). User i's class and deadline cycle through high 0.3 s, normal 0.5 s, low 1.0 s; each sends 4
frames/s without waiting for its answers (``max_in_flight`` 64), so the edge saturates between 4 and 8 users.

The host's load is bounded: three agents in all (the users are sessions, not devices), one onnxruntime thread
per stage (``EDGEORCH_JOB_AGENT_THREADS=1``), the digits CNN (tens of us a frame), the edge's slowness
emulated (its compute is time scaled, not burned). Prints per user count, scheduler and intended class: the
frames, the deadline-miss rate ((misses + drops) / frames) and the worst user's p99 latency. With --write,
replaces the "## Multi-user" section of docs/benchmarks.md with the table, the machine and the load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
COMMAND = ".venv/bin/python bench/bench_multiuser.py --write"
CLASSES = [("high", 0.3), ("normal", 0.5), ("low", 1.0)]  # user i: CLASSES[i % 3]
RATE = 4.0
# Each scheduler: whether its users keep their classes, whether they use dynamic inference, and the worker's
# and beat's environment. ``no-coordinator``: edgeorch's scheduler with the global coordinator off
# (``EDGEORCH_COORDINATOR=false``): each session planned on its own, never moved off a saturated edge (the
# issue's "per-session planning without coordination").
SCHEDULERS: dict[str, tuple[bool, bool, dict[str, str]]] = {
    "edgeorch": (True, True, {}),
    "always-full-model": (True, False, {}),
    "one-class": (False, False, {}),
    "no-coordinator": (True, True, {"EDGEORCH_COORDINATOR": "false"}),
}

from bench._common import machine, markdown_table, product_environment, write_section  # noqa: E402
from bench.bench_jobs import _answers, wait_until  # noqa: E402
from bench.bench_scenarios import recreate_database, spawn, stop  # noqa: E402
from tests.support import free_port  # noqa: E402


def scenario(users: int, scheduler: str, duration: float) -> dict:
    """``users`` users (the session and users-1 others) on two cameras and one slow edge; ``one-class``:
    every user at normal priority; the scheduler says whether they use dynamic inference."""
    cls = [CLASSES[i % len(CLASSES)] for i in range(users)]
    classes, dynamic, _ = SCHEDULERS[scheduler]
    prio = [c if classes else "normal" for c, _ in cls]
    others = [
        {
            "name": f"u{i}",
            "source": "cam" if i % 2 == 0 else "cam2",
            "edge": "edge",
            "rate": RATE,
            "deadline_s": cls[i][1],
            "priority": prio[i],
            "max_in_flight": 64,
            "sample": i,  # scikit-learn's digits test sample i: its class known, the answers' accuracy
            "dynamic": dynamic,
        }
        for i in range(1, users)
    ]
    return {
        "name": f"multiuser-{users}-{scheduler}",
        "description": f"{users} users on one slow edge, {scheduler}",
        "model": "digits-cnn",
        "window_s": duration,
        "strategies": ["offload"],
        "devices": [
            {"name": "cam", "role": "end", "profile": "rpi4"},
            {"name": "cam2", "role": "end", "profile": "rpi4"},
            {"name": "edge", "role": "edge", "profile": str(ROOT / "scenarios/profiles/slow-edge.json")},
        ],
        "links": [
            {"between": ["cam", "edge"], "bandwidth_bps": 1.0e8, "rtt_s": 0.002},
            {"between": ["cam2", "edge"], "bandwidth_bps": 1.0e8, "rtt_s": 0.002},
        ],
        "users": others,
        "session": {
            "source": "cam",
            "rate": RATE,
            "duration_s": duration,
            "deadline_s": cls[0][1],
            "priority": prio[0],
            "max_in_flight": 64,
            "sample": 0,
            "candidates": ["cam", "edge"],
            "dynamic": dynamic,
        },
    }


def moves(env: dict) -> int:
    """The coordinator's moves so far (``PlanSwitch`` rows it recorded, their reason ``coordinator: ...``)."""
    code = "from edgeorch.jobs.models import PlanSwitch as P; "
    code += "print(P.objects.filter(reason__startswith='coordinator').count())"
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    return int(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 and done.stdout.strip() else 0


def run_all(counts: list[int], duration: float, workdir: Path) -> dict[tuple[int, str], dict]:
    import requests

    port = free_port()
    env = product_environment(
        workdir,
        "edgeorch_bench_multiuser",
        f"bench-mu-{os.getpid()}",
        EDGEORCH_TELEMETRY_INTERVAL="0.5",
        EDGEORCH_LIVENESS_TIMEOUT="5",
        EDGEORCH_PUBLIC_URL=f"http://127.0.0.1:{port}",
        PORT=str(port),
        EDGEORCH_JOB_AGENT_THREADS="1",  # one onnxruntime thread per stage: the host's load bounded
    )
    recreate_database(env)
    procs = [spawn(workdir, "daphne", [str(ROOT / "scripts/web.sh")], env)]
    reports: dict[tuple[int, str], dict] = {}
    try:
        wait_until(lambda: _answers(requests, env["EDGEORCH_PUBLIC_URL"]), what="Daphne", interval=0.2)
        celery = [str(BIN / "celery"), "-A", "edgeorch"]
        worker = [
            *celery,
            "worker",
            "-l",
            "warning",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
        ]
        for scheduler, (_, _, overrides) in SCHEDULERS.items():
            # A worker and beat (the coordinator's periodic pass) of the scheduler's own environment.
            mine = {**env, **overrides}
            beat = [*celery, "beat", "-l", "warning", "-s", str(workdir / f"beat-{scheduler}")]
            workers = [spawn(workdir, f"celery-{scheduler}", worker, mine)]
            workers.append(spawn(workdir, f"beat-{scheduler}", beat, mine))
            procs += workers
            time.sleep(3)
            for n in counts:
                started = time.monotonic()
                before = moves(mine)
                path = workdir / f"u{n}-{scheduler}.yaml"
                path.write_text(yaml.safe_dump(scenario(n, scheduler, duration)))
                report = path.with_suffix(".json")
                cmd = [str(BIN / "python"), "manage.py", "run_scenario", str(path), "--report", str(report)]
                cmd += ["--run-dir", str(workdir / "run"), "--keep-fleet"]
                done = subprocess.run(cmd, cwd=ROOT, env=mine, capture_output=True, text=True)
                if done.returncode != 0 or not report.exists():
                    print(
                        f"{n} {scheduler}: failed\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}",
                        file=sys.stderr,
                    )
                    continue
                reports[(n, scheduler)] = json.loads(report.read_text())
                reports[(n, scheduler)]["moves"] = moves(mine) - before
                print(f"{n} users, {scheduler}: {time.monotonic() - started:.0f} s", file=sys.stderr)
            stop(workers)
    finally:
        stop(procs)
        for pid in (workdir / "run").glob("agent-*.pid"):
            try:
                os.kill(int(pid.read_text().strip()), 15)
            except (OSError, ValueError):
                pass
    return reports


def rows(reports: dict[tuple[int, str], dict]) -> list[list]:
    """Per user count, scheduler and intended class (the class a user has under edf, whatever it ran at)."""
    out = []
    for (n, scheduler), report in sorted(reports.items()):
        row = report["strategies"]["offload"]
        # One user: the session alone (no users: in its scenario); its row counts drops with the misses.
        alone = {"frames": row["frames"], "deadline_misses": row["deadline_misses"], "dropped": 0}
        alone.update(p99_s=row["p99_s"], ok=row.get("ok", 0), accuracy=row.get("accuracy"))
        users = (row.get("users") or {}).get("users") or {"session": alone}
        names = ["session", *(f"u{i}" for i in range(1, n))]
        for cls, _ in CLASSES:
            mine = [users[name] for i, name in enumerate(names) if CLASSES[i % 3][0] == cls and name in users]
            frames = sum(u["frames"] for u in mine)
            if not mine or not frames:
                continue
            missed = sum(u["deadline_misses"] + u["dropped"] for u in mine)
            p99 = max((u["p99_s"] for u in mine if u["p99_s"] is not None), default=None)
            judged = [u for u in mine if u.get("accuracy") is not None and u.get("ok")]
            answers = sum(u["ok"] for u in judged)
            accuracy = sum(u["accuracy"] * u["ok"] for u in judged) / answers if answers else None
            weighed = [u for u in mine if u.get("served_accuracy") is not None and u.get("ok")]
            weight = sum(u["ok"] for u in weighed)
            served = sum(u["served_accuracy"] * u["ok"] for u in weighed) / weight if weight else None
            out.append(
                [
                    n,
                    scheduler,
                    report.get("moves", "–"),
                    cls,
                    len(mine),
                    frames,
                    f"{missed / frames:.0%}",
                    "–" if p99 is None else f"{p99 * 1e3:.0f}",
                    "–" if accuracy is None else f"{accuracy:.0%}",
                    "–" if served is None else f"{served:.1%}",
                ]
            )
    return out


HEADERS = [
    "users",
    "scheduler",
    "coordinator moves",
    "class",
    "its users",
    "frames",
    "deadline-miss rate",
    "worst p99 ms",
    "accuracy",
    "served accuracy",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--users", default="1,2,4,8,12,16,24,32", help="user counts, comma-separated (default 1 to 32)"
    )
    parser.add_argument("--duration", type=float, default=8.0, help="seconds each run streams (default 8)")
    parser.add_argument("--write", action="store_true", help='replace "## Multi-user" in docs/benchmarks.md')
    args = parser.parse_args()
    counts = [int(x) for x in args.users.split(",") if x.strip()]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-multiuser-") as tmp:
        reports = run_all(counts, args.duration, Path(tmp))
    load_after = os.getloadavg()
    table = markdown_table(HEADERS, rows(reports))
    print(table)
    if args.write:
        write_section(
            "\n".join(
                [
                    "## Multi-user",
                    "",
                    f"`{COMMAND}` ({machine()}; load average {load_before[0]:.1f} before,"
                    f" {load_after[0]:.1f} after). {args.duration:g} s per run;"
                    f" users {', '.join(map(str, counts))}"
                    " on two emulated cameras and one emulated slow edge (three agents, one onnxruntime"
                    " thread per stage); each user 4 frames/s of the digits CNN, not waiting for answers;"
                    " user i's class and deadline: high 0.3 s, normal 0.5 s, low 1.0 s in turn."
                    " `edgeorch`: each user at its class, with dynamic inference (per frame the most"
                    " accurate of the digits CNN and its variants that meets its deadline), the coordinator"
                    " on (its beat pass and a pass when a user joins or leaves); `always-full-model`: the"
                    " same, every frame on the full model; `one-class`: every user at normal on the full"
                    " model (no priorities, EDF on the deadlines alone, one fixed configuration);"
                    " `no-coordinator`: as `edgeorch` with `EDGEORCH_COORDINATOR=false` (per-session"
                    " planning without coordination: no session is moved off the saturated edge)."
                    " Coordinator moves: the"
                    " sessions it moved in that run (`PlanSwitch` rows, reason `coordinator: ...`)."
                    " Miss rate: (late or failed + dropped) / frames;"
                    " worst p99: the highest of the class's users' p99; accuracy: of the answers, user i"
                    " sending scikit-learn's digits test sample i (its class known); served accuracy: the"
                    " mean measured accuracy (the catalog's, on the digits test split) of the configurations"
                    " that answered.",
                    "",
                    table,
                    "",
                ]
            )
        )


if __name__ == "__main__":
    main()
