"""Live re-planning of ``adaptive`` sessions: the thin Django side of ``edgeorch.planning.adaptive``.

``on_report`` runs when a ``stream_report`` is stored: at most every ``CHECK_EVERY_S`` it enqueues
``adapt_session`` (never on the per-frame path, never twice at once for one session). The task folds the
new frames' traces into the session's estimated conditions (``planning.adaptive.observe``), adds the latest
telemetry throttle of devices and the latest measured links the current plan does not exercise, and asks
``should_replan``; a re-plan runs the ``adaptive`` planner with the estimates as overrides, and
``should_switch`` (hysteresis) decides. A switch deploys the new placement (reusing a live deployment),
waits until it is ready, tells the source agent to route its next frames there (``stream_switch``) and
records a ``PlanSwitch``. While the plan keeps a link unused (e.g. all local), the source probes its links
every period, so a recovered link is noticed. Devices not yet used start from the calibration remembered from
recent sessions of the model (``remembered_calibrations``); a device whose profile's thermal model can
throttle it soon makes the decision a foresight over the next period (``_foresight``).
"""

from __future__ import annotations

import logging
import statistics
import time
import uuid

from celery import shared_task
from django.db import OperationalError, transaction
from edgeorch_agent import protocol as p

from edgeorch import planning
from edgeorch.planning import adaptive as decide

from .choices import DeploymentState, RunState
from .models import Deployment, Frame, PlanSwitch, Session

log = logging.getLogger(__name__)

CHECK_EVERY_S = 0.5
BUSY_FOR_S = 60.0  # a task that died holding the session is forgotten after this
READY_WAIT_S = 60.0
PROBE_BYTES = 64 * 1024
RESIDUALS = 9  # the cost model's latest misses on the placement in force, for its predicted latency
SETTLE_FRAMES = 3  # frames after a (re)deployment not judged: in flight on the old route, or warming up
POLICY = decide.Policy()


def on_report(session_id) -> None:
    """Cheap check on the report path: enqueue a re-planning look at most every ``CHECK_EVERY_S``."""
    now = time.time()
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .filter(pk=session_id, strategy="adaptive", state=RunState.RUNNING)
            .only("pk", "adaptation")
            .first()
        )
        if session is None:
            return
        state = session.adaptation
        if state.get("busy_until", 0) > now or now - state.get("checked", 0) < CHECK_EVERY_S:
            return
        session.adaptation = {**state, "checked": now, "busy_until": now + BUSY_FOR_S}
        session.save(update_fields=["adaptation"])
        adapt_session.delay_on_commit(str(session_id))


@shared_task(
    name="jobs.adapt_session",
    ignore_result=True,
    autoretry_for=(ConnectionError, OperationalError),
    max_retries=2,
)
def adapt_session(session_id: str) -> None:
    try:
        adapt(session_id)
    finally:
        _release(session_id)


def _release(session_id) -> None:
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",)).filter(pk=session_id).only("adaptation").first()
        )
        if session is not None:
            session.adaptation = {**session.adaptation, "busy_until": 0}
            session.save(update_fields=["adaptation"])


# --- conditions ------------------------------------------------------------------------------------


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


def current_conditions(session, state: dict) -> decide.Conditions:
    """Frame-trace estimates for what the plan exercises, telemetry and link samples for the rest."""
    from edgeorch.plans import services as plans

    plan, source = session.plan, str(session.source_id)
    prior = to_conditions(state["estimate"]) if "estimate" in state else planned_conditions(plan)
    frames = list(
        Frame.objects.filter(session=session, request_id__gt=state.get("last_frame", -1))
        .order_by("request_id")
        .values("request_id", "ok", "latency_s", "trace")
    )
    route = [s["device"] for s in plan["stages"]]
    # The first frames on a deployment are warm-up (a fresh onnxruntime session runs its first inference
    # several times slower), and right after a switch some still ran on the old route: neither says anything
    # about the conditions.
    warm = state.get("warm_from", SETTLE_FRAMES)
    mine = [f for f in frames if f["request_id"] >= warm and [e.get("device") for e in f["trace"]] == route]
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
    from edgeorch.devices.models import Device

    devices = list(Device.objects.filter(pk__in=[d["id"] for d in plan.get("devices") or []]))
    for (a, b), sample in plans.latest_links(devices).items():
        key = decide.pair(a, b)
        if key not in used_links and sample.measured_at.timestamp() > state.get("planned_at", 0):
            bandwidth[key] = sample.bandwidth_bps / 8.0
    # A device's factor folds its thermal throttle into a calibration of its profile (measured / profiled);
    # while no frame runs there, its last calibration (or the one remembered from recent sessions) times its
    # current throttle stands in for it.
    slowdown, calibration = dict(estimate.slowdown), state.setdefault("calibration", {})
    if "remembered" not in state:
        state["remembered"] = remembered_calibrations(session, devices)
    for device in devices:
        key, throttle = str(device.pk), plans.current_throttle(device)
        if key in used_devices and key in slowdown:
            calibration[key] = slowdown[key] / throttle
        else:
            slowdown[key] = calibration.get(key, state["remembered"].get(key, 1.0)) * throttle
    return decide.Conditions(bandwidth, slowdown, estimate.recent)


