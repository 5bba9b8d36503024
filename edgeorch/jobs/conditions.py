"""A running adaptive session's conditions as the re-planner estimates them, and planning under them.

Frame traces give bandwidth and per-device factors for what the plan in force exercises
(``planning.adaptive.observe``); the latest telemetry throttle and link samples the rest; recent sessions
of the model calibrate devices not yet used (``remembered_calibrations``); a device whose profile's thermal
model can throttle it soon is judged by how it will heat (``heating_device``, ``thermal_foresight``).
``problem_under`` and ``plan_under`` plan with the estimates in place, by the objective ``objective_of``
says (the session's own, or energy while the source's battery is low). Nothing here writes a row: the
decisions and their bookkeeping are ``services.adaptive``'s.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from edgeorch_wire.profiles import ProfileError, list_profiles, load_profile

from edgeorch import planning
from edgeorch.devices.models import Device
from edgeorch.planning import adaptive as decide
from edgeorch.plans.assembly import assemble, current_throttle, planning_model
from edgeorch.plans.measurements import latest_links
from edgeorch.telemetry.models import TelemetryRecord
from edgeorch.telemetry.services import latest_metric

from .models import Frame, PlanSwitch, Session

BATTERY_HYSTERESIS = 5.0  # battery % above ``battery_below`` before the session's own objective returns
RESIDUALS = 9  # the cost model's latest misses on the placement in force, for its predicted latency
SETTLE_FRAMES = 3  # frames after a (re)deployment not judged: in flight on the old route, or warming up
POLICY = decide.Policy()  # the re-planner's thresholds and periods; the estimates smooth by it too


def to_conditions(data: dict) -> decide.Conditions:
    bandwidth = {tuple(k.split("|")): v for k, v in (data.get("bandwidth") or {}).items()}
    recent = {k: tuple(v) for k, v in (data.get("recent") or {}).items()}
    return decide.Conditions(bandwidth, dict(data.get("slowdown") or {}), recent)  # type: ignore[arg-type]


def from_conditions(c: decide.Conditions) -> dict:
    return {
        "bandwidth": {f"{a}|{b}": v for (a, b), v in c.bandwidth.items()},
        "slowdown": dict(c.slowdown),
        "recent": {k: list(v) for k, v in c.recent.items()},
    }


def planned_conditions(plan: dict) -> decide.Conditions:
    """The conditions a plan was made under (its links and devices as ``make_plan`` reports them)."""
    bandwidth = {
        decide.pair(link["a"], link["b"]): link["bandwidth_bps"] / 8.0 for link in plan.get("links") or []
    }
    slowdown = {
        d["id"]: float(d.get("throttle") or 1.0) for d in plan.get("devices") or [] if d.get("online")
    }
    return decide.Conditions(bandwidth, slowdown)


def crossed(plan: dict, source: str) -> set[tuple[str, str]]:
    """The links the plan's frames cross (so its traces measure them)."""
    chain = [source, *[s["device"] for s in plan["stages"]]]
    return {decide.pair(a, b) for a, b in zip(chain, chain[1:], strict=False) if a != b}


def _on(route: list[str], frame: Mapping[str, Any]) -> bool:
    """Whether the frame ran on ``route``: its trace's devices are the route's (a dropped frame's, the route's
    first ones, up to the stage that dropped it: docs/qos.md)."""
    devices = [e.get("device") for e in frame["trace"]]
    return devices == route or (
        frame.get("dropped") is True and 0 < len(devices) and devices == route[: len(devices)]
    )


