"""Learning benchmark (issue #22): ``ans`` (μLinUCB at the source, per frame, no edge profiling), ``adaptive``
(model-based re-planning), ``device-edge`` (planned once from profiles, Neurosurgeon-style) and the oracle
side by side on the scenarios where conditions move.

    .venv/bin/python bench/bench_learning.py [--write] [--scenarios a,b] [--strategies a,b] [--saved]

Starts Daphne and a Celery worker against its own PostgreSQL database (``edgeorch_bench_learn``, recreated)
and Redis, then runs ``manage.py run_scenario`` on bandwidth-collapse, edge-contention and
bandwidth-random-walk with the strategies ``ans,adaptive,device-edge`` (``ans`` with the scenario's own
parameters: ``edge: edge``, every undominated cut an arm), and the two learners composed on
learning/variants-bandwidth-collapse (the digits CNN: ``ans``, ``qoe-bandit`` split by ``ans``,
``device-edge``). Each scenario's ``ans`` starts from nothing: the agents' learned state
(``<config>.learning``) is removed before it. The runner profiles the model on every device once
(for device-edge, adaptive and the oracle); ``ans``'s choices use only the source's own front-end times.

Per scenario and strategy: the mean latency and its ratio to the oracle's (the report's ``× oracle``), the
cumulative regret against the oracle at the end (sum over frames of latency - the oracle of the frame's
window; a failed frame counts its recorded latency), and the frames to get within 5% of the new optimum after
each step. A step is a window boundary where the scenario's conditions change (a link's value, a background
share, a background session starting); the new optimum is the oracle of the window it opens; the frames to
get within 5% are those emitted from the step until the first frame k whose median latency over frames
k..k+2 is within 1.05x of it ("–": not within before the next step or the end). The cumulative regret curves
(per frame) are saved as a plotly figure, var/bench/learning/regret.html (self-contained: plotly.js inside),
beside the reports (var/bench/learning/<scenario>.json).

Targets (issue #22): ans <= 1.10x the oracle without any edge profiling, and within 5% of the new optimum
in <= 30 frames after a step. With --write, replaces the "## Learning" section of docs/benchmarks.md. The
QoE bandit's part (its regret per device class, its choice against the best fixed variant in hindsight)
is bench/bench_variants.py.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
COMMAND = ".venv/bin/python bench/bench_learning.py --write"
SCENARIOS = (
    "bandwidth-collapse",
    "edge-contention",
    "bandwidth-random-walk",
    "learning/variants-bandwidth-collapse",
)
STRATEGIES = ("ans", "adaptive", "device-edge")
COMPOSED = "learning/variants-bandwidth-collapse"  # both learners at once (docs/learning.md, "Both at once")
STRATEGIES_OF = {COMPOSED: ("ans", "qoe-bandit", "device-edge")}  # else STRATEGIES
KEEP = ROOT / "var" / "bench" / "learning"  # the last run's reports and the regret figure
WITHIN = 1.05  # "within 5% of the new optimum"
SMOOTH = 3  # frames in the median that must be within it
TARGET_RATIO, TARGET_FRAMES = 1.10, 30
UNTARGETED = (
    "the issue sets the targets on bandwidth-collapse, edge-contention and the random walk; the digits "
    "CNN's whole frame is 1.5-2 ms, and its oracle is the profile's prediction wherever that is below "
    "every measured window mean (the reading gives the run's figures)"
)

from bench._common import machine, markdown_table, product_environment, write_section  # noqa: E402
from bench._common import recreate_database as recreate  # noqa: E402
from bench.bench_jobs import _answers, wait_until  # noqa: E402
from bench.bench_scenarios import spawn, stop  # noqa: E402
from tests.support import free_port  # noqa: E402


def environment(workdir: Path, port: int, database: str = "edgeorch_bench_learn") -> dict:
    import os

    return product_environment(
        workdir,
        database,
        f"{database.removeprefix('edgeorch_').replace('_', '-')}-{os.getpid()}",
        EDGEORCH_TELEMETRY_INTERVAL="0.5",
        EDGEORCH_LIVENESS_TIMEOUT="5",
        EDGEORCH_PUBLIC_URL=f"http://127.0.0.1:{port}",
        PORT=str(port),
        EDGEORCH_JOB_AGENT_THREADS="1",  # as bench_scenarios: one onnxruntime thread per stage
        # An ans session's planning extracts every arm's segments (about a hundred for mobilenetv2) on a
        # fresh database; on this shared 2-core host that once outlasted the default 30 s.
        EDGEORCH_JOB_TIMEOUT="150",
    )


@contextmanager
def servers(workdir: Path, database: str = "edgeorch_bench_learn") -> Iterator[dict]:
    """Daphne and a Celery worker on a recreated, migrated ``database``, for as long as the block runs;
    yields their environment (the one agents and ``manage.py`` commands need too)."""
    import requests

    env = environment(workdir, free_port(), database)
    recreate(env["DATABASE_URL"])
    subprocess.run([str(BIN / "python"), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    procs = [spawn(workdir, "daphne", [str(ROOT / "scripts/web.sh")], env)]
    try:
        wait_until(lambda: _answers(requests, env["EDGEORCH_PUBLIC_URL"]), what="Daphne", interval=0.2)
        worker = [str(BIN / "celery"), "-A", "edgeorch", "worker", "-l", "warning", "--concurrency", "2"]
        worker += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        procs.append(spawn(workdir, "celery", worker, env))
        time.sleep(3)
        yield env
    finally:
        stop(procs)


def run_all(names: list[str], workdir: Path, strategies: tuple[str, ...] = ()) -> dict[str, dict]:
    """Each scenario of ``names`` with ``strategies`` (none given: ``STRATEGIES_OF`` the scenario, else
    ``STRATEGIES``), its report kept in ``KEEP``."""
    reports = {}
    with servers(workdir) as env:
        for name in names:
            started = time.monotonic()
            for kept in (workdir / "run" / "agents").glob("*.learning"):
                shutil.rmtree(kept)  # each scenario's ans learns from nothing
            report = workdir / f"{name.replace('/', '-')}.json"
            cmd = [str(BIN / "python"), "manage.py", "run_scenario", f"scenarios/{name}.yaml"]
            chosen = strategies or STRATEGIES_OF.get(name, STRATEGIES)
            cmd += ["--report", str(report), "--strategies", ",".join(chosen)]
            cmd += ["--run-dir", str(workdir / "run")]
            done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0 or not report.exists():
                print(f"{name}: failed\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}", file=sys.stderr)
                continue
            reports[name] = json.loads(report.read_text())
            KEEP.mkdir(parents=True, exist_ok=True)
            (KEEP / f"{name.replace('/', '-')}.json").write_text(report.read_text())
            print(f"{name}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    return reports


# --- what the reports say ------------------------------------------------------------------------------


def oracle_by_window(report: dict) -> dict[int, float]:
    return {w["window"]: w["oracle_s"] for w in report["windows"] if w.get("oracle_s") is not None}


def regret_curve(report: dict, run: dict) -> list[float]:
    """Cumulative regret after each frame (in request order): latency - the oracle of its window."""
    oracle, window_s = oracle_by_window(report), report["window_s"]
    total, out = 0.0, []
    for f in run["frames"]:
        best = oracle.get(int(f["t"] // window_s))
        if best is None or f["latency_s"] is None:
            continue
        total += f["latency_s"] - best
        out.append(total)
    return out


def steps(name: str, window_s: float) -> list[float]:
    """Window boundaries where the scenario's conditions change: a link's value, a background share, a
    background session starting."""
    from edgeorch.scenarios.spec import load

    sc = load(ROOT / "scenarios" / f"{name}.yaml")
    out = []
    for w in range(1, math.ceil(sc.duration_s / window_s)):
        t = w * window_s

        def conditions(at: float) -> list[float]:
            links = [x.value(k, at) for x in sc.links for k in ("bandwidth_bps", "rtt_s", "loss")]
            return links + [bg.share_at(at) for bg in sc.background if bg.share is not None]

        started = any(
            bg.session is not None and t - window_s < float(bg.session.get("at", 0)) <= t
            for bg in sc.background
        )
        if started or conditions(t - 1e-6) != conditions(t):
            out.append(t)
    return out


def counted_ratio(report: dict, run: dict) -> float | None:
    """The mean latency over the oracle's with failed frames counted at the time they took (the report's
    ``oracle_ratio`` is over answered frames only: a frame that failed after 1.2 s leaves it lower)."""
    oracle, window_s = oracle_by_window(report), report["window_s"]
    pairs = [
        (f["latency_s"], oracle[int(f["t"] // window_s)])
        for f in run["frames"]
        if f["latency_s"] is not None and int(f["t"] // window_s) in oracle
    ]
    return sum(a for a, _ in pairs) / sum(b for _, b in pairs) if pairs else None


def frames_to_within(report: dict, run: dict, step: float, until: float) -> int | None:
    """Frames emitted from ``step`` until the first whose median over ``SMOOTH`` frames is within ``WITHIN``
    of the new optimum (the oracle of the window ``step`` opens); None when not before ``until``."""
    best = oracle_by_window(report).get(int(step // report["window_s"]))
    after = sorted((f for f in run["frames"] if step <= f["t"] < until), key=lambda f: f["t"])
    if best is None:
        return None
    for k in range(len(after)):
        span = [f["latency_s"] for f in after[k : k + SMOOTH] if f["ok"]]
        if len(span) == SMOOTH and statistics.median(span) <= WITHIN * best:
            return k
    return None


def convergence(name: str, report: dict, run: dict) -> list[tuple[float, int | None]]:
    """(step time, frames to within 5%) for each step of the scenario."""
    times = steps(name, report["window_s"])
    end = report["session"]["frames"] / report["session"]["rate"]
    return [
        (t, frames_to_within(report, run, t, nxt)) for t, nxt in zip(times, [*times[1:], end], strict=True)
    ]


def runs_of(report: dict) -> dict[str, dict]:
    return {r["strategy"]: r for r in report["runs"]}


def ms(x) -> str:
    return "–" if x is None else f"{x * 1e3:.1f}"


def table(reports: dict[str, dict]) -> tuple[list[str], list[list]]:
    headers = ["scenario", "strategy", "mean ms", "p95 ms", "× oracle", "× oracle, failed counted"]
    headers += ["regret s", "frames to 5% per step"]
    rows = []
    for name, report in reports.items():
        runs = runs_of(report)
        for strategy, r in report["strategies"].items():
            ratio = r.get("oracle_ratio")
            run = runs.get(strategy)
            curve = regret_curve(report, run) if run else []
            counted = counted_ratio(report, run) if run else None
            per_step = (
                ", ".join(f"{t:g}s: {'–' if k is None else k}" for t, k in convergence(name, report, run))
                if run
                else "–"
            )
            rows.append(
                [
                    name,
                    strategy,
                    ms(r.get("mean_s")),
                    ms(r.get("p95_s")),
                    "–" if ratio is None else f"{ratio:.2f}",
                    "–" if counted is None else f"{counted:.2f}",
                    f"{curve[-1]:.2f}" if curve else "–",
                    per_step,
                ]
            )
    return headers, rows


def targets(reports: dict[str, dict]) -> list[str]:
    out = []
    for name, report in reports.items():
        a = report["strategies"].get("ans") or {}
        run = runs_of(report).get("ans")
        ratio = a.get("oracle_ratio")
        if ratio is None or run is None:
            out.append(f"- {name}: ans did not run (NOT met)")
            continue
        counted = counted_ratio(report, run) or ratio
        met = max(ratio, counted) <= TARGET_RATIO
        line = f"- {name}: ans at {ratio:.2f}x the oracle, {counted:.2f}x with failed frames counted "
        per_step = convergence(name, report, run)
        slow = [f"{t:g}s" for t, k in per_step if k is None or k > TARGET_FRAMES]
        if name == COMPOSED:  # the targets are for the mobilenetv2 scenarios
            line += f"(no target: {UNTARGETED}); steps followed within {TARGET_FRAMES} frames: "
            line += f"{len(per_step) - len(slow)} of {len(per_step)}"
        else:
            line += f"({'met' if met else 'NOT met'}: both <= {TARGET_RATIO:.2f})"
            line += (
                f"; within 5% of the new optimum in <= {TARGET_FRAMES} frames after "
                + (
                    f"every step ({len(per_step)})"
                    if not slow
                    else f"{len(per_step) - len(slow)} of {len(per_step)} steps"
                )
                + (f" (NOT met at {', '.join(slow)})" if slow else " (met)")
            )
        out.append(line)
        q = report["strategies"].get("qoe-bandit") or {}
        if q.get("oracle_ratio") is not None:
            out.append(
                f"- {name}: qoe-bandit split by ans at {q['oracle_ratio']:.2f}x the latency oracle "
                "(no target: its objective is QoE, accuracy as well as latency, and the oracle is the "
                "base model's)"
            )
    return out


def regret_by_arm(report: dict, run: dict) -> dict[int, tuple[float, int]]:
    """Where a learning run's regret went: per arm, (sum of latency - oracle over its frames, frames)."""
    oracle, window_s = oracle_by_window(report), report["window_s"]
    out: dict[int, tuple[float, int]] = {}
    for f in run["frames"]:
        best = oracle.get(int(f["t"] // window_s))
        if best is None or f["arm"] is None or f["latency_s"] is None:
            continue
        total, count = out.get(f["arm"], (0.0, 0))
        out[f["arm"]] = (total + f["latency_s"] - best, count + 1)
    return dict(sorted(out.items(), key=lambda kv: -kv[1][0]))


def beside_lines(reports: dict[str, dict]) -> list[str]:
    """Per scenario, ans's looks beside local frames (docs/learning.md): the traffic its learning cost, no
    frame's time; from the learned state the source last reported (per arm: looks beside / pulls)."""
    out = ["ans's looks beside local frames (per arm: looks beside / pulls, as last reported):", ""]
    for name, report in reports.items():
        learning = (report["strategies"].get("ans") or {}).get("learning") or {}
        arms = [a for a in learning.get("arms") or () if a.get("pulls")]
        if not arms:
            continue
        looks = sum(int(a.get("beside") or 0) for a in arms)
        parts = [f"cut {a['cut']}: {int(a.get('beside') or 0)}/{a['pulls']}" for a in arms]
        out.append(f"- {name}: {looks} looks; " + ", ".join(parts))
    return out


def regret_lines(reports: dict[str, dict]) -> list[str]:
    out = [
        "ans's regret by arm (seconds over the oracle, frames; the highest cut is all-local: 50 for "
        "mobilenetv2, 10 for the digits CNN):",
        "",
    ]
    for name, report in reports.items():
        run = runs_of(report).get("ans")
        if run is None or not run["frames"]:
            continue
        parts = [f"cut {c}: {r:.2f} s ({n})" for c, (r, n) in regret_by_arm(report, run).items()]
        out.append(f"- {name}: " + "; ".join(parts))
    return out


def figure(reports: dict[str, dict], path: Path) -> None:
    """The cumulative regret curves, one panel per scenario, as a self-contained plotly HTML file."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=len(reports), cols=1, subplot_titles=list(reports), vertical_spacing=0.08)
    colours = {"ans": "#d62728", "adaptive": "#1f77b4", "device-edge": "#7f7f7f", "qoe-bandit": "#2ca02c"}
    for i, (name, report) in enumerate(reports.items(), 1):
        rate = report["session"]["rate"]
        for strategy, run in runs_of(report).items():
            curve = regret_curve(report, run)
            fig.add_scatter(
                x=list(range(1, len(curve) + 1)),
                y=curve,
                name=strategy,
                legendgroup=strategy,
                showlegend=i == 1,
                line={"color": colours.get(strategy)},
                row=i,
                col=1,
            )
        for t in steps(name, report["window_s"]):
            fig.add_vline(x=t * rate, line={"dash": "dot", "color": "#bbbbbb"}, row=i, col=1)
        fig.update_yaxes(title_text="cumulative regret (s)", row=i, col=1)
    fig.update_xaxes(title_text="frame", row=len(reports), col=1)
    fig.update_layout(
        title="Cumulative regret against the oracle (dotted: steps in the conditions)",
        height=320 * len(reports),
        width=900,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(path, include_plotlyjs=True, full_html=True)


READING = """Reading it (the recorded run above; var/bench/learning/ holds the reports and regret.html):

- Recorded on branch h1 at b13fca0 (docs/learning.md's rules through "Looks beside local frames"; the
  emulated stages of one segment sharing one history, agents/edgeorch_agent/runtime.py, Stretch) on
  2026-12-08 at 00:20-00:26 UTC, a fresh machine, nothing else running. Every target met: ans 1.02x /
  1.03x / 1.05x, every step of every scenario followed within 30 frames; adaptive 1.06x / 1.11x / 1.07x
  in the same run. Runs of the same evening, ans at bandwidth-collapse / edge-contention / random
  walk (adaptive in brackets; "two" = `--scenarios bandwidth-collapse,bandwidth-random-walk --strategies
  ans,adaptive`, the two bandwidth scenarios alone):
  - the code before (main at d953be7, every look a frame): two, 1.06x / 1.12x (1.01x / 1.04x); the run
    recorded before it read 1.10x / 1.06x / 1.04x;
  - looks beside local frames (6728c52): whole, 1.03x / 1.06x / 1.04x (1.15x / 1.02x / 1.02x), the random
    walk's 12 s step not followed; two, 1.00x / 1.01x, 1.02x / 1.10x (the 12 s step not followed) and
    1.04x / 1.03x;
  - and one segment one emulated speed (0bb817d): two, 1.01x / 1.05x (1.19x / 1.02x);
  - and the bandit's looks every 4 frames only while every look goes beside (81b6e36, d5a6d12): two,
    1.01x / 1.01x (1.10x / 1.04x) and 1.03x / 1.02x (1.11x / 1.03x); whole, 1.02x / 1.04x / 1.04x
    (1.07x / 1.07x / 1.05x); here (the looks counted as they teach), 1.02x / 1.03x / 1.05x. Every step
    followed in each of these.
  The 12 s step missed twice before the shared history: that window's oracle was adaptive's all-local
  frames at 39-40 ms, where ans's took 45: the emulated device's time is 6x the host's 5th-percentile
  run of the stage, and each deployment kept its own, so a fresh one (adaptive's all-local plan) ran
  faster than an older one for the same work.
- Where ans loses here (per frame, var/bench/learning/<scenario>.json):
  - bandwidth-collapse (1.02x): the first window (46.1 ms against 41.8): the device profiles itself, then
    each arm is looked at beside a local frame, about one a frame (12 local frames, then cut 16 at 40);
    and the frame on cut 16 in flight when the link collapsed at 8 s (no rule sees a collapse before a
    frame meets it). The recovery at 16 s was followed in 4 frames (19 in the run recorded before, one
    look per 24 frames, each a frame at the collapsed link's time); the 9 looks at cut 38 during the
    collapse went beside local frames.
  - edge-contention (1.03x): the first window (46.5 against 43.4), and two frames where an arm expected
    faster than the device was tried as a frame (the raw input at 20 s, 0.10 s over the oracle; cut 48,
    0.09 s).
  - bandwidth-random-walk (1.05x): the frames on cut 23 when the link fell to 3 Mbit/s at 28 s (the 28 s
    window 56.6 ms against 47.5), and the device alone at 48.9-49.2 ms in windows whose oracle, from
    another strategy's all-local frames, is 47.2-48.1.
- Looks beside local frames: 16, 7 and 43 in the three scenarios' 128 frames (the last list above; the
  random walk's most at cut 16, 20, and cut 38, 13, while the device alone won). They cost traffic, the
  edge's work and the device's front end after its answer; no frame's time.
- The composition (learning/variants-bandwidth-collapse, the digits CNN): its oracle is the runner's
  predicted latency of the device alone (1.5 ms in every window here; 0.9 and 1.3 ms in two runs of the
  same evening), below every ans window mean measured (1.6-2.1 ms here): ans 1.31x, device-edge 1.56x,
  the QoE bandit (which answers with smaller variants too) 1.06x. The issue sets the 1.10x target on the
  three mobilenetv2 scenarios.
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--write", action="store_true", help="replace the Learning section of docs/benchmarks.md"
    )
    parser.add_argument(
        "--scenarios", default="", help=f"comma-separated names (default: {', '.join(SCENARIOS)})"
    )
    parser.add_argument(
        "--saved", action="store_true", help="tabulate the last run's reports (var/bench/learning)"
    )
    parser.add_argument(
        "--strategies",
        default="",
        help="the strategies every scenario runs, as run_scenario names them (default: "
        f"{','.join(STRATEGIES)}; {','.join(STRATEGIES_OF[COMPOSED])} on {COMPOSED})",
    )
    args = parser.parse_args()
    names = [n for n in args.scenarios.split(",") if n] or list(SCENARIOS)
    if names != list(SCENARIOS) or args.strategies:
        if args.write:
            parser.error("--write records the default scenarios and strategies only")
        global KEEP  # another set: kept apart, so that --saved still tabulates the recorded one
        KEEP = KEEP / "other"
    if args.saved:
        meta = json.loads((KEEP / "_meta.json").read_text())
        reports = {
            n: json.loads((KEEP / f"{n.replace('/', '-')}.json").read_text()) for n in meta["scenarios"]
        }
        elapsed = meta["elapsed_s"]
    else:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="edgeorch-bench-learn-") as tmp:
            reports = run_all(names, Path(tmp), tuple(s for s in args.strategies.split(",") if s))
        elapsed = time.monotonic() - started
        KEEP.mkdir(parents=True, exist_ok=True)
        (KEEP / "_meta.json").write_text(json.dumps({"scenarios": list(reports), "elapsed_s": elapsed}))
    figure(reports, KEEP / "regret.html")
    headers, rows = table(reports)
    text = markdown_table(headers, rows)
    checks = targets(reports)
    arms = "\n".join(arm_lines(reports) + [""] + regret_lines(reports) + [""] + beside_lines(reports))
    print(text)
    print("\n".join(checks))
    print(arms)
    if args.write:
        write_section(
            "## Learning\n\n"
            f"`{COMMAND}` ({elapsed / 60:.1f} min on {machine()}, shared with other work: timings move with "
            "it): bandwidth-collapse, edge-contention and bandwidth-random-walk (docs/scenarios.md) run by "
            "`manage.py run_scenario` with real agents, a Celery worker and Daphne; `ans` (docs/learning.md: "
            "μLinUCB at the source, every undominated cut of mobilenetv2 an arm, learning from nothing), "
            "`adaptive` "
            "and `device-edge` (planned once from the profiles, Neurosurgeon-style) one after another under "
            "the same conditions replayed from t=0; and the two learners composed on "
            f"{COMPOSED} (the digits CNN; `qoe-bandit` split by `ans` beside `ans` and `device-edge`; "
            "its oracle is the base model's best plan per window). `× oracle`: the mean latency over the "
            "oracle's (the best plan in hindsight per window, calibrated by the best window mean measured "
            "with the scenario's model) "
            "for the same frames (answered frames: the report's ratio); `× oracle, failed counted`: the "
            "same with every failed frame counted at the time it took (the targets hold on both); "
            "regret: the sum over frames of latency minus the oracle of the frame's window; frames to 5%: "
            "per step in the conditions, the frames emitted from the step until the first whose median "
            f"latency over {SMOOTH} frames is within 5% of the new window's oracle ('–': not before the next "
            "step). The regret curves: var/bench/learning/regret.html (plotly, self-contained), the reports "
            "beside it.\n\n"
            + text
            + "\n\nTargets (issue #22):\n\n"
            + "\n".join(checks)
            + "\n\n"
            + arms
            + "\n\n"
            + READING
        )


def arm_lines(reports: dict[str, dict]) -> list[str]:
    """What ans (and qoe-bandit split by ans) chose per window against the oracle's plan, one line per
    scenario and learner."""
    out = ["ans's arms per window (cut x frames, its mean; the oracle's):", ""]
    for name, report in reports.items():
        for learner in ("ans", "qoe-bandit"):
            if not any((w.get("arms") or {}).get(learner) for w in report["windows"]):
                continue
            parts = []
            for w in report["windows"]:
                chosen = (w.get("arms") or {}).get(learner) or {}
                cuts = ",".join(f"{c}x{n}" for c, n in list((chosen.get("cuts") or {}).items())[:3]) or "none"
                at = w["window"] * report["window_s"]
                parts.append(f"{at:g}s {cuts} {ms(chosen.get('mean_s'))} ({ms(w.get('oracle_s'))})")
            label = name if learner == "ans" else f"{name}, qoe-bandit split by ans"
            out.append(f"- {label}: " + "; ".join(parts))
    return out


if __name__ == "__main__":
    main()