REMEMBER_SESSIONS = 8  # recent sessions of the same model a device's calibration is remembered from
REMEMBER_FRAMES = 40  # ... their latest frames each


def remembered_calibrations(session, devices: list) -> dict[str, float]:
    """Per device, the median over recent sessions' frames of this model of its measured compute / the
    plan's profiled compute at full speed / the throttle it reported then. The profile's bias (e.g. block
    times measured while the host was busier) belongs to the device and the model, not to one session, so a
    device this session has not run on yet is still compared calibrated. Compute only: the wait behind
    background tenants is a condition of that session, not a calibration."""
    wanted, ratios = {str(d.pk) for d in devices}, {}
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
        for device, values in _calibration_samples(run, wanted).items():
            ratios.setdefault(device, []).extend(values)
    return {d: statistics.median(v) for d, v in ratios.items() if len(v) >= 5}


def _calibration_samples(run, wanted: set[str]) -> dict[str, list[float]]:
    from edgeorch.telemetry.models import TelemetryRecord

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
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


def planning_input_bytes(session) -> float:
    from edgeorch.plans import services as plans

    return plans.planning_model(session.model).input_bytes


def candidates(session) -> list:
    from edgeorch.devices.models import Device

    devices = Device.objects.exclude(status="revoked")
    if session.candidates:
        devices = devices.filter(pk__in=session.candidates)
    return list(devices)


def problem_under(session, devices: list, c: decide.Conditions):
    """The planner's problem with the estimated conditions in place (links as overrides, factors applied:
    they may be below 1.0, a calibration, which what-if overrides do not allow)."""
    from edgeorch.plans import services as plans

    links = [{"a": a, "b": b, "bandwidth_bps": bw * 8.0} for (a, b), bw in c.bandwidth.items()]
    assembly = plans.assemble(session.model, devices, session.source, overrides={"links": links},
                              deadline=session.deadline_s)  # fmt: skip
    return assembly, decide.apply(assembly.problem, c)


def plan_under(session, assembly, problem, c: decide.Conditions, stages=None) -> dict:
    """``make_plan``'s dict for the ``adaptive`` plan of ``problem`` (or for the placement ``stages``)."""
    out = (
        planning.plan(problem, "adaptive") if stages is None else decide.plan_of(problem, stages)
    ).to_dict()
    out["notes"] = [*out["notes"], "re-planned from live estimates (adaptive)"]
    out.update(model={"id": session.model.pk, "name": session.model.name, "version": session.model.version})
    devices = [{**d, "throttle": c.slowdown.get(d["id"], d.get("throttle", 1.0))} for d in assembly.devices]
    out.update(devices=devices, links=assembly.links)
    return out


def initial_plan(session, devices: list) -> dict:
    """The plan an adaptive session starts on: the planner's, with every device calibrated as recent sessions
    of this model measured it and, where a device can throttle, judged over the next period as it heats —
    as its first re-plan would judge it, so that it does not spend that long on a plan it is about to leave."""
    from edgeorch.plans import services as plans

    first = plans.make_plan(session.model, devices, session.source, "adaptive", deadline=session.deadline_s)
    conditions = planned_conditions(first)
    remembered = remembered_calibrations(session, devices)
    slowdown = {d: f * remembered.get(d, 1.0) for d, f in conditions.slowdown.items()}
    conditions = decide.Conditions(conditions.bandwidth, slowdown)
    assembly, problem = problem_under(session, devices, conditions)
    plan = plan_under(session, assembly, problem, conditions)
    foresight = _foresight(session, problem, decide.placement(plan), _heated(session))
    if foresight is not None:
        (_, stages), _ = foresight
        plan = plan_under(session, assembly, problem, conditions, stages)
    plan["notes"] = [*first["notes"], "calibrated from recent sessions of this model (adaptive)"]
    return plan


# --- the decision ----------------------------------------------------------------------------------


