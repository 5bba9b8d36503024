"""Scenarios benchmark: every shipped scenario x local, offload, device-edge (planned once), adaptive, and the
oracle (the best plan in hindsight per window), side by side.

    .venv/bin/python bench/bench_scenarios.py [--write] [--scenarios steady,overheating]

Starts Daphne and a Celery worker against its own PostgreSQL database (``edgeorch_bench_scen``, recreated) and
Redis, then runs ``manage.py run_scenario`` on each ``scenarios/*.yaml`` (except ``default.yaml``, the demo's
fleet), which starts that scenario's agents, profiles the model on each device once, replays the scenario's
conditions from t=0 for each strategy in turn, and writes a JSON report. Prints one table: per scenario and
strategy the mean and p95 latency, the ratio of the mean to the oracle's, deadline misses, plan switches and
the MAPE of the predicted latency of the plan in force (after the first window).

Each scenario's full report (windows, switches with their reasons) is kept in var/bench/scenarios/.
Targets (docs/scenarios.md): adaptive within 1.10x of the oracle's mean on every scenario, ahead of every
static strategy on the changing ones; MAPE of adaptive's prediction within 10% in the steady scenario.
With --write, replaces the "## Scenarios" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
COMMAND = ".venv/bin/python bench/bench_scenarios.py --write"
STRATEGIES = "local,offload,device-edge,adaptive"
STEADY = {"steady"}
KEEP = ROOT / "var" / "bench" / "scenarios"  # the last run's reports (per window, per switch), for reading

from bench._common import (  # noqa: E402
    machine,
    markdown_table,
    product_environment,  # noqa: E402
    write_section,
)
from bench._common import recreate_database as recreate  # noqa: E402
from bench.bench_jobs import _answers, wait_until  # noqa: E402
from tests.support import free_port  # noqa: E402


def environment(workdir: Path, port: int) -> dict:
    return product_environment(
        workdir,
        "edgeorch_bench_scen",
        f"bench-scen-{os.getpid()}",
        EDGEORCH_TELEMETRY_INTERVAL="0.5",
        EDGEORCH_LIVENESS_TIMEOUT="5",
        EDGEORCH_PUBLIC_URL=f"http://127.0.0.1:{port}",
        PORT=str(port),
        # One onnxruntime thread per stage (deploy and profile alike): with two, a stage's time on this
        # 2-core host depends on whether another emulated device holds the other core at that moment.
        EDGEORCH_JOB_AGENT_THREADS="1",
    )


def recreate_database(env: dict) -> None:
    recreate(env["DATABASE_URL"])
    subprocess.run([str(BIN / "python"), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def spawn(workdir: Path, name: str, cmd: list[str], env: dict) -> subprocess.Popen:
    log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def run_all(names: list[str], workdir: Path) -> dict[str, dict]:
    import requests

    port = free_port()
    env = environment(workdir, port)
    recreate_database(env)
    procs = [spawn(workdir, "daphne", [str(ROOT / "scripts/web.sh")], env)]
    reports = {}
    try:
        wait_until(lambda: _answers(requests, env["EDGEORCH_PUBLIC_URL"]), what="Daphne", interval=0.2)
        worker = [
            str(BIN / "celery"),
            "-A",
            "edgeorch",
            "worker",
            "-l",
            "warning",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        procs.append(spawn(workdir, "celery", worker, env))
        time.sleep(3)
        for name in names:
            started = time.monotonic()
            report = workdir / f"{name}.json"
            cmd = [
                str(BIN / "python"),
                "manage.py",
                "run_scenario",
                f"scenarios/{name}.yaml",
                "--report",
                str(report),
                "--strategies",
                STRATEGIES,
                "--run-dir",
                str(workdir / "run"),
            ]
            done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0 or not report.exists():
                print(f"{name}: failed\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}", file=sys.stderr)
                continue
            reports[name] = json.loads(report.read_text())
            KEEP.mkdir(parents=True, exist_ok=True)
            (KEEP / f"{name}.json").write_text(report.read_text())
            print(f"{name}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    finally:
        stop(procs)
    return reports


def ms(x) -> str:
    return "–" if x is None else f"{x * 1e3:.1f}"


def table(reports: dict[str, dict]) -> tuple[list[str], list[list]]:
    headers = ["scenario", "strategy", "mean ms", "p95 ms", "× oracle", "deadline misses", "switches", "MAPE"]
    rows = []
    for name, report in reports.items():
        for strategy, r in report["strategies"].items():
            ratio = r.get("oracle_ratio")
            mape = r.get("mape")
            rows.append(
                [
                    name,
                    strategy,
                    ms(r.get("mean_s")),
                    ms(r.get("p95_s")),
                    "–" if ratio is None else f"{ratio:.2f}",
                    r.get("deadline_misses", "–"),
                    r.get("switches", "–"),
                    "–" if mape is None else f"{mape:.0%}",
                ]
            )
    return headers, rows


def targets(reports: dict[str, dict]) -> list[str]:
    out = []
    for name, report in reports.items():
        s = report["strategies"]
        a = s.get("adaptive") or {}
        ratio = a.get("oracle_ratio")
        within = ratio is not None and ratio <= 1.10
        line = f"- {name}: adaptive at {ratio:.2f}x the oracle ({'met' if within else 'NOT met'}: <= 1.10)"
        if name not in STEADY:
            static = {k: v.get("mean_s") for k, v in s.items() if k in ("local", "offload", "device-edge")}
            best = min((v, k) for k, v in static.items() if v is not None)
            ahead = a.get("mean_s") is not None and a["mean_s"] < best[0]
            line += (
                f"; {'ahead of' if ahead else 'NOT ahead of'} the best static strategy"
                f" ({best[1]}, {ms(best[0])} ms)"
            )
        else:
            mape = a.get("mape")
            ok = mape is not None and mape <= 0.10
            line += (
                f"; prediction MAPE {mape:.0%} ({'met' if ok else 'NOT met'}: <= 10%)"
                if mape is not None
                else ""
            )
        out.append(line)
    return out


READING = (
    "Reading it (the recorded run above; var/bench/scenarios/ holds each scenario's windows and switches):\n"
    """
