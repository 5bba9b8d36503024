"""Live re-planning of ``adaptive`` sessions: the thin Django side of ``edgeorch.planning.adaptive``.

``on_report`` runs when a ``stream_report`` is stored: at most every ``CHECK_EVERY_S`` it enqueues
``adapt_session`` (never on the per-frame path, never twice at once for one session). The task folds the
new frames' traces into the session's estimated conditions (``planning.adaptive.observe``), adds the latest
telemetry throttle of devices and the latest measured links the current plan does not exercise, and asks
``should_replan``; a re-plan runs the ``adaptive`` planner with the estimates as overrides, and
``should_switch`` (hysteresis) decides. A switch deploys the new placement (reusing a live deployment),
waits until it is ready, tells the source agent to route its next frames there (``stream_switch``) and
records a ``PlanSwitch``. While the plan keeps a link unused (e.g. all local), the source probes its links
every period, so a recovered link is noticed.
"""

from __future__ import annotations

import logging
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
    return decide.Conditions(bandwidth, dict(data.get("slowdown") or {}))  # type: ignore[arg-type]


def from_conditions(c: decide.Conditions) -> dict:
    return {"bandwidth": {f"{a}|{b}": v for (a, b), v in c.bandwidth.items()}, "slowdown": dict(c.slowdown)}


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
    mine = [f for f in frames if [e.get("device") for e in f["trace"]] == route]
    rtt = {decide.pair(link["a"], link["b"]): link["rtt_ms"] / 1e3 for link in plan.get("links") or []}
    input_bytes = planning_input_bytes(session)
    estimate = decide.observe(
        prior, plan, mine, input_bytes=input_bytes, source=source, rtt=rtt, policy=POLICY
    )
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
    # while no frame runs there, its last calibration times its current throttle stands in for it.
    slowdown, calibration = dict(estimate.slowdown), state.setdefault("calibration", {})
    for device in devices:
        key, throttle = str(device.pk), plans.current_throttle(device)
        if key in used_devices and key in slowdown:
            calibration[key] = slowdown[key] / throttle
        else:
            slowdown[key] = calibration.get(key, 1.0) * throttle
    return decide.Conditions(bandwidth, slowdown)


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


def plan_under(session, assembly, problem, c: decide.Conditions) -> dict:
    """``make_plan``'s dict for the ``adaptive`` plan of ``problem``."""
    out = planning.plan(problem, "adaptive").to_dict()
    out["notes"] = [*out["notes"], "re-planned from live estimates (adaptive)"]
    out.update(model={"id": session.model.pk, "name": session.model.name, "version": session.model.version})
    devices = [{**d, "throttle": c.slowdown.get(d["id"], d.get("throttle", 1.0))} for d in assembly.devices]
    out.update(devices=devices, links=assembly.links)
    return out


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
    # The current plan's latency as predicted now, from the next frame on (reports compare it to measured).
    state["predictions"] = [*state.get("predictions", []), [state.get("last_frame", -1) + 1, old_s]][-400:]
    baseline = to_conditions(state["baseline"])
    since = now - state["planned_at"]
    verdict = decide.should_replan(baseline, current, since, POLICY)
    switch = None
    if verdict.act:
        switch = replan(session, assembly, problem, current, old_s, verdict.reason, state)
        state.update(planned_at=time.time(), baseline=from_conditions(current))
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
        services.probe_links(session.source, payload_bytes=PROBE_BYTES)
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
    session, assembly, problem, conditions, old_s: float, reason: str, state: dict
) -> PlanSwitch | None:
    """Plan afresh under ``conditions``; switch when the hysteresis says so."""
    try:
        new = plan_under(session, assembly, problem, conditions)
    except planning.PlanningError as exc:
        log.warning("re-planning session %s failed: %s", session.pk, exc)
        return None
    same = decide.placement(new) == decide.placement(session.plan)
    verdict = decide.should_switch(old_s, new["latency"], same, POLICY)
    state.setdefault("log", []).append({"at": time.time(), "reason": reason, "verdict": verdict.reason})
    state["log"] = state["log"][-20:]
    if not verdict.act:
        return None
    record = switch(session, new, old_s, f"{reason}; {verdict.reason}")
    if record is not None:
        state["predictions"].append([record.after_frame + 1, new["latency"]])
    return record


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
        from edgeorch.dashboard.events import publish
    except ImportError:
        return
    publish("plan.switch", {"session": str(record.session_id), **record.to_dict()})
