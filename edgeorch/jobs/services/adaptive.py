"""Live re-planning of ``adaptive`` sessions: the thin Django side of ``edgeorch.planning.adaptive``.
Verbs: ``on_report``, ``adapt`` (and ``release``, the Celery task ``jobs.adapt_session``'s), ``initial_plan``,
``replan``, ``switch``.

``on_report`` runs when a ``stream_report`` is stored: at most every ``CHECK_EVERY_S`` it enqueues
``jobs.adapt_session`` (never on the per-frame path, never twice at once for one session). The task folds the
new frames' traces into the session's estimated conditions (``jobs.conditions``), adds the latest telemetry
throttle of devices and the latest measured links the current plan does not exercise, and asks
``should_replan``; a re-plan runs the ``adaptive`` planner with the estimates as overrides, and
``should_switch`` (hysteresis) decides. A switch deploys the new placement (reusing a live deployment),
waits until it is ready, tells the source agent to route its next frames there (``stream_switch``) and
records a ``PlanSwitch``. Planning and switching go by the session's objective (``conditions.objective_of``:
its own, or energy while its source's battery is below ``battery_below``; a change of objective re-plans at
once). While the plan keeps a link unused (e.g. all local), the source probes its links
every period, so a recovered link is noticed. Devices not yet used start from the calibration remembered from
recent sessions of the model; a device whose profile's thermal model can throttle it soon makes the decision
a foresight over the next period.
"""

from __future__ import annotations

import logging
import statistics
import time
import uuid

from django.db import transaction
from edgeorch_wire import protocol as p

from edgeorch import events as dashboard
from edgeorch import planning
from edgeorch.planning import adaptive as decide
from edgeorch.plans import services as plans

from .. import agents
from ..choices import DeploymentState, RunState
from ..conditions import (
    POLICY,
    SETTLE_FRAMES,
    candidates,
    crossed,
    current_conditions,
    from_conditions,
    heating_device,
    objective_of,
    plan_under,
    planned_conditions,
    problem_under,
    remembered_calibrations,
    thermal_foresight,
    to_conditions,
)
from ..models import Deployment, Frame, PlanSwitch, Session
from . import enqueue
from .commands import ans_spec, source_route
from .deployments import ensure_deployment
from .measurements import probe_links
from .submit import SubmitError

log = logging.getLogger(__name__)

CHECK_EVERY_S = 0.5
BUSY_FOR_S = 60.0  # a task that died holding the session is forgotten after this
READY_WAIT_S = 60.0
PROBE_BYTES = 64 * 1024


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
        enqueue.after_commit("jobs.adapt_session", str(session_id))


def release(session_id) -> None:
    """The session's look is over (whatever its outcome): ``on_report`` may enqueue the next."""
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",)).filter(pk=session_id).only("adaptation").first()
        )
        if session is not None:
            session.adaptation = {**session.adaptation, "busy_until": 0}
            session.save(update_fields=["adaptation"])


def initial_plan(session, devices: list) -> dict:
    """The plan an adaptive session starts on: the planner's, with every device calibrated as recent sessions
    of this model measured it and, where a device can throttle, judged over the next period as it heats —
    as its first re-plan would judge it, so that it does not spend that long on a plan it is about to
    leave."""
    objective, _ = objective_of(session, dict(session.adaptation))
    first = plans.make_plan(
        session.model,
        devices,
        session.source,
        "adaptive",
        deadline=session.deadline_s,
        params={"objective": objective},
    )
    conditions = planned_conditions(first)
    # Per span of blocks measured, not per device: a profile's bias measured on the blocks one placement ran
    # there (say a camera's first 16) does not hold for the device's other blocks.
    remembered = remembered_calibrations(session, devices)
    assembly, problem = problem_under(session, devices, conditions, remembered)
    plan = plan_under(session, assembly, problem, conditions, objective=objective)
    heated = heating_device(session) if objective == "latency" else None  # the foresight judges latency
    foresight = thermal_foresight(session, problem, decide.placement(plan), heated)
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
        assembly, problem = problem_under(session, devices, current, state.get("remembered") or ())
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
    heated, heat = heating_device(session), None
    if heated is not None:  # the device the foresight judges by, and its temperature when the plan in force
        key, temp = str(heated[0].pk), heated[2]  # was made (first seen at the session's first look)
        heat = (key, state.setdefault("planned_temp", {}).setdefault(key, temp), temp)
    verdict = decide.should_replan(baseline, current, since, POLICY, heat)
    objective, changed = objective_of(session, state)
    if changed:  # the low-battery policy moved: re-plan now, whatever the cooldown
        verdict = decide.Decision(True, changed)
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
    try:
        # Peers only: re-planning reads peer links, and the control-plane uploads would delay the answer.
        probe_links(session.source, payload_bytes=PROBE_BYTES, control_plane=False)
    except SubmitError:
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
    objective = state.get("objective", "latency")
    heated = heated if objective == "latency" else None  # the foresight judges latency
    try:
        new = plan_under(session, assembly, problem, conditions, objective=objective)
        now_s, new_s, note = old_s, new["latency"], ""
        foresight = thermal_foresight(session, problem, old, heated)
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
    if objective == "latency":
        verdict = decide.should_switch(now_s, new_s, old == target, POLICY, noise=noise, back=back)
    else:  # by the source's joules (and the deadline first, under energy_under_deadline)
        now, then = decide.estimate(problem, old), (new_s, (new.get("energy") or {}).get("total"))
        verdict = decide.judge(
            objective, session.deadline_s, now, then, old == target, POLICY, noise=noise, back=back
        )
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


