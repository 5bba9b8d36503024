"""A finished scenario's report: per strategy p50/p95/p99, throughput, deadline misses, plan switches, the
ratio to the oracle and the prediction error; as JSON and as a markdown table. A scenario with faults or
several failover policies has a row per strategy and policy (``strategy:policy``), and per row what the
faults cost (``fault_row``: MTTR, frames lost and re-sent, p99 around the faults, accuracy). A scenario
with ``users`` reports, per run, each user's frames, answers, deadline misses, drops, p50/p99 and accuracy
(``user_row``) and the same over every user and the session per priority class (``users_report``)."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import Any

import numpy as np
from edgeorch_wire.profiles import load_profile
from edgeorch_wire.thermal import Heat

from edgeorch import planning
from edgeorch.planning import adaptive as decide
from edgeorch.plans import assembly
from edgeorch.plans import services as plans

from . import oracle as o
from .runner import Runner, StrategyRun
from .spec import ORACLE, Scenario

HEATED_THROTTLES = (1.0, 1.25, 1.5, 2.0, 2.5)  # the heated device's throttles the multi-device DP plans at
AROUND_S = 3.0  # "around the failure": from the first fault to this long after the last


def predicted_best(runner: Runner, w: int, telemetry: list) -> dict[str, Any]:
    """The best plan in hindsight for window ``w``, under its recorded conditions (module ``oracle``)."""
    sc, ids = runner.scenario, {n: str(d.pk) for n, d in runner.devices.items()}
    links = o.link_conditions(sc, w)
    slowdown = o.slowdowns(o.throttles(telemetry, w, sc.window_s), o.shares(sc, w))
    usable = {d.name for d in runner.candidates()}
    overrides = {
        "links": [
            {"a": ids[a], "b": ids[b], "bandwidth_bps": bw, "rtt_ms": rtt * 1e3}
            for (a, b), (bw, rtt) in links.items()
            if math.isfinite(bw) and bw > 0 and {a, b} <= usable
        ],
        "throttle": {ids[n]: f for n, f in slowdown.items() if n in usable},
    }
    plan = plans.make_plan(
        runner.model,
        runner.candidates(),
        runner.devices[sc.session.source],
        "adaptive",
        overrides=overrides,
    )
    names = {v: k for k, v in ids.items()}
    route = " -> ".join(
        f"{names.get(s['device'], s['device'])}[{s['first_block']}-{s['last_block']}]" for s in plan["stages"]
    )
    return {
        "window": w,
        "predicted_s": plan["latency"],
        "plan": route,
        "links": {f"{a}-{b}": {"bandwidth_bps": bw, "rtt_s": rtt} for (a, b), (bw, rtt) in links.items()},
        "slowdown": slowdown,
    }


def heated_device(runner: Runner) -> str | None:
    """The candidate device whose thermal model throttles soonest at full load (``oracle.thermal_path``)."""
    best: tuple[float, str] | None = None
    for name in (d.name for d in runner.candidates()):
        spec = next((x for x in runner.scenario.devices if x.name == name), None)
        profile = load_profile(spec.profile) if spec is not None else None
        if profile is None or profile.thermal is None or profile.power is None:
            continue
        heat = Heat.of(profile.thermal, profile.power)
        if heat.can_throttle():
            margin = heat.steady_c(1.0) - heat.throttle_at_c
            best = max(best or (margin, name), (margin, name))
    return best[1] if best else None


def heat_scale(runner: Runner, runs: list[StrategyRun], name: str) -> float:
    """The lowest window-mean ratio of measured compute on ``name`` to its profiled compute times its
    throttle then, over the runs whose plan never changed (so each frame's blocks are known); 0 (no heat:
    the cool camera of the previous oracle) when no such frame ran there."""
    device, ratios = str(runner.devices[name].pk), []
    for r in runs:
        if r.switches or not r.plan:
            continue
        planned = {str(d["id"]): float(d.get("throttle") or 1.0) for d in r.plan.get("devices") or []}
        profiled = sum(s["compute"] for s in r.plan["stages"] if s["device"] == device)
        profiled /= planned.get(device, 1.0)
        if profiled <= 0:
            continue
        by_window: dict[int, list[float]] = {}
        for f in r.frames:
            busy = (f.get("busy") or {}).get(device)
            if f["ok"] and busy:
                throttle = _throttle_at(r.telemetry.get(name, []), f["t"])
                by_window.setdefault(o.window_of(f["t"], runner.scenario.window_s), []).append(
                    busy / (profiled * throttle)
                )
        ratios += [statistics.fmean(v) for v in by_window.values() if len(v) >= 3]
    return min(ratios, default=0.0)


def _throttle_at(rows: list, t: float) -> float:
    value = 1.0
    for at, metrics in rows:
        if at > t:
            break
        value = float(metrics.get("cpu.throttle_factor", value))
    return value


def start_temperature(runs: list[StrategyRun], name: str, idle_c: float) -> float:
    """The coolest the device started any run at (its idle temperature at most)."""
    first = [
        float(
            next((m["temp.emulated"] for _, m in r.telemetry.get(name, []) if "temp.emulated" in m), idle_c)
        )
        for r in runs
    ]
    return min([idle_c, *first])


def window_options(runner: Runner, w: int, telemetry: list, heated: str) -> list[o.Option]:
    """Every placement the strategies could choose in window ``w`` (each device-edge cut to each edge, local
    and full offload included, and the multi-device DP at several throttles of ``heated``), as options of
    ``oracle.thermal_path``: the other devices at their ``predicted_best`` slowdowns."""
    sc, ids = runner.scenario, {n: str(d.pk) for n, d in runner.devices.items()}
    links = o.link_conditions(sc, w)
    share = o.shares(sc, w).get(heated, 0.0)
    slowdown = o.slowdowns(o.throttles(telemetry, w, sc.window_s), o.shares(sc, w))
    slowdown[heated] = 1.0 / (1.0 - min(share, 0.95))
    usable = {d.name for d in runner.candidates()}
    overrides = {
        "links": [
            {"a": ids[a], "b": ids[b], "bandwidth_bps": bw, "rtt_ms": rtt * 1e3}
            for (a, b), (bw, rtt) in links.items()
            if math.isfinite(bw) and bw > 0 and {a, b} <= usable
        ],
    }
    source = runner.devices[sc.session.source]
    base = assembly.assemble(runner.model, runner.candidates(), source, overrides=overrides).problem
    factors = {ids[n]: f for n, f in slowdown.items() if n in usable}
    cool = decide.apply(base, decide.Conditions(slowdown=factors))
    hot = decide.apply(base, decide.Conditions(slowdown={**factors, ids[heated]: 2.0 * factors[ids[heated]]}))
    placements: set[tuple] = set()
    n = len(base.model.blocks)
    for edge in (d.id for d in base.devices if d.id != base.source and d.online):
        for cut in range(n + 1):
            try:
                placements.add(decide.placement(planning.plan(cool, "split", cut=cut, device=edge).to_dict()))
            except planning.PlanningError:
                continue
    for f in HEATED_THROTTLES:
        scaled = decide.apply(
            base, decide.Conditions(slowdown={**factors, ids[heated]: f * factors[ids[heated]]})
        )
        try:
            placements.add(decide.placement(planning.plan(scaled, "multi-device").to_dict()))
        except planning.PlanningError:
            continue
    names = {v: k for k, v in ids.items()}
    options = []
    for stages in placements:
        latency = decide.evaluate(cool, stages)
        if math.isfinite(latency):
            label = " -> ".join(f"{names.get(d, d)}[{a}-{b}]" for d, _, a, b in stages)
            options.append(o.Option(latency, decide.evaluate(hot, stages) - latency, label))
    return options


def thermal_windows(runner: Runner, runs: list[StrategyRun], heated: str, telemetry: list) -> dict[int, dict]:
    """Per window, the thermal bound's mean latency and most used placement (``oracle.thermal_path``)."""
    sc = runner.scenario
    profile = load_profile(sc.device(heated).profile)
    assert profile.thermal is not None and profile.power is not None
    idle_c = Heat.of(profile.thermal, profile.power).idle_c
    per_window = {w: window_options(runner, w, telemetry, heated) for w in o.windows(sc)}
    times = [i / sc.session.rate for i in range(sc.session.frames)]
    wins = [min(o.window_of(t, sc.window_s), max(per_window)) for t in times]
    path = o.thermal_path(
        [per_window[w] for w in wins],
        interval_s=1.0 / sc.session.rate,
        params=profile.thermal,
        power=profile.power,
        start_c=start_temperature(runs, heated, idle_c),
        share=[o.shares(sc, w).get(heated, 0.0) for w in wins],
        heat_scale=heat_scale(runner, runs, heated),
    )
    out: dict[int, dict] = {}
    for w, (option, latency) in zip(wins, path, strict=True):
        row = out.setdefault(w, {"latencies": [], "plans": Counter()})
        row["latencies"].append(latency)
        row["plans"][option.label] += 1
    return {
        w: {"predicted_s": statistics.fmean(r["latencies"]), "plan": r["plans"].most_common(1)[0][0]}
        for w, r in out.items()
    }


