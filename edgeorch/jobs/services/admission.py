"""Admission control (docs/qos.md, "Admission control"): is a new session's deadline within reach, at its
priority, given the fleet's load now?

A session that asks for it (``admission``) is planned as it would be dispatched, and its predicted latency
is the plan's (compute, transfers, the queueing telemetry shows) plus the work queued ahead of it at its
priority on each device of the plan: per device, the frames its stage queues hold in the session's class
and above (``qos.queued.<class>`` of the device's latest record with stage queues) times the stage's
predicted compute — work of a lower class waits behind it (EDF within priority), so it does not count.

Within the deadline: admitted as asked. Past it: the cheaper variants the operator allowed
(``fallback_variants``, variants of the session's model) are tried, the most accurate first, and the
session is admitted on the first whose prediction meets the deadline (``degraded_from`` says so). None:
refused (``AdmissionRefused``, HTTP 409) with the predicted latency, the deadline, and what was queued.
"""

from __future__ import annotations

from edgeorch_wire import qos

from edgeorch import planning
from edgeorch.plans import cache as plan_cache
from edgeorch.plans import services as plans
from edgeorch.plans.overrides import PlanInputError
from edgeorch.telemetry.services import latest_qos

from ..choices import SELF_PLANNING
from ..models import Session
from .deployments import planning_devices


class AdmissionRefused(ValueError):
    """A session admission control refused: its deadline is out of reach now; the message says why."""


def queued_ahead(device, priority: str) -> int:
    """Frames queued on ``device`` that a frame of class ``priority`` waits behind: its class and above, as
    its latest telemetry record with stage queues says (0: none reported lately, ``latest_qos``)."""
    metrics = latest_qos(device)
    if not metrics:
        return 0
    rank = qos.priority_rank(priority)
    return int(sum(float(metrics.get(f"qos.queued.{name}", 0.0)) for name in qos.PRIORITIES[rank:]))


def predict(session: Session, model) -> dict:
    """The session's predicted latency on ``model`` now: ``{model, predicted_s, plan_s, queued}`` (queued:
    device name -> frames ahead of it)."""
    rows = planning_devices(session)
    by_id = {str(d.pk): d for d in rows}
    try:
        plan = plan_cache.plans.plan(
            plans.make_plan,
            model,
            rows,
            session.source,
            session.strategy,
            deadline=session.deadline_s,
            params=dict(session.params),
        )
    except (planning.PlanningError, PlanInputError) as exc:
        raise AdmissionRefused(f"{model} cannot be planned on these devices: {exc}") from None
    wait, queued = 0.0, dict[str, int]()
    for stage in plan["stages"]:
        device = by_id.get(str(stage["device"]))
        if device is None:
            continue
        ahead = queued_ahead(device, session.priority)
        if ahead:
            queued[device.name] = queued.get(device.name, 0) + ahead
            wait += ahead * float(stage.get("compute") or 0.0)
    latency = float(plan["latency"])
    return {"model": model.pk, "predicted_s": latency + wait, "plan_s": latency, "queued": queued}


def admit(session: Session, fallbacks: list) -> dict:
    """Admission control's decision for an unsaved ``session`` with a deadline: its record
    (``Session.admission``), with ``session.model`` moved to the allowed variant it is admitted on; raises
    ``AdmissionRefused`` when neither its model nor any of ``fallbacks`` meets the deadline."""
    if session.strategy in SELF_PLANNING:
        raise AdmissionRefused(
            f"admission control predicts a fixed plan; strategy {session.strategy} learns its own (leave "
            "admission off)"
        )
    deadline = float(session.deadline_s or 0.0)
    asked = session.model
    tried = []
    ordered = sorted(fallbacks, key=lambda m: (-(m.accuracy or 0.0), m.pk))
    for model in [asked, *ordered]:
        guess = predict(session, model)
        tried.append((model, guess))
        if guess["predicted_s"] <= deadline:
            session.model = model
            decision = {"admitted": True, "deadline_s": deadline, **guess}
            if model != asked:
                decision.update(
                    degraded_from=asked.pk,
                    reason=f"{asked} would take {_ms(tried[0][1])} at priority {session.priority}, past "
                    f"the {deadline * 1e3:.0f} ms deadline: admitted on the allowed variant {model} "
                    f"({_ms(guess)})",
                )
            return decision
    said = "; ".join(f"{m} {_ms(g)}{_queued(g)}" for m, g in tried)
    raise AdmissionRefused(
        f"refused: no allowed configuration meets the {deadline * 1e3:.0f} ms deadline at priority "
        f"{session.priority} with the fleet's load now ({said})"
    )


def _ms(guess: dict) -> str:
    return f"{guess['predicted_s'] * 1e3:.0f} ms predicted"


def _queued(guess: dict) -> str:
    if not guess["queued"]:
        return ""
    return " with " + ", ".join(f"{n} frames queued ahead on {d}" for d, n in sorted(guess["queued"].items()))
