"""Warm failover's standbys (``Session.failover == "warm"``): for each device a running session's deployment
uses (other than its source, whose loss no failover survives), the plan over the devices left without it,
deployed ahead of time and kept loaded, so that losing that device costs a switch, not a plan and a deploy.

Verbs: ``prepare`` (the ``jobs.prepare_standbys`` task: once the session runs, and again after each failover,
since the devices in use have changed), ``for_loss`` (the standby that takes over from a lost device, if it is
still loaded on devices that are all online). A standby costs memory on its devices: its blocks' parameter
bytes, recorded per device with it (``memory_bytes``) and shown with the session.
"""

from __future__ import annotations

import logging
import time

from edgeorch.devices.models import Device
from edgeorch.plans import services as plans

from ..choices import DeploymentState, Failover, RunState
from ..models import Deployment, Session
from .deployments import ensure_deployment

log = logging.getLogger(__name__)

RUNNING_WAIT_S = 60.0  # how long ``prepare`` waits for a just-dispatched session to be running
PINNED = {"split", "offload"}  # strategies that name their devices: the planner's own choice replaces them


def plan_without(session, lost_id: str, source=None) -> dict:
    """The session's plan over the online devices it may use, without ``lost_id``, from ``source`` (default:
    its own; raises the planner's errors when there is none)."""
    source = source or session.source
    devices = [d for d in Device.objects.filter(status="online") if str(d.pk) != str(lost_id)]
    if session.candidates:
        devices = [d for d in devices if str(d.pk) in session.candidates or d.pk == source.pk]
    # A pinned strategy's parameters name the devices it pinned; the objective holds for any strategy.
    pinned = session.strategy in PINNED
    strategy = "multi-device" if pinned else session.strategy
    params = dict(session.params or {})
    if pinned:
        params = {k: v for k, v in params.items() if k == "objective"}
    deadline = session.deadline_s

    def plan_for(model) -> dict:
        return plans.make_plan(model, devices, source, strategy, deadline=deadline, params=params)

    plan = plan_for(session.model)
    if deadline is None or plan["latency"] <= deadline:
        return plan
    return fallback(session.model, plan, deadline, plan_for)


def fallback(model, full: dict, deadline: float, plan_for) -> dict:
    """Progressive failover: when ``full`` (the model's plan over what is left) misses the deadline, the plan
    of the most accurate variant of the model (``MLModel.variants``, same inputs) that meets it, else of the
    fastest variant if that is faster than ``full``, else ``full``. The chosen plan's ``fallback`` says which
    model answers and what accuracy it costs (null where either accuracy is unknown)."""
    chosen, fastest = None, None
    variants = [v for v in model.variants.all() if v.inputs == model.inputs]
    for variant in sorted(variants, key=lambda v: -(v.accuracy or 0.0)):
        try:
            plan = plan_for(variant)
        except Exception as exc:  # this variant has no plan over these devices: try the next
            log.info("fallback %s: no plan: %s", variant, exc)
            continue
        if plan["latency"] <= deadline:
            chosen = (variant, plan)
            break
        if fastest is None or plan["latency"] < fastest[1]["latency"]:
            fastest = (variant, plan)
    if chosen is None and fastest is not None and fastest[1]["latency"] < full["latency"]:
        chosen = fastest
    if chosen is None:
        return full
    variant, plan = chosen
    cost = None
    if model.accuracy is not None and variant.accuracy is not None:
        cost = round(model.accuracy - variant.accuracy, 4)
    plan["fallback"] = {
        "of": {"id": model.pk, "name": model.name, "version": model.version},
        "model": plan["model"],
        "variant": variant.variant,
        "accuracy": variant.accuracy,
        "accuracy_cost": cost,
        "full_latency": full["latency"],
    }
    plan["notes"] = [
        *plan["notes"],
        f"fallback: {model.name} needs {full['latency'] * 1e3:.1f} ms here, over the "
        f"{deadline * 1e3:.0f} ms deadline; {variant.name} ({variant.variant or 'variant'}) answers"
        + (f" at {cost * 100:.1f} points less accuracy" if cost is not None else ""),
    ]
    return plan


def prepare(session_id) -> dict:
    """Deploy a standby for each non-source device of the session's current deployment; returns (and
    stores) ``Session.standbys``. A device with no plan without it gets none (its loss fails over cold)."""
    deadline = time.monotonic() + RUNNING_WAIT_S
    while True:
        session = (
            Session.objects.select_related("model", "source", "deployment").filter(pk=session_id).first()
        )
        if session is None or session.failover != Failover.WARM or session.terminal:
            return {}
        if session.state == RunState.RUNNING and session.deployment is not None:
            break
        if time.monotonic() > deadline:
            return {}
        time.sleep(0.1)
    standbys = {}
    for device_id in session.deployment.devices:
        if str(device_id) == str(session.source_id):
            continue
        try:
            plan = plan_without(session, device_id)
            deployment = ensure_deployment(session, plan)
        except Exception as exc:  # no plan or no deployment without it: its loss fails over cold
            log.warning("session %s: no warm standby for %s: %s", session.pk, device_id, exc)
            continue
        standbys[str(device_id)] = {
            "deployment": str(deployment.pk),
            "plan": plan,
            "memory_bytes": memory_bytes(session, plan),
        }
    Session.objects.filter(pk=session.pk).update(standbys=standbys)
    return standbys


def for_loss(session, lost_id: str) -> dict | None:
    """The standby plan taking over from ``lost_id``: prepared, still loaded (ready), on online devices."""
    standby = (session.standbys or {}).get(str(lost_id))
    if not standby:
        return None
    deployment = Deployment.objects.filter(pk=standby["deployment"]).first()
    if deployment is None or deployment.state != DeploymentState.READY:
        return None
    online = set(
        map(
            str,
            Device.objects.filter(pk__in=deployment.devices, status="online").values_list("pk", flat=True),
        )
    )
    return standby["plan"] if online == set(map(str, deployment.devices)) else None


def memory_bytes(session, plan: dict) -> dict[str, int]:
    """Parameter bytes of the blocks each device of ``plan`` holds (what its standby segments cost it)."""
    blocks = session.model.blocks
    use: dict[str, int] = {}
    for stage in plan.get("stages", []):
        first, last = stage.get("first_block"), stage.get("last_block")
        if first is None or last is None:
            continue
        size = sum(int(b.get("param_bytes") or 0) for b in blocks[first : last + 1])
        use[stage["device"]] = use.get(stage["device"], 0) + size
    return use