def build(runner: Runner, runs: list[StrategyRun]) -> dict[str, Any]:
    sc: Scenario = runner.scenario
    telemetry = [r.telemetry for r in runs]
    windows = [predicted_best(runner, w, telemetry) for w in o.windows(sc)]
    heated = heated_device(runner)
    if heated is not None:
        bound = thermal_windows(runner, runs, heated, telemetry)
        for row in windows:
            if row["window"] in bound:
                row.update(bound[row["window"]], heated=heated, cool_predicted_s=row["predicted_s"])
    predicted = {row["window"]: row["predicted_s"] for row in windows}
    oracle = o.calibrate(predicted, [o.measured_means(r.frames, sc.window_s, sc.model) for r in runs])
    for row in windows:
        row["oracle_s"] = oracle.get(row["window"])
    rows = {}
    policies = {r.policy for r in runs}
    by_policy = len(policies) > 1 or policies != {"none"} or bool(sc.faults)
    label = known_class(runner)
    for r in runs:
        key = run_key(r, len(policies) > 1)
        rows[key] = o.summarise(
            r.frames,
            frames_expected=sc.session.frames,
            window_s=sc.window_s,
            oracle=oracle,
            deadline_s=sc.session.deadline_s,
            predicted=r.predicted,
            switches=len(r.switches),
            steady_from_s=sc.window_s,
        )
        rows[key].update(state=r.state, reason=r.reason, strategy=r.strategy, policy=r.policy)
        rows[key].update(energy_j=r.energy.get("joules"), energy_basis=r.energy.get("basis"))
        if by_policy:
            rows[key]["faults"] = fault_row(sc, r, label)
        if r.learning:
            rows[key]["learning"] = r.learning
        if sc.users:
            rows[key]["users"] = users_report(runner, r)
    for row in windows:
        chosen = {run_key(r, len(policies) > 1): arms_in(r, row["window"], sc.window_s) for r in runs}
        row["arms"] = {k: v for k, v in chosen.items() if v is not None}
    per_window = Counter(o.window_of(i / sc.session.rate, sc.window_s) for i in range(sc.session.frames))
    rows[ORACLE] = o.oracle_row(oracle, per_window)
    return {
        "scenario": sc.name,
        "description": sc.description,
        "model": runner.model.name,
        "session": {
            "rate": sc.session.rate,
            "frames": sc.session.frames,
            "deadline_s": sc.session.deadline_s,
            "objective": sc.session.objective,
            "battery_below": sc.session.battery_below,
        },
        "window_s": sc.window_s,
        "windows": windows,
        "strategies": rows,
        "failover": sorted(policies),
        "faults": [f.describe() for f in sc.faults],
        "runs": [
            {
                "strategy": r.strategy,
                "policy": r.policy,
                "session": r.session_id,
                "switches": r.switches,
                "frames": [
                    {k: f.get(k) for k in ("request_id", "t", "latency_s", "ok", "arm")}
                    for f in sorted(r.frames, key=lambda f: f["request_id"])
                ],
            }
            for r in runs
        ],
    }


