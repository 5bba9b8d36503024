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

An edge shared by two sessions or more that ask for more compute than it has (``budget.oversubscribed``:
rate x predicted compute per frame, summed, above its capacity) counts as saturated too, and a move is
taken only where the moved session's demand fits (``fits``). Sessions whose strategy plans for itself
(``adaptive``, ``ans``, ``qoe-bandit``) are not moved: they are left to it.

After the moves, every running session's budget is set again (``budget.assign``: the edges its source may
use and its share of each), and sent to its source where it changed.

A session starting or ending asks for a pass (``request_pass``) once its transaction commits; a pass already
asked for and not yet started answers for it, so a burst of users (32 starting within two seconds in
``bench_multiuser``) costs one pass or a few, not one each (48 passes of about 0.13 s each took the worker's
time from the dynamic sessions' tables there). A pass asked for while another runs waits for that one.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import transaction
from edgeorch_wire import qos

from edgeorch import planning
from edgeorch.celery import app
from edgeorch.devices.models import Device
from edgeorch.plans.overrides import PlanInputError
from edgeorch.telemetry.services import latest_qos

from ..choices import SELF_PLANNING, RunState
from ..models import PlanSwitch, Session
from . import budget, enqueue
from .adaptive import switch
from .standby import plan_without

log = logging.getLogger(__name__)

# Keys in the broker's Redis, which every process sees alike (the worker's dispatch and passes, Daphne's
# session ends, a second worker), per task queue (the control plane whose workers share it): a pass runs
# (the lock), a pass is asked for and has not started yet (the mark).
LOCK = "edgeorch:jobs.coordinator.lock:"
LOCK_S = 120  # a pass's lock outlives a worker that died holding it by this much
PENDING = "edgeorch:jobs.coordinator.pending:"
PENDING_S = 10  # how long that mark outlives a request whose task was lost (the beat's pass clears it too)
BUSY_RETRY_S = 0.5  # a requested pass that finds another running asks again this much later
_marks: list[redis.Redis] = []  # this process's client of the broker's Redis, made on first use


def marks() -> redis.Redis:
    """This process's client of the broker's Redis (where the pending mark and the lock live)."""
    if not _marks:
        _marks.append(redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5))
    return _marks[0]


def key(prefix: str) -> str:
    """``prefix`` for this control plane's task queue (``LOCK`` or ``PENDING``)."""
    return prefix + str(app.conf.task_default_queue)


def _mark(countdown: float | None = None) -> None:
    """Send a pass unless one is already asked for and not started (the mark set here if not); without
    Redis, send it anyway (the task then fails to queue as well, and says so)."""
    try:
        fresh = bool(marks().set(key(PENDING), 1, nx=True, ex=PENDING_S))
    except redis.RedisError as exc:
        log.warning("coordinator: the pending mark could not be read (%s); asking for a pass anyway", exc)
        fresh = True
    if fresh:
        enqueue.after_commit("jobs.coordinate", countdown=countdown)


def request_pass() -> None:
    """Ask for one coordinator pass (the task ``jobs.coordinate``) once the current transaction commits (at
    once outside one), unless a pass is already asked for and not yet started: that one reads the fleet
    after this change committed."""
    transaction.on_commit(_mark)


def requested_pass() -> list[PlanSwitch]:
    """The task's body: the request mark cleared (a change from now on asks for another pass), then one pass
    (``rebalance``); if another pass holds the lock, which may have read the fleet before the change that
    asked, one more is asked for ``BUSY_RETRY_S`` later."""
    try:
        marks().delete(key(PENDING))
    except redis.RedisError as exc:
        log.warning("coordinator: the pending mark could not be cleared: %s", exc)
    if not settings.COORDINATOR:
        return []
    moved = _locked_pass()
    if moved is None:
        _mark(countdown=BUSY_RETRY_S)
        return []
    return moved


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
    """One pass: from each saturated edge, one session moved off it, then every running session's budget
    set (``budget.assign``); returns the switches made (none, and no budget, where
    ``EDGEORCH_COORDINATOR=false``)."""
    if not settings.COORDINATOR:
        return []
    return _locked_pass() or []


def _locked_pass() -> list[PlanSwitch] | None:
    """One pass under the lock (one at a time across workers); None when another pass holds it."""
    if not marks().set(key(LOCK), 1, nx=True, ex=LOCK_S):
        return None
    try:
        moved = _rebalance()
        budget.assign(lambda device: saturated(load_of(device)))
        return moved
    finally:
        marks().delete(key(LOCK))


def fits(plan: dict, user: budget.User, source: str, asked: dict, capacity: dict) -> bool:
    """Whether ``user``, moved onto ``plan``, leaves every device of it other than its ``source`` within its
    capacity: the demands already there plus the user's (its rate x the plan's compute there)."""
    on: dict[str, float] = {}
    for stage in plan.get("stages") or []:
        device = str(stage["device"])
        on[device] = on.get(device, 0.0) + float(stage.get("compute") or 0.0)
    for device, seconds in on.items():
        if device == source:
            continue
        others = sum(v for k, v in asked.get(device, {}).items() if k != user.session_id)
        if others + user.rate * seconds / max(capacity.get(device, 1.0), budget.EPS) > 1.0 + 1e-9:
            return False
    return True


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
    # an edge whose sessions ask for more than it has is saturated too (budget.oversubscribed)
    _, fleet_users, _, capacity = budget.fleet()
    asked = budget.demands(fleet_users, full, capacity)
    over = {pk: v for pk, v in budget.oversubscribed(fleet_users, full, capacity).items() if pk in users}
    by_id = {u.session_id: u for u in fleet_users}
    moved: list[PlanSwitch] = []
    for edge_id in sorted(full | set(over), key=lambda pk: (-loads[pk].get("queued", 0.0), -over.get(pk, 0))):
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
        mover = by_id.get(str(user.pk))
        if mover is not None and not fits(plan, mover, str(user.source_id), asked, capacity):
            continue  # it would over-subscribe the devices it moves onto
        load = loads[edge_id]
        why = []
        if edge_id in full:
            why.append(
                f"{load['queued']:.0f} frames queued"
                + (f", least slack {load['slack_s'] * 1e3:.0f} ms" if load.get("slack_s") is not None else "")
            )
        if edge_id in over:
            why.append(f"its sessions ask {over[edge_id]:.0%} of its compute")
        reason = (
            f"coordinator: {edges[edge_id].name} is saturated ({'; '.join(why)}); "
            f"{user.priority} session moved off it"
        )
        record = switch(user, plan, user.predicted_latency_s or 0.0, reason)
        if record is not None:
            moved.append(record)
    return moved