def adapt(session_id) -> PlanSwitch | None:
    """Look at a running adaptive session once: update its estimates, maybe re-plan and switch."""
    session = Session.objects.select_related("model", "source").filter(pk=session_id).first()
    if session is None or session.state != RunState.RUNNING or not session.plan:
        return None
    state = dict(session.adaptation)
    now = time.time()
    state.setdefault("planned_at", session.started_at.timestamp() if session.started_at else now)
    state.setdefault("initial_predicted", session.predicted_latency_s)
    state.setdefault("baseline", from_conditions(planned_conditions(session.plan)))
    current = current_conditions(session, state)
    devices = candidates(session)
    try:
        assembly, problem = problem_under(session, devices, current)
        old_s = decide.evaluate(problem, decide.placement(session.plan))
    except (planning.PlanningError, ValueError) as exc:
        log.warning("session %s: cannot evaluate its plan: %s", session.pk, exc)
        _save_state(session_id, state)
        return None
    # The current plan's latency as predicted now, from the next frame on (reports compare it to measured):
    # the cost model under the estimates, plus the median of its recent misses on this placement (what a
    # frame spends outside its trace: the emitter, the result's way back).
    state["model_s"] = old_s
    residual = statistics.median(state["residuals"]) if len(state.get("residuals", [])) >= 3 else 0.0
    predicted = max(old_s + residual, 0.5 * old_s)
    upcoming = [state.get("last_frame", -1) + 1, predicted]
    state["predictions"] = [*state.get("predictions", []), upcoming][-400:]
    baseline = to_conditions(state["baseline"])
    since = now - state["planned_at"]
    heated, heat = _heated(session), None
    if heated is not None:  # the device the foresight judges by, and its temperature when the plan in force
        key, temp = str(heated[0].pk), heated[2]  # was made (first seen at the session's first look)
        heat = (key, state.setdefault("planned_temp", {}).setdefault(key, temp), temp)
    verdict = decide.should_replan(baseline, current, since, POLICY, heat)
    switch = None
    if verdict.act:
        switch = replan(session, assembly, problem, current, old_s, verdict.reason, state, heated)
        state.update(planned_at=time.time(), baseline=from_conditions(current))
        if heat is not None:
            state["planned_temp"] = {heat[0]: heat[2]}
    elif now - state.get("probed_at", 0) >= POLICY.probe_s and _unused_links(session):
        state["probed_at"] = now
        _probe(session)
    _save_state(session_id, state)
    return switch


def _unused_links(session) -> bool:
    return not crossed(session.plan, str(session.source_id))


def _probe(session) -> None:
    from . import services

    try:
        # Peers only: re-planning reads peer links, and the control-plane uploads would delay the answer.
        services.probe_links(session.source, payload_bytes=PROBE_BYTES, control_plane=False)
    except services.SubmitError:
        pass


def _save_state(session_id, state: dict) -> None:
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",)).filter(pk=session_id).only("adaptation").first()
        )
        if session is not None:
            fresh = session.adaptation
            session.adaptation = {
                **state,
                "checked": fresh.get("checked", 0),
                "busy_until": fresh.get("busy_until", 0),
            }
            session.save(update_fields=["adaptation"])


def replan(
    session, assembly, problem, conditions, old_s: float, reason: str, state: dict, heated
) -> PlanSwitch | None:
    """Plan afresh under ``conditions``; switch when the hysteresis says so."""
    old, source = decide.placement(session.plan), str(session.source_id)
    try:
        new = plan_under(session, assembly, problem, conditions)
        now_s, new_s, note = old_s, new["latency"], ""
        foresight = _foresight(session, problem, old, heated)
        if foresight is not None:  # a device that heats: judge placements by how they will heat it
            (new_s, stages), now_s = foresight
            new = plan_under(session, assembly, problem, conditions, stages)
            note = f" (foreseen over {POLICY.period_s:g} s as the device heats)"
    except planning.PlanningError as exc:
        log.warning("re-planning session %s failed: %s", session.pk, exc)
        return None
    target = decide.placement(new)
    noise = conditions.spread(decide.involved(old, source) | decide.involved(target, source))
    left = state.get("left", {}).get(describe(new))
    back = left is not None and time.time() - left < POLICY.dwell_s
    verdict = decide.should_switch(now_s, new_s, old == target, POLICY, noise=noise, back=back)
    verdict = decide.Decision(verdict.act, verdict.reason + note)
    state.setdefault("log", []).append({"at": time.time(), "reason": reason, "verdict": verdict.reason})
    state["log"] = state["log"][-20:]
    if not verdict.act:
        return None
    record = switch(session, new, old_s, f"{reason}; {verdict.reason}")
    if record is not None:
        state["predictions"].append([record.after_frame + 1, new["latency"]])
        state["left"] = {**state.get("left", {}), record.old_plan: time.time()}
        state["warm_from"] = record.after_frame + 1 + SETTLE_FRAMES
        state.update(model_s=new["latency"], residuals=[])
        # Samples describe the placement they were measured under (a factor calibrates the blocks a device
        # ran, a bandwidth the bytes of that cut): the new placement's frames start their own, from the
        # conditions it was chosen under (a link it did not cross until now is at its latest probe, not at
        # the estimate of the last frame that crossed it, maybe long before).
        state["estimate"] = {**from_conditions(conditions), "recent": {}}
    return record