def current_conditions(session, state: dict) -> decide.Conditions:
    """Frame-trace estimates for what the plan exercises, telemetry and link samples for the rest."""
    plan, source = session.plan, str(session.source_id)
    prior = to_conditions(state["estimate"]) if "estimate" in state else planned_conditions(plan)
    frames = list(
        Frame.objects.filter(session=session, request_id__gt=state.get("last_frame", -1))
        .order_by("request_id")
        .values("request_id", "ok", "latency_s", "trace", "dropped")
    )
    route = [s["device"] for s in plan["stages"]]
    # The first frames on a deployment are warm-up (a fresh onnxruntime session runs its first inference
    # several times slower), and right after a switch some still ran on the old route: neither says anything
    # about the conditions.
    warm = state.get("warm_from", SETTLE_FRAMES)
    mine = [f for f in frames if f["request_id"] >= warm and _on(route, f)]
    rtt = {decide.pair(link["a"], link["b"]): link["rtt_ms"] / 1e3 for link in plan.get("links") or []}
    input_bytes = planning_input_bytes(session)
    estimate = decide.observe(
        prior, plan, mine, input_bytes=input_bytes, source=source, rtt=rtt, policy=POLICY
    )
    if state.get("model_s"):  # how far the cost model's prediction in force was from these frames
        misses = [f["latency_s"] - state["model_s"] for f in mine if f["ok"]]
        state["residuals"] = [*state.get("residuals", []), *misses][-RESIDUALS:]
    state["estimate"] = from_conditions(estimate)
    if frames:
        state["last_frame"] = frames[-1]["request_id"]
    used_links, used_devices = crossed(plan, source), set(route)
    bandwidth = dict(estimate.bandwidth)
    devices = list(Device.objects.filter(pk__in=[d["id"] for d in plan.get("devices") or []]))
    for (a, b), sample in latest_links(devices).items():
        pair = decide.pair(a, b)
        if pair not in used_links and sample.measured_at.timestamp() > state.get("planned_at", 0):
            bandwidth[pair] = sample.bandwidth_bps / 8.0
    # A device's factor folds its thermal throttle into a calibration of its profile (measured / profiled,
    # the profile already calibrated per span by recent sessions: ``problem_under``); while no frame runs
    # there, its last calibration in this session times its current throttle stands in for it.
    slowdown, calibration = dict(estimate.slowdown), state.setdefault("calibration", {})
    if not isinstance(state.get("remembered"), list):
        state["remembered"] = remembered_calibrations(session, devices)
    for device in devices:
        key, throttle = str(device.pk), current_throttle(device)
        if key in used_devices and key in slowdown:
            calibration[key] = slowdown[key] / throttle
        else:
            slowdown[key] = calibration.get(key, 1.0) * throttle
    return decide.Conditions(bandwidth, slowdown, estimate.recent)


REMEMBER_SESSIONS = 8  # recent sessions of the same model a device's calibration is remembered from
REMEMBER_FRAMES = 40  # ... their latest frames each


def remembered_calibrations(session, devices: list) -> list[list]:
    """Per span of blocks a device ran in recent sessions of this model, ``[device, unit, first, last,
    ratio]``: the median over their frames of its measured compute there / the plan's profiled compute at
    full speed / the throttle it reported then (``planning.adaptive.calibrate`` applies them to those
    blocks). The profile's bias (e.g. block times measured one block at a time, or while the host was
    busier) belongs to the device, the model and the blocks, not to one session, so a device this session
    has not run on yet is still compared calibrated; it is not the same on every block, so a ratio measured
    on one span is not charged to the device's other blocks. Compute only: the wait behind background
    tenants is a condition of that session, not a calibration."""
    wanted = {str(d.pk) for d in devices}
    ratios: dict[decide.Span, list[float]] = {}
    past = (
        Session.objects.filter(model_id=session.model_id)
        .exclude(pk=session.pk)
        .exclude(plan={})
        .order_by("-created_at")
        .only("pk", "plan")[:REMEMBER_SESSIONS]
    )
    for run in past:
        if PlanSwitch.objects.filter(session=run).exists():
            continue  # its frames ran on more than one plan
        for span, values in _calibration_samples(run, wanted).items():
            ratios.setdefault(span, []).extend(values)
    return [[*span, statistics.median(v)] for span, v in sorted(ratios.items()) if len(v) >= 5]


def _calibration_samples(run, wanted: set[str]) -> dict[decide.Span, list[float]]:
    traces = list(
        Frame.objects.filter(session=run, ok=True).order_by("-request_id").values_list("trace", flat=True)
    )[:REMEMBER_FRAMES]
    ends = [float(e.get("end") or 0.0) for t in traces for e in t if e.get("device") in wanted]
    if not ends:
        return {}
    rows = (
        TelemetryRecord.objects.filter(device_id__in=wanted, metrics__has_key="cpu.throttle_factor")
        .filter(ts__gte=_aware(min(ends) - 5.0), ts__lte=_aware(max(ends)))
        .order_by("ts")
        .values_list("device_id", "ts", "metrics")
    )
    throttles: dict[str, list[tuple[float, float]]] = {}
    for device, ts, metrics in rows:
        throttles.setdefault(str(device), []).append((ts.timestamp(), float(metrics["cpu.throttle_factor"])))

    def throttle_at(device: str, at: float) -> float:
        return next((f for t, f in reversed(throttles.get(device, [])) if t <= at), 1.0)

    return decide.calibration_samples(run.plan, traces, throttle_at, wanted)


def _aware(ts: float):
    return datetime.fromtimestamp(ts, UTC)


def planning_input_bytes(session) -> float:
    return planning_model(session.model).input_bytes


def candidates(session) -> list:
    devices = Device.objects.exclude(status="revoked")
    if session.candidates:
        devices = devices.filter(pk__in=session.candidates)
    return list(devices)


