"""A finished scenario's report: per strategy p50/p95/p99, throughput, deadline misses, plan switches, the
ratio to the oracle and the prediction error; as JSON and as a markdown table."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from edgeorch.plans import services as plans

from . import oracle as o
from .runner import Runner, StrategyRun
from .spec import ORACLE, Scenario


def predicted_best(runner: Runner, w: int, telemetry: list) -> dict[str, Any]:
    """The best plan in hindsight for window ``w``, under its recorded conditions (module ``oracle``)."""
    sc, ids = runner.scenario, {n: str(d.pk) for n, d in runner.devices.items()}
    links = o.link_conditions(sc, w)
    slowdown = o.slowdowns(o.throttles(telemetry, w, sc.window_s), o.shares(sc, w))
    usable = {d.name for d in runner.candidates()}
    overrides = {
        "links": [{"a": ids[a], "b": ids[b], "bandwidth_bps": bw, "rtt_ms": rtt * 1e3}
                  for (a, b), (bw, rtt) in links.items() if math.isfinite(bw) and bw > 0 and {a, b} <= usable],
        "throttle": {ids[n]: f for n, f in slowdown.items() if n in usable},
    }  # fmt: skip
    plan = plans.make_plan(
        runner.model, runner.candidates(), runner.devices[sc.session.source], "adaptive",
        overrides=overrides,
    )  # fmt: skip
    names = {v: k for k, v in ids.items()}
    route = " -> ".join(
        f"{names.get(s['device'], s['device'])}[{s['first_block']}-{s['last_block']}]" for s in plan["stages"]
    )
    return {
        "window": w, "predicted_s": plan["latency"], "plan": route,
        "links": {f"{a}-{b}": {"bandwidth_bps": bw, "rtt_s": rtt} for (a, b), (bw, rtt) in links.items()},
        "slowdown": slowdown,
    }  # fmt: skip


def build(runner: Runner, runs: list[StrategyRun]) -> dict[str, Any]:
    sc: Scenario = runner.scenario
    telemetry = [r.telemetry for r in runs]
    windows = [predicted_best(runner, w, telemetry) for w in o.windows(sc)]
    predicted = {row["window"]: row["predicted_s"] for row in windows}
    oracle = o.calibrate(predicted, [o.measured_means(r.frames, sc.window_s) for r in runs])
    for row in windows:
        row["oracle_s"] = oracle.get(row["window"])
    rows = {}
    for r in runs:
        rows[r.strategy] = o.summarise(
            r.frames, frames_expected=sc.session.frames, window_s=sc.window_s, oracle=oracle,
            deadline_s=sc.session.deadline_s, predicted=r.predicted, switches=len(r.switches),
            steady_from_s=sc.window_s,
        )  # fmt: skip
        rows[r.strategy].update(state=r.state, reason=r.reason)
    per_window = Counter(o.window_of(i / sc.session.rate, sc.window_s) for i in range(sc.session.frames))
    rows[ORACLE] = o.oracle_row(oracle, per_window)
    return {
        "scenario": sc.name, "description": sc.description, "model": runner.model.name,
        "session": {"rate": sc.session.rate, "frames": sc.session.frames, "deadline_s": sc.session.deadline_s},
        "window_s": sc.window_s, "windows": windows, "strategies": rows,
        "runs": [{"strategy": r.strategy, "session": r.session_id, "switches": r.switches} for r in runs],
    }  # fmt: skip


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x * 1e3:.1f}"


def _num(x: float | None, fmt: str = "{:.2f}") -> str:
    return "–" if x is None else fmt.format(x)


HEADER = ["strategy", "mean ms", "p50 ms", "p95 ms", "p99 ms", "frames/s", "deadline misses", "switches",
          "× oracle", "MAPE"]  # fmt: skip


def rows(report: dict[str, Any]) -> list[list[str]]:
    out = []
    for name, r in report["strategies"].items():
        out.append([
            name, _ms(r.get("mean_s")), _ms(r.get("p50_s")), _ms(r.get("p95_s")), _ms(r.get("p99_s")),
            _num(r.get("throughput_fps"), "{:.1f}"), str(r.get("deadline_misses", "–")), str(r.get("switches", "–")),
            _num(r.get("oracle_ratio")), _num(r.get("mape"), "{:.0%}"),
        ])  # fmt: skip
    return out


def markdown(report: dict[str, Any]) -> str:
    lines = [f"### {report['scenario']}", "", report.get("description") or "", ""]
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "|".join("---" for _ in HEADER) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows(report)]
    lines += ["", "Best plan in hindsight per window: " + "; ".join(
        f"{w['window'] * report['window_s']:g}s {w['plan']} ({_ms(w['oracle_s'])} ms)" for w in report["windows"]
    ), ""]  # fmt: skip
    return "\n".join(lines)