def _heated(session) -> tuple | None:
    """(device, its ``Heat``, its latest temperature) of the candidate device the thermal foresight judges
    by: of those whose profile's thermal model can throttle them, the one that would run hottest — None when
    there is none, or when it cannot throttle within the horizon however hard it works."""
    heats = [(d, h) for d in candidates(session) if (h := heat_of(d)) is not None]
    if not heats:
        return None
    device, heat = max(
        heats, key=lambda x: x[1].ambient_c + x[1].r_c_per_w * x[1].busy_w - x[1].throttle_at_c
    )
    from edgeorch.telemetry.services import latest_metric

    temp = latest_metric(device, "temp.emulated")
    if temp is None or heat.after(temp, 1.0, POLICY.period_s) <= heat.throttle_at_c:
        return None
    return device, heat, temp


def _foresight(session, problem, current, heated) -> tuple[tuple[float, tuple], float] | None:
    """((foreseen latency, placement) of the best placement, foreseen latency of ``current``) when a
    candidate device can throttle within the horizon (``heated``, from ``_heated``;
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
    from edgeorch_agent.profiles import ProfileError, list_profiles, load_profile

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


def describe(plan: dict) -> str:
    parts = [f"{s['device'][:8]}[{s['first_block']}-{s['last_block']}]" for s in plan["stages"]]
    return " -> ".join(parts)[:300]


def switch(session, new: dict, old_s: float, reason: str) -> PlanSwitch | None:
    """Deploy ``new`` (reusing a live deployment), wait for it, route the source's next frames there."""
    from . import agents, services

    try:
        deployment = services.ensure_deployment(session, new)
    except Exception as exc:  # a device went away meanwhile: keep the current plan
        log.warning("session %s: cannot deploy the new plan: %s", session.pk, exc)
        return None
    if not _wait_ready(deployment.pk):
        log.warning("session %s: deployment %s not ready in %.0f s", session.pk, deployment.pk, READY_WAIT_S)
        return None
    deployment.refresh_from_db()
    with transaction.atomic():
        row = Session.objects.select_for_update(of=("self",)).select_related("source").get(pk=session.pk)
        if row.state != RunState.RUNNING:
            return None
        device, entry = services.source_route(row, deployment)
        switch_id = uuid.uuid4().hex[:12]
        message = p.StreamSwitch(
            str(row.pk), str(deployment.pk), deployment.first_stage["stage"], switch_id, entry
        )
        last = (
            Frame.objects.filter(session=row)
            .order_by("-request_id")
            .values_list("request_id", flat=True)
            .first()
        )
        record = PlanSwitch.objects.create(
            session=row, after_frame=-1 if last is None else last, reason=reason[:2000],
            old_plan=describe(row.plan), new_plan=describe(new), old_deployment=row.deployment_id,
            new_deployment=deployment.pk, predicted_old_s=old_s, predicted_new_s=new["latency"],
        )  # fmt: skip
        row.plan, row.deployment, row.predicted_latency_s = new, deployment, new["latency"]
        row.save(update_fields=["plan", "deployment", "predicted_latency_s"])
        agents.send_on_commit(device, message)
    _publish(record)
    log.info("session %s switched plan: %s", session.pk, reason)
    return record


def _wait_ready(deployment_id) -> bool:
    deadline = time.monotonic() + READY_WAIT_S
    while time.monotonic() < deadline:
        state = Deployment.objects.filter(pk=deployment_id).values_list("state", flat=True).first()
        if state == DeploymentState.READY:
            return True
        if state != DeploymentState.DEPLOYING:
            return False
        time.sleep(0.05)
    return False


def _publish(record: PlanSwitch) -> None:
    try:
        from edgeorch.events import publish
    except ImportError:
        return
    publish("plan.switch", {"session": str(record.session_id), **record.to_dict()})