def arms_in(r: StrategyRun, w: int, window_s: float) -> dict[str, Any] | None:
    """What a learning run (``ans``: each frame's ``arm``) chose in window ``w``: frames per cut, most taken
    first, and the answered frames' mean latency; None for a run whose frames name no arm."""
    frames = [f for f in r.frames if f.get("arm") is not None]
    if not frames:
        return None
    here = [f for f in frames if o.window_of(f["t"], window_s) == w]
    answered = [f["latency_s"] for f in here if f["ok"]]
    return {
        "cuts": dict(Counter(str(f["arm"]) for f in here).most_common()),
        "mean_s": statistics.fmean(answered) if answered else None,
    }


def run_key(r: StrategyRun, by_policy: bool) -> str:
    return f"{r.strategy}:{r.policy}" if by_policy else r.strategy


def known_class(runner: Runner) -> int | None:
    """The class of the session's input when it is a test sample with a known label (the digits models)."""
    return digits_label(runner.model.name, runner.scenario.session.sample)


def digits_label(model: str, sample: int | None) -> int | None:
    """The class of test sample ``sample`` of a digits model (None: unknown, or another model)."""
    from edgeorch.jobs.inputs import DIGITS_MODELS

    if sample is None or model not in DIGITS_MODELS:
        return None
    from edgeorch.catalog.zoo import _digits_data  # the split the zoo trained on: sample k's label

    return int(_digits_data()[3][sample])