def problem_under(session, devices: list, c: decide.Conditions, calibration=()):
    """The planner's problem with the estimated conditions in place (links as overrides, factors applied:
    they may be below 1.0, a calibration, which what-if overrides do not allow), its block times first
    calibrated per span (``calibration``: ``remembered_calibrations``)."""
    links = [{"a": a, "b": b, "bandwidth_bps": bw * 8.0} for (a, b), bw in c.bandwidth.items()]
    assembly = assemble(
        session.model, devices, session.source, overrides={"links": links}, deadline=session.deadline_s
    )
    return assembly, decide.apply(decide.calibrate(assembly.problem, calibration), c)


def objective_of(session, state: dict) -> tuple[str, str | None]:
    """The objective the re-planner plans by now, and why it changed since the last look (None: it did
    not); updates ``state`` (``objective``, ``battery_low``). The session's own (``params.objective``, else
    its strategy's), or ``energy`` while the source runs on a battery below ``battery_below`` % (the
    low-battery policy: back once it is ``BATTERY_HYSTERESIS`` above it, or plugged in)."""
    info = planning.STRATEGIES.get(session.strategy)
    own = str((session.params or {}).get("objective") or (info.objective if info else "latency"))
    threshold, low = state.get("battery_below"), bool(state.get("battery_low"))
    percent = plugged = None
    if threshold is not None:
        percent = latest_metric(session.source, "battery.percent")
        plugged = latest_metric(session.source, "battery.plugged") == 1.0
        if percent is not None and not low and not plugged and percent < threshold:
            low = True
        elif low and (plugged or (percent is not None and percent >= threshold + BATTERY_HYSTERESIS)):
            low = False
    objective, before = ("energy" if low else own), state.get("objective", own)
    state.update(objective=objective, battery_low=low)
    if objective == before:
        return objective, None
    if low:
        return objective, f"battery {percent:.0f}% below {threshold:g}%: objective energy"
    why = "plugged in" if plugged else f"battery back to {percent:.0f}%"
    return objective, f"{why}: objective {own}"


def plan_under(session, assembly, problem, c: decide.Conditions, stages=None, objective="latency") -> dict:
    """``make_plan``'s dict for the ``adaptive`` plan of ``problem`` by ``objective`` (or for the placement
    ``stages``)."""
    out = (
        planning.plan(problem, "adaptive", objective=objective)
        if stages is None
        else decide.plan_of(problem, stages)
    ).to_dict()
    out["notes"] = [*out["notes"], "re-planned from live estimates (adaptive)"]
    out.update(model={"id": session.model.pk, "name": session.model.name, "version": session.model.version})
    devices = [{**d, "throttle": c.slowdown.get(d["id"], d.get("throttle", 1.0))} for d in assembly.devices]
    out.update(devices=devices, links=assembly.links)
    for stage in out["stages"]:  # as profiled, before any calibration: what later sessions calibrate from
        if stage.get("first_block") is not None:
            raw = decide.profiled(
                assembly.problem, stage["device"], stage["unit"], stage["first_block"], stage["last_block"]
            )
            if raw is not None:
                stage["profiled"] = raw
    return out


def heating_device(session) -> tuple | None:
    """(device, its ``Heat``, its latest temperature) of the candidate device the thermal foresight judges
    by: of those whose profile's thermal model can throttle them, the one that would run hottest — None when
    there is none, or when it cannot throttle within the horizon however hard it works."""
    heats = [(d, h) for d in candidates(session) if (h := heat_of(d)) is not None]
    if not heats:
        return None
    device, heat = max(
        heats, key=lambda x: x[1].ambient_c + x[1].r_c_per_w * x[1].busy_w - x[1].throttle_at_c
    )
    temp = latest_metric(device, "temp.emulated")
    if temp is None or heat.after(temp, 1.0, POLICY.period_s) <= heat.throttle_at_c:
        return None
    return device, heat, temp


def thermal_foresight(session, problem, current, heated) -> tuple[tuple[float, tuple], float] | None:
    """((foreseen latency, placement) of the best placement, foreseen latency of ``current``) when a
    candidate device can throttle within the horizon (``heated``, from ``heating_device``;
    ``planning.adaptive.foresee``), else None."""
    if heated is None:
        return None
    device, heat, temp = heated
    ranked = decide.foresee(
        problem, str(device.pk), heat, temp, session.rate, POLICY.period_s, also=[current]
    )
    mine = next((score for score, stages in ranked if stages == tuple(current)), None)
    return (ranked[0], mine) if ranked and mine is not None else None


def heat_of(device) -> decide.Heat | None:
    """The thermal model of the device's profile, when it has one that can throttle it."""
    name = device.profile
    if not name:
        return None
    try:
        profile = load_profile(name if name in list_profiles() else f"{name}.json")
    except (ProfileError, OSError, ValueError):
        return None
    t, w = profile.thermal, profile.power
    if t is None or w is None:
        return None
    heat = decide.Heat(
        t.ambient_c, t.r_c_per_w, t.tau_s, t.throttle_at_c, t.max_c, t.clock_floor, w.idle_w, w.busy_w
    )
    return heat if heat.can_throttle() else None