def describe(plan: dict) -> str:
    """``device[first-last] -> ...``, prefixed with the model where the plan falls back to a variant."""
    parts = [f"{s['device'][:8]}[{s['first_block']}-{s['last_block']}]" for s in plan.get("stages", [])]
    text = " -> ".join(parts)
    if plan.get("fallback") or plan.get("variant"):
        text = f"{plan['model']['name']}: {text}"
    return text[:300]


def switch(session, new: dict, old_s: float, reason: str, failover: bool = False) -> PlanSwitch | None:
    """Deploy ``new`` (reusing a live deployment), wait for it, route the source's next frames there (with
    ``failover``, also the frames cut off on the old route: ``failover.fail_over``; for a deployment of
    ``ans`` arms, the source learns among the new arms: ``StreamSwitch.ans``; a ``dynamic`` session's
    configuration table is rebuilt from the new plan and sent again: ``dynamic.prepare``)."""
    try:
        deployment = ensure_deployment(session, new)
    except Exception as exc:  # a device went away meanwhile: keep the current plan
        log.warning("session %s: cannot deploy the new plan: %s", session.pk, exc)
        return None
    if not wait_ready(deployment.pk):
        log.warning("session %s: deployment %s not ready in %.0f s", session.pk, deployment.pk, READY_WAIT_S)
        return None
    deployment.refresh_from_db()
    with transaction.atomic():
        row = Session.objects.select_for_update(of=("self",)).select_related("source").get(pk=session.pk)
        if row.state != RunState.RUNNING:
            return None
        device, entry = source_route(row, deployment)
        switch_id = uuid.uuid4().hex[:12]
        before, row.plan = row.plan, new  # ans arms: their predicted front ends are the new plan's
        arms = ans_spec(row, deployment) if deployment.arms and device == row.source else None
        message = p.StreamSwitch(
            str(row.pk), str(deployment.pk), deployment.first_stage["stage"], switch_id, entry, failover, arms
        )
        last = (
            Frame.objects.filter(session=row)
            .order_by("-request_id")
            .values_list("request_id", flat=True)
            .first()
        )
        record = PlanSwitch.objects.create(
            session=row,
            after_frame=-1 if last is None else last,
            reason=reason[:2000],
            old_plan=describe(before or {}),
            new_plan=describe(new),
            old_deployment=row.deployment_id,
            new_deployment=deployment.pk,
            predicted_old_s=old_s,
            predicted_new_s=new["latency"],
        )
        row.plan, row.deployment, row.predicted_latency_s = new, deployment, new["latency"]
        row.save(update_fields=["plan", "deployment", "predicted_latency_s"])
        agents.send_on_commit(device, message)
        if (row.adaptation or {}).get("dynamic"):  # its table is rebuilt on the new route and sent again
            enqueue.after_commit("jobs.prepare_dynamic", str(row.pk))
    dashboard.publish("plan.switch", {"session": str(record.session_id), **record.to_dict()})
    log.info("session %s switched plan: %s", session.pk, reason)
    return record


def wait_ready(deployment_id) -> bool:
    deadline = time.monotonic() + READY_WAIT_S
    while time.monotonic() < deadline:
        state = Deployment.objects.filter(pk=deployment_id).values_list("state", flat=True).first()
        if state == DeploymentState.READY:
            return True
        if state != DeploymentState.DEPLOYING:
            return False
        time.sleep(0.05)
    return False
