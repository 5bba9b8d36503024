"""The global coordinator (docs/qos.md, "The coordinator"): users moved off a saturated edge, live.

Each agent's controller admits and schedules its own work in real time (EDF stage queues, early drops,
dynamic configurations); the control plane is off that path. The coordinator looks at the fleet as a whole,
from the telemetry the agents send (``qos.queued``, ``qos.slack_s``), every ``COORDINATOR_INTERVAL_S`` (the
beat task ``jobs.coordinate``) and when a session starts or ends: an edge is *saturated* when its stage queues
hold ``COORDINATOR_SATURATED_QUEUED`` frames or more, or its least slack is negative (queued work that can no
longer meet its deadline). From each saturated edge it moves one running session — the lowest priority
class, then the newest — onto a plan without that edge (``standby.plan_without``: the devices it may use,
left), through the same live re-plan the ``adaptive`` strategy and failover use (``adaptive.switch``: the new
plan deployed, then the source's next frames routed there by ``stream_switch``; frames in flight finish where
they are; a ``PlanSwitch`` records why). No stream stops. A plan that would land on another saturated edge is
not taken; the session stays.

Sessions whose strategy plans for itself (``adaptive``, ``ans``, ``qoe-bandit``) are left to it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from edgeorch_wire import qos

from edgeorch import planning
from edgeorch.devices.models import Device
from edgeorch.plans.overrides import PlanInputError
from edgeorch.telemetry.services import latest_qos

from ..choices import SELF_PLANNING, RunState
from ..models import PlanSwitch, Session
from .adaptive import switch
from .standby import plan_without

log = logging.getLogger(__name__)

LOCK = "jobs.coordinator.lock"


def load_of(device) -> dict:
    """The device's stage queues as its latest record with them says: ``{queued, slack_s}`` (empty: none, or
    only stale: ``telemetry.services.latest_qos``)."""
    metrics = latest_qos(device)
    if not metrics:
        return {}
    return {"queued": float(metrics["qos.queued"]), "slack_s": metrics.get("qos.slack_s")}


def saturated(load: dict) -> bool:
    if not load:
        return False
    slack = load.get("slack_s")
    return load["queued"] >= settings.COORDINATOR_SATURATED_QUEUED or (
        isinstance(slack, int | float) and slack < 0
    )


def rebalance() -> list[PlanSwitch]:
    """One pass: from each saturated edge, one session moved off it; returns the switches made (none where
    ``EDGEORCH_COORDINATOR=false``)."""
    if not settings.COORDINATOR or not cache.add(LOCK, 1, timeout=120):  # one pass at a time across workers
        return []
    try:
        return _rebalance()
    finally:
        cache.delete(LOCK)


def _rebalance() -> list[PlanSwitch]:
    running = (
        Session.objects.filter(state=RunState.RUNNING, deployment__isnull=False)
        .exclude(strategy__in=SELF_PLANNING)
        .select_related("model", "source", "deployment")
    )
    users: dict[str, list[Session]] = {}
    for session in running:
        for device_id in session.deployment.devices if session.deployment is not None else ():
            if str(device_id) != str(session.source_id):
                users.setdefault(str(device_id), []).append(session)
    if not users:
        return []
    edges = {str(d.pk): d for d in Device.objects.filter(pk__in=list(users))}
    loads = {pk: load_of(device) for pk, device in edges.items()}
    full = {pk for pk, load in loads.items() if saturated(load)}
    moved: list[PlanSwitch] = []
    for edge_id in sorted(full, key=lambda pk: -loads[pk]["queued"]):
        mine = [s for s in users[edge_id] if all(s.pk != m.session_id for m in moved)]
        if not mine:
            continue
        user = min(mine, key=lambda s: (qos.priority_rank(s.priority), -s.created_at.timestamp()))
        try:
            plan = plan_without(user, edge_id)
        except (planning.PlanningError, PlanInputError) as exc:
            log.info("coordinator: session %s has no plan without %s: %s", user.pk, edges[edge_id], exc)
            continue
        onto = {str(stage["device"]) for stage in plan["stages"]}
        for pk in onto - set(loads):  # devices no session shares yet: the source's own, an idle edge
            device = Device.objects.filter(pk=pk).first()
            loads[pk] = load_of(device) if device is not None else {}
        if any(saturated(loads[pk]) for pk in onto):
            continue  # it would only move onto another saturated device
        load = loads[edge_id]
        reason = (
            f"coordinator: {edges[edge_id].name} is saturated ({load['queued']:.0f} frames queued"
            + (f", least slack {load['slack_s'] * 1e3:.0f} ms" if load.get("slack_s") is not None else "")
            + f"); {user.priority} session moved off it"
        )
        record = switch(user, plan, user.predicted_latency_s or 0.0, reason)
        if record is not None:
            moved.append(record)
    return moved