def user_row(frames: list[dict[str, Any]], label: int | None = None, expected: int | None = None) -> dict:
    """A user's (or a class's) frames summed up: ``frames`` (recorded), ``expected`` (what its rate gives,
    when known), ``ok``, ``deadline_misses`` (late or failed, drops apart: docs/qos.md), ``dropped``,
    ``miss_rate`` (misses and drops over recorded frames), ``p50_s``/``p99_s`` of the answered,
    ``accuracy`` (answers whose top class is ``label``; None without one), ``served_accuracy`` (the mean
    measured accuracy of the configurations that answered: ``runner.user_frames``; None where none is known)
    and ``configs`` (answers per configuration)."""
    answered = [f["latency_s"] for f in frames if f["ok"]]
    misses = sum(1 for f in frames if f["deadline_met"] is False and not f["dropped"])
    dropped = sum(1 for f in frames if f["dropped"])
    tops = [f.get("top") for f in frames if f["ok"]]
    served = [float(f["accuracy"]) for f in frames if f["ok"] and f.get("accuracy") is not None]
    configs: dict[str, int] = {}
    for f in frames:
        if f["ok"] and f.get("config"):
            configs[f["config"]] = configs.get(f["config"], 0) + 1
    return {
        "frames": len(frames),
        "expected": expected,
        "ok": len(answered),
        "deadline_misses": misses,
        "dropped": dropped,
        "miss_rate": (misses + dropped) / len(frames) if frames else None,
        "p50_s": float(np.percentile(answered, 50)) if answered else None,
        "p99_s": float(np.percentile(answered, 99)) if answered else None,
        "accuracy": (sum(1 for t in tops if t == label) / len(tops)) if label is not None and tops else None,
        "served_accuracy": sum(served) / len(served) if served else None,
        "configs": configs,
    }