- Every target is met in this run. The previous recording had 1.14x / 1.14x / 1.10x / 1.00x / 1.61x the
  oracle in the order of the table. Most of what changed is in the emulation, not in adaptive. An emulated
  device used to stretch every run by its factor, so any delay this host added was multiplied too (another
  process holding a core cost the x6 camera six times over). It now stretches a run from the host's usual
  time for that computation, the 5th percentile of the stage's last 256 runs, and waits the delay out
  (bench/bench_emulation.py, "## Emulation"). Agents here run one onnxruntime thread per stage, and profile
  with the same count: with two threads, a stage's time on this 2-core host depended on whether another
  emulated device held the other core at that moment. Background tenants no longer burn a host core.
  Emulated devices start at their idle temperature, and the overheating runs each start from it: in the
  first run (local) the camera started 28 C cooler than in the others, and so did the oracle. Adaptive
  itself: a 1.5 C move of the device its thermal foresight judges by is now a drift of its own, so it
  re-judges the foresight before the throttle shows.
- steady: adaptive stays on its first plan, the oracle's split (cam[0-22]); 1.01x, prediction MAPE 2%.
- bandwidth-collapse: adaptive starts on a camera -> edge split. It goes local on the first frames over the
  collapsed link (109 -> 3.91 Mbit/s, frame 34) and back to the split after the recovery (frame 74); 1.07x.
- edge-contention: adaptive starts on a split and goes local when the edge's factor jumps under the
  tenants (x1.29 -> x9.05, frame 37); 1.02x.
- overheating: adaptive starts local on the cool camera. It moves to the camera -> edge split as the camera
  heats (66.0 -> 67.8 C, frame 48) and back to local once the camera has cooled on the split (frame 96), as
  the oracle does per window; 1.02x.
- three-node-pipeline: adaptive starts on a camera -> Jetson split and goes local when the camera-Jetson
  link degrades (183 -> 9.9 Mbit/s, frame 50); the oracle uses a camera -> server split there; 1.03x.
- Run-to-run variance on this 2-core host is smaller than it was but not gone. With the same code except
  the thread count (two threads per stage), the full run before this one printed 1.04x / 1.04x / 1.11x /
  1.01x / 1.05x.
- Static strategies' MAPE is large where the block profiles overestimate a segment; adaptive calibrates
  each device's profile from its frames (factor = measured / profiled).
"""
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--write", action="store_true", help="replace the Scenarios section of docs/benchmarks.md"
    )
    parser.add_argument(
        "--scenarios", default="", help="comma-separated names (default: all but default.yaml)"
    )
    parser.add_argument(
        "--saved", action="store_true", help="tabulate the last run's reports (var/bench/scenarios)"
    )
    args = parser.parse_args()
    names = [n for n in args.scenarios.split(",") if n] or sorted(
        p.stem for p in (ROOT / "scenarios").glob("*.yaml") if p.stem != "default"
    )
    if args.saved:
        meta = json.loads((KEEP / "_meta.json").read_text())
        reports = {n: json.loads((KEEP / f"{n}.json").read_text()) for n in meta["scenarios"]}
        elapsed = meta["elapsed_s"]
    else:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="edgeorch-bench-scen-") as tmp:
            reports = run_all(names, Path(tmp))
        elapsed = time.monotonic() - started
        (KEEP / "_meta.json").write_text(json.dumps({"scenarios": list(reports), "elapsed_s": elapsed}))
    headers, rows = table(reports)
    text = markdown_table(headers, rows)
    checks = targets(reports)
    print(text)
    print("\n".join(checks))
    if args.write:
        write_section(
            "## Scenarios\n\n"
            f"`{COMMAND}` ({elapsed / 60:.1f} min on {machine()}): every shipped scenario "
            "(docs/scenarios.md) run by `manage.py run_scenario` with real agents (one onnxruntime thread "
            "per stage), a Celery worker and Daphne, strategies one after another under the same conditions "
            "replayed from t=0. Latency is per frame, from the source emitting it to the source hearing it "
            "finished; `× oracle` is the strategy's mean latency over the oracle's (the best plan in "
            "hindsight per window, calibrated by the best measured window mean) for the same frames; "
            "MAPE compares the latency predicted for the plan in force with the measured, after the first "
            "window.\n\n" + text + "\n\nTargets:\n\n" + "\n".join(checks) + "\n\n" + READING
        )


if __name__ == "__main__":
    main()
