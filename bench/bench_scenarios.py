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
from bench.bench_jobs import _answers, free_port, wait_until  # noqa: E402


def environment(workdir: Path, port: int) -> dict:
    return product_environment(
        workdir, "edgeorch_bench_scen", f"bench-scen-{os.getpid()}",
        EDGEORCH_TELEMETRY_INTERVAL="0.5", EDGEORCH_LIVENESS_TIMEOUT="5",
        EDGEORCH_PUBLIC_URL=f"http://127.0.0.1:{port}", PORT=str(port),
    )  # fmt: skip


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
        worker = [str(BIN / "celery"), "-A", "edgeorch", "worker", "-l", "warning", "--concurrency", "2",
                  "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
        procs.append(spawn(workdir, "celery", worker, env))
        time.sleep(3)
        for name in names:
            started = time.monotonic()
            report = workdir / f"{name}.json"
            cmd = [str(BIN / "python"), "manage.py", "run_scenario", f"scenarios/{name}.yaml", "--report", str(report),
                   "--strategies", STRATEGIES, "--run-dir", str(workdir / "run")]  # fmt: skip
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
            rows.append([
                name, strategy, ms(r.get("mean_s")), ms(r.get("p95_s")), "–" if ratio is None else f"{ratio:.2f}",
                r.get("deadline_misses", "–"), r.get("switches", "–"), "–" if mape is None else f"{mape:.0%}",
            ])  # fmt: skip
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
            line += f"; {'ahead of' if ahead else 'NOT ahead of'} the best static strategy ({best[1]}, {ms(best[0])} ms)"
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


READING = """Reading it (the recorded run above; var/bench/scenarios/ holds each scenario's windows and switches):

- What changed since the previous recording: adaptive estimates each condition as the median of its last
  five samples (a change point needs three in a row, or a link sample 8x off), widens its 10% switching
  margin by half the estimates' spread (at most 20%) and doubles it to go back to a placement left within
  8 s, does not judge the first frames on a new deployment, calibrates devices it has not run on from recent
  sessions of the model, adds its own recent misses to the prediction it reports, judges placements by
  their latency over the next 10 s as they heat a device that can throttle, and starts on the plan its
  first re-plan would choose (calibrated, with that foresight) rather than the planner's uncalibrated one.
  The oracle simulates the heated device's RC thermal model under every per-frame plan sequence instead of
  taking the coolest throttle any run saw (docs/scenarios.md, "The oracle").
- steady: adaptive stays on its first plan, level with the oracle (1.00x); prediction MAPE 6%.
- overheating: adaptive starts on the camera -> edge split the oracle uses in every window (cam[0-22]),
  the one device-edge plans too, and stays there: level with device-edge (131.3 vs 132.2 ms), 1.10x the
  oracle (just over the target).
- bandwidth-collapse: adaptive starts on a camera -> edge split, goes local on the first frame over the
  collapsed link (85.6 -> 3.85 Mbit/s) and back to a split on the first probe after the recovery; 1.14x,
  4 ms behind static local on this host, where local is nearly as fast as the best split.
- edge-contention: adaptive starts on a split and goes local when the camera's calibrated factor falls;
  1.14x, level with local (84.7 vs 83.6 ms).
- three-node-pipeline: adaptive starts on a Jetson -> server -> Jetson pipeline, because the planner trusts
  the probed Jetson-server link (406 Mbit/s) while frames see 35.7 Mbit/s for these activations; it leaves it
  for the Jetson alone at frame 46 and for a camera -> server split when the camera-Jetson link degrades
  (4 frames in flight miss the deadline): 1.61x, behind local. Links are not yet calibrated from recent
  sessions as devices are.
- Run-to-run variance on this 2-core host is large, and an emulated device stretches every delay the host
  adds to its compute by its speed factor (x6 for the camera). Minutes before this run, `bench_scenarios.py
  --scenarios overheating,bandwidth-collapse` with the same code printed adaptive at 1.03x (overheating)
  and 1.04x (bandwidth-collapse) the oracle, ahead of every static strategy in both.
- Static strategies' MAPE is large where the block profiles overestimate a segment (local); adaptive
  calibrates each device's profile from its frames (factor = measured / profiled).
"""


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
            f"`{COMMAND}` ({elapsed / 60:.1f} min on {machine()}): every shipped scenario (docs/scenarios.md) run "
            "by `manage.py run_scenario` with real agents, a Celery worker and Daphne, strategies one after "
            "another under the same conditions replayed from t=0. Latency is per frame, from the source "
            "emitting it to the source hearing it finished; `× oracle` is the strategy's mean latency over the "
            "oracle's (the best plan in hindsight per window, calibrated by the best measured window mean) for "
            "the same frames; MAPE compares the latency predicted for the plan in force with the measured, "
            "after the first window.\n\n" + text + "\n\nTargets:\n\n" + "\n".join(checks) + "\n\n" + READING
        )


if __name__ == "__main__":
    main()