def users_report(runner: Runner, r: StrategyRun) -> dict[str, Any]:
    """Per user of the scenario its ``user_row``; ``by_priority``: every user's frames and the session's
    (as ``session``) per priority class; ``overall``: all of them."""
    sc = runner.scenario
    users: dict[str, Any] = {}
    everyone: list[dict[str, Any]] = []
    for user in sc.users:
        frames = [dict(f, priority=f.get("priority") or user.priority) for f in r.users.get(user.name, [])]
        expected = sum(max(1, round(d * rate)) for _, d, rate in user.segments())
        users[user.name] = user_row(frames, digits_label(user.model, user.sample), expected)
        users[user.name].update(priority=user.priority, deadline_s=user.deadline_s, source=user.source)
        everyone += frames
    deadline = sc.session.deadline_s
    mine = [
        {
            "ok": bool(f["ok"]),
            "latency_s": f["latency_s"],
            "dropped": (f.get("error") or "").startswith("dropped"),
            "deadline_met": None if deadline is None else bool(f["ok"] and f["latency_s"] <= deadline),
            "priority": sc.session.priority,
            "top": f.get("top"),
            "config": f.get("config"),
            "accuracy": f.get("accuracy"),
        }
        for f in r.frames
    ]
    users["session"] = user_row(mine, known_class(runner), sc.session.frames)
    users["session"].update(priority=sc.session.priority, deadline_s=deadline, source=sc.session.source)
    everyone += mine
    classes = {
        name: user_row([f for f in everyone if f["priority"] == name])
        for name in ("critical", "high", "normal", "low")
        if any(f["priority"] == name for f in everyone)
    }
    return {"users": users, "by_priority": classes, "overall": user_row(everyone)}


def fault_row(sc: Scenario, r: StrategyRun, label: int | None) -> dict[str, Any]:
    """What the faults cost one run. Lost: frames the session should have sent that were never answered
    (failed, or never reported); MTTR per failure from its ``Failure`` row (detection to the first frame
    answered on the failover route); p99 over the frames emitted from the first fault to ``AROUND_S`` after
    the last; accuracy: the answered frames' top class against the input's known class."""
    expected = set(range(sc.session.frames))
    ok = {f["request_id"] for f in r.frames if f["ok"]} & expected
    reported = {f["request_id"] for f in r.frames} & expected
    mttrs = [f["mttr_s"] for f in r.failures if f.get("mttr_s") is not None]
    injected = [f.at for f in sc.faults if f.injects]
    around = None
    if injected:
        lo, hi = min(injected), max(injected) + AROUND_S
        around = o.percentile([f["latency_s"] for f in r.frames if f["ok"] and lo <= f["t"] <= hi], 0.99)
    tops = [f["top"] for f in r.frames if f["ok"] and f.get("top") is not None]
    return {
        "policy": r.policy,
        "failures": len(r.failures),
        "recovered": sum(1 for f in r.failures if f.get("outcome") == "recovered"),
        "mttr_s": max(mttrs, default=None),
        "mttrs_s": mttrs,
        "detection_s": _max(f.get("detection_s") for f in r.failures),
        "replanned_s": _max(f.get("replanned_s") for f in r.failures),
        "frames_expected": len(expected),
        "frames_lost": len(expected - ok),
        "frames_failed": len(reported - ok),
        "frames_unreported": len(expected - reported),
        "frames_resent": sum(1 for f in r.frames if f.get("resent")),
        "p99_around_s": around,
        "accuracy": None if label is None or not tops else sum(t == label for t in tops) / len(tops),
        "errors": dict(Counter(str(f.get("error") or "")[:160] for f in r.frames if not f["ok"])),
        "injected": r.faults,
        "failure_log": r.failures,
    }


def _max(values) -> float | None:
    return max((v for v in values if v is not None), default=None)


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x * 1e3:.1f}"


def _num(x: float | None, fmt: str = "{:.2f}") -> str:
    return "–" if x is None else fmt.format(x)


HEADER = [
    "strategy",
    "mean ms",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "frames/s",
    "J/frame",
    "deadline misses",
    "switches",
    "× oracle",
    "MAPE",
]


def rows(report: dict[str, Any]) -> list[list[str]]:
    out = []
    for name, r in report["strategies"].items():
        out.append(
            [
                name,
                _ms(r.get("mean_s")),
                _ms(r.get("p50_s")),
                _ms(r.get("p95_s")),
                _ms(r.get("p99_s")),
                _num(r.get("throughput_fps"), "{:.1f}"),
                _num(r.get("energy_j"), "{:.3g}"),
                str(r.get("deadline_misses", "–")),
                str(r.get("switches", "–")),
                _num(r.get("oracle_ratio")),
                _num(r.get("mape"), "{:.0%}"),
            ]
        )
    return out


