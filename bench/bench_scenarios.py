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

- steady: adaptive keeps its first plan and matches the oracle; its prediction error was 13% in this run
  (7% in the previous one).
- bandwidth-collapse: adaptive switches to local on the first frame that crossed the collapsed link and back
  to the split on the first probe after the recovery; the frames in flight at the collapse (p95 236 ms) are
  most of its distance to the oracle, which knows the future. It beats the static strategies, local only by
  a millisecond: on this host local is nearly as fast as the best split.
- edge-contention: adaptive leaves the loaded edge for local, then flaps twice near the end: the camera's
  measured factor swings (x0.77 -> x1.17 -> x0.64) because the host's two cores are shared with the AlexNet
  background stream, and the 10% hysteresis does not absorb that. Static local wins (57.8 vs 59.2 ms).
- overheating: the oracle is loose here. It takes the lowest throttle any run saw in a window (the offload
  run keeps the camera cool), so it assumes a cool camera computing locally all along, which no strategy can
  do: computing heats it. adaptive moves to a split once the camera throttles and ends level with local.
- three-node-pipeline: adaptive starts on a Jetson -> server -> Jetson pipeline, leaves it for the Jetson
  alone when the traces show the Jetson-server hop far slower than configured (39 Mbit/s effective for these
  activations, against 1 Gbit/s set), then for a camera -> server split when the camera-Jetson link degrades
  (4 frames in flight at the degrade miss the deadline). Static device-edge and offload stay on the degraded
  link. Local is 2 ms ahead in this run.
- Run-to-run variance on this 2-core host is large: the run before this one (the same code, before a device's
  stages were judged together) had adaptive at 1.05x (bandwidth-collapse), 1.11x (edge-contention), 1.69x
  (overheating), 1.00x (steady, MAPE 7%) and 1.18x (three-node-pipeline), ahead of every static strategy.
- Static strategies' MAPE is large where their block-wise profiles overestimate the fused segments (local);
  adaptive calibrates each device's profile from its frames (factor = measured / profiled).
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