FAULT_HEADER = [
    "run",
    "state",
    "failures (recovered)",
    "MTTR ms",
    "detection ms",
    "frames lost",
    "failed",
    "unreported",
    "re-sent",
    "deadline misses",
    "p99 around ms",
    "accuracy",
]


def fault_rows(report: dict[str, Any]) -> list[list[str]]:
    out = []
    for name, r in report["strategies"].items():
        f = r.get("faults")
        if f is None:
            continue
        out.append(
            [
                name,
                str(r.get("state", "–")),
                f"{f['failures']} ({f['recovered']})",
                _ms(f["mttr_s"]),
                _ms(f["detection_s"]),
                str(f["frames_lost"]),
                str(f["frames_failed"]),
                str(f["frames_unreported"]),
                str(f["frames_resent"]),
                str(r.get("deadline_misses", "–")),
                _ms(f["p99_around_s"]),
                _num(f["accuracy"], "{:.0%}"),
            ]
        )
    return out


USER_HEADER = [
    "run",
    "user",
    "priority",
    "deadline ms",
    "frames",
    "ok",
    "misses",
    "dropped",
    "miss rate",
    "p50 ms",
    "p99 ms",
    "accuracy",
    "served accuracy",
]


def user_rows(report: dict[str, Any]) -> list[list[str]]:
    """Per run, a row per user, then one per priority class and one over all."""
    out = []
    for name, r in report["strategies"].items():
        u = r.get("users")
        if not u:
            continue
        entries = [(user, row.get("priority", ""), row) for user, row in u["users"].items()]
        entries += [(f"class {c}", c, row) for c, row in u["by_priority"].items()]
        entries.append(("all", "", u["overall"]))
        for user, priority, row in entries:
            out.append(
                [
                    name,
                    user,
                    priority,
                    _ms(row.get("deadline_s")),
                    str(row["frames"]),
                    str(row["ok"]),
                    str(row["deadline_misses"]),
                    str(row["dropped"]),
                    _num(row["miss_rate"], "{:.0%}"),
                    _ms(row["p50_s"]),
                    _ms(row["p99_s"]),
                    _num(row["accuracy"], "{:.0%}"),
                    _num(row.get("served_accuracy"), "{:.1%}"),
                ]
            )
    return out


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in body]


def markdown(report: dict[str, Any]) -> str:
    lines = [f"### {report['scenario']}", "", report.get("description") or "", ""]
    lines += _table(HEADER, rows(report))
    faulted = fault_rows(report)
    if faulted:
        lines += ["", "Faults: " + ("; ".join(report.get("faults") or []) or "none"), ""]
        lines += _table(FAULT_HEADER, faulted)
    users = user_rows(report)
    if users:
        lines += ["", "Users (misses: late or failed; drops apart):", ""]
        lines += _table(USER_HEADER, users)
    lines += [
        "",
        "Best plan in hindsight per window: "
        + "; ".join(
            f"{w['window'] * report['window_s']:g}s {w['plan']} ({_ms(w['oracle_s'])} ms)"
            for w in report["windows"]
        ),
        "",
    ]
    for name in dict.fromkeys(k for w in report["windows"] for k in w.get("arms") or {}):
        lines += [
            f"{name}'s arms per window (cut x frames): "
            + "; ".join(_arms(w, name, report) for w in report["windows"]),
            "",
        ]
    return "\n".join(lines)


def _arms(w: dict[str, Any], name: str, report: dict[str, Any]) -> str:
    chosen = (w.get("arms") or {}).get(name) or {}
    cuts = ", ".join(f"{c}x{n}" for c, n in (chosen.get("cuts") or {}).items()) or "none"
    return f"{w['window'] * report['window_s']:g}s {cuts} ({_ms(chosen.get('mean_s'))} ms)"
