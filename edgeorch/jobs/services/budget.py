"""Budgets (docs/qos.md, "Budgets"): the coordinator sets, per running session, the edges its source may send
frames to and its share of each, from the fleet's load; the source's controller keeps to it per frame.

The rule (``shares``, pure, so tests check it on its own):

1. **Which edges.** A session's edges are the devices other than its source that its routes use: its plan's,
   and for a dynamic session its configurations'. An edge that is saturated (the coordinator's reading of
   its stage queues) is taken out of the budget of each session that has somewhere else to go: another of
   its edges that is not saturated, or its own device (a dynamic configuration or an ``ans`` arm that runs
   there). A session with nowhere else keeps it.
2. **What share.** Each edge's compute (``capacity``: 1 for an emulated device, one turn at a time; its
   logical cores for a real one) is split among the sessions allowed on it by weighted max-min fairness:
   a session asks ``rate`` x its predicted compute per frame there (its demand, as a fraction of the edge),
   the weights are ``WEIGHTS`` by priority class (low 1, normal 2, high 4, critical 8), every share rises
   with its weight until its demand is met or the edge is shared out, and what is left once every demand is
   met is split by weight too. The shares of an edge sum to at most 1.
3. **What rate.** A share buys ``share x capacity / compute`` frames per second (no limit where its compute
   there is not predicted), which the source's token bucket for that edge keeps to.

A frame's compute on an edge is what the edge measured for the session's latest answered frames
(``measured_compute``: the median over ``MEASURED_FRAMES``, from their traces) once it has answered any,
the plan's prediction before, which shares the edge (its demand) but sets no rate: a prediction can be far
off (``bench_multiuser``'s emulated slow edge: about 0.2 s predicted per digits-CNN frame, 0.03 s measured),
and a budget priced on it starves the sources: there, at 8 users, budgets that bought one frame a second
dropped 33% of the high class's frames at the source under edgeorch's scheduler (58% under
always-full-model).

An edge shared by two sessions or more that ask for more than it has (the demands sum above 1) is
*over-subscribed*: the coordinator treats it as saturated when it chooses whom to move (``coordinator``).
"""

from __future__ import annotations

import logging
import math
import statistics
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from edgeorch_wire import protocol as p
from edgeorch_wire import qos

from edgeorch import events as dashboard
from edgeorch.devices.models import Device

from .. import agents
from ..choices import RunState
from ..models import BudgetChange, Deployment, Frame, Session

log = logging.getLogger(__name__)

WEIGHTS = {
    rank: float(2**rank) for rank in range(qos.MAX_PRIORITY + 1)
}  # low 1, normal 2, high 4, critical 8
EPS = 1e-12


@dataclass(frozen=True)
class User:
    """A session as the rule sees it: its class, the frames/s it asks for, per edge it may use the predicted
    compute of one frame there, and whether it can serve a frame on its own device."""

    session_id: str
    priority: int
    rate: float
    compute_s: Mapping[str, float] = field(default_factory=dict)
    local: bool = False
    unmeasured: frozenset[str] = frozenset()  # edges whose compute is only the plan's prediction: no rate


def allowed_edges(user: User, saturated: set[str]) -> set[str]:
    """The edges ``user`` may use: its own, less the saturated ones if it has somewhere else to go."""
    edges = set(user.compute_s)
    free = edges - saturated
    return free if (free or user.local) else edges


def demands(users: Iterable[User], saturated: set[str], capacity: Mapping[str, float]) -> dict[str, dict]:
    """Per edge, per session allowed on it: its demand as a fraction of the edge's compute."""
    out: dict[str, dict[str, float]] = {}
    for user in users:
        for edge in allowed_edges(user, saturated):
            cap = max(capacity.get(edge, 1.0), EPS)
            out.setdefault(edge, {})[user.session_id] = max(0.0, user.rate * user.compute_s[edge]) / cap
    return out


def water_fill(demand: Mapping[str, float], weight: Mapping[str, float]) -> dict[str, float]:
    """Weighted max-min fair shares of 1: each share rises in proportion to its weight until its demand is met
    or the whole is shared out; what is left when every demand is met is split by weight."""
    out = {k: 0.0 for k in demand}
    unmet = {k: max(0.0, v) for k, v in demand.items()}
    left = 1.0
    active = {k for k, v in unmet.items() if v > EPS}
    while active and left > EPS:
        total = sum(weight[k] for k in active)
        step = min(left / total, min(unmet[k] / weight[k] for k in active))
        for k in active:
            out[k] += step * weight[k]
            unmet[k] -= step * weight[k]
        left -= step * total
        active = {k for k in active if unmet[k] > EPS}
    if left > EPS and out:
        total = sum(weight[k] for k in out)
        for k in out:
            out[k] += left * weight[k] / total
    return out


def shares(
    users: Iterable[User], saturated: set[str], capacity: Mapping[str, float] | None = None
) -> dict[str, dict[str, dict]]:
    """Each session's budget: ``{session: {edge: {share, rate}}}`` (an edge not listed: not allowed). Shares
    are rounded down to 0.001 (an edge's sum stays at most 1); ``rate`` (frames/s) is None where the
    session's compute there is not predicted or not yet measured (no limit)."""
    users = list(users)
    capacity = capacity or {}
    by_id = {u.session_id: u for u in users}
    out: dict[str, dict[str, dict]] = {u.session_id: {} for u in users}
    for edge, asked in demands(users, saturated, capacity).items():
        weights = {k: WEIGHTS.get(by_id[k].priority, 1.0) for k in asked}
        for session_id, share in water_fill(asked, weights).items():
            share = math.floor(share * 1000 + 1e-9) / 1000
            compute = by_id[session_id].compute_s[edge]
            priced = compute > 0 and edge not in by_id[session_id].unmeasured
            rate = share * capacity.get(edge, 1.0) / compute if priced else None
            rate = rate if rate is not None and math.isfinite(rate) else None
            out[session_id][edge] = {"share": share, "rate": None if rate is None else _sig(rate)}
    return out


def oversubscribed(users: Iterable[User], saturated: set[str], capacity: Mapping[str, float]) -> dict:
    """The edges shared by two sessions or more that ask for more than all of it: ``{edge: their demands'
    sum}``. (One session alone over an edge's capacity has all of it: its queues show the rest.)"""
    return {
        edge: total
        for edge, asked in demands(users, saturated, capacity).items()
        if len(asked) >= 2 and (total := sum(asked.values())) > 1.0 + 1e-9
    }


def _sig(value: float) -> float:
    """``value`` to 3 significant digits (a budget resent only when it changes, not at every jitter)."""
    return float(f"{value:.3g}")


# --- the fleet's sessions ----------------------------------------------------------------------------------


def budgeted_sessions():
    """The running sessions a budget is set for: streams with a deployment (a serving session's requests are
    admitted by its endpoint, which keeps no budget)."""
    return (
        Session.objects.filter(state=RunState.RUNNING, deployment__isnull=False, serve__isnull=True)
        .select_related("source", "deployment", "model")
        .order_by("created_at")
    )


MEASURED_FRAMES = 20  # a session's latest answered frames whose compute per device prices its budget


def measured_compute(session: Session) -> dict[str, float]:
    """Per device, the median compute of one of ``session``'s frames there over its latest
    ``MEASURED_FRAMES`` answered frames (what the device measured, its emulated slowness included; a
    frame's stages on one device summed). Empty before any answer."""
    traces = (
        Frame.objects.filter(session=session, ok=True)
        .order_by("-pk")
        .values_list("trace", flat=True)[:MEASURED_FRAMES]
    )
    per: dict[str, list[float]] = {}
    for trace in traces:
        frame: dict[str, float] = {}
        for step in trace or []:
            seconds = step.get("compute_s") if isinstance(step, dict) else None
            if step.get("device") and isinstance(seconds, int | float) and math.isfinite(seconds):
                frame[str(step["device"])] = frame.get(str(step["device"]), 0.0) + max(0.0, float(seconds))
        for device, seconds in frame.items():
            per.setdefault(device, []).append(seconds)
    return {device: statistics.median(values) for device, values in per.items()}


def user_of(
    session: Session, deployments: Mapping[str, Deployment], measured: Mapping[str, float] | None = None
) -> User:
    """The rule's view of ``session``: per edge the compute of one frame there (``measured``, the edge's own
    measurement of its recent frames, where given; else the most any of its routes' plans predicts there),
    and whether one of its routes runs on its source alone."""
    source = str(session.source_id)
    compute: dict[str, float] = {}
    local = False

    def route(on: Mapping[str, float]) -> None:
        for device, seconds in on.items():
            if device != source:
                compute[device] = max(compute.get(device, 0.0), seconds)

    plan: dict[str, float] = {}
    for stage in (session.plan or {}).get("stages") or []:
        if stage.get("device") is not None:
            device = str(stage["device"])
            plan[device] = plan.get(device, 0.0) + float(stage.get("compute") or 0.0)
    route(plan)
    if session.deployment is not None and set(map(str, session.deployment.devices)) <= {source}:
        local = True
    blocks = len(session.model.blocks or ())
    for arm in (session.deployment.arms if session.deployment is not None else None) or []:
        if int(arm.get("cut", -1)) == blocks:
            local = True  # ans: the arm that runs every block on the source
    for config in session.dynamic or []:
        deployment = deployments.get(str(config.get("deployment_id") or session.deployment_id))
        if deployment is None:
            continue
        where = {int(s["stage"]): str(s["device"]) for s in deployment.stages if "device" in s}
        on: dict[str, float] = {}
        for stage in config.get("stages") or []:
            placed = where.get(int(stage["stage"]))
            if placed is not None:
                on[placed] = on.get(placed, 0.0) + float(stage.get("compute_s") or 0.0)
        if on and set(on) <= {source} and not config.get("entry"):
            local = True
        route(on)
    measured = measured or {}
    for device, seconds in measured.items():
        if device in compute:
            compute[device] = seconds
    unmeasured = frozenset(set(compute) - set(measured))
    rank = qos.priority_rank(session.priority)
    return User(str(session.pk), rank, float(session.rate), compute, local, unmeasured)


def capacity_of(device: Device) -> float:
    """An edge's compute, in frames' compute-seconds per second: 1 on an emulated device (its units serve
    one turn at a time), a real one's logical cores (its ``host`` unit has as many turns)."""
    if device.profile:
        return 1.0
    cores = (device.inventory or {}).get("cpu_cores_logical")
    return float(cores) if isinstance(cores, int | float) and cores >= 1 else 1.0


def fleet() -> tuple[list[Session], list[User], dict[str, Device], dict[str, float]]:
    """The running sessions, their users, the devices they may use and those devices' capacities."""
    sessions = list(budgeted_sessions())
    wanted = {
        str(c.get("deployment_id")) for s in sessions for c in s.dynamic or [] if c.get("deployment_id")
    }
    deployments = {str(d.pk): d for d in Deployment.objects.filter(pk__in=wanted)}
    deployments.update({str(s.deployment_id): s.deployment for s in sessions if s.deployment is not None})
    users = [user_of(s, deployments, measured_compute(s)) for s in sessions]
    devices = {str(d.pk): d for d in Device.objects.filter(pk__in={e for u in users for e in u.compute_s})}
    capacity = {pk: capacity_of(d) for pk, d in devices.items()}
    return sessions, users, devices, capacity


def assign(is_saturated: Callable[[Device], bool]) -> list[BudgetChange]:
    """Each running session's budget from the fleet's load now (``is_saturated``: the coordinator's reading
    of an edge's stage queues); a budget that changed (its edges, shares or rates, or the deployment it is
    for) is sent to the session's source and recorded. Returns the changes."""
    sessions, users, devices, capacity = fleet()
    saturated = {pk for pk, device in devices.items() if is_saturated(device)}
    budgets = shares(users, saturated, capacity)
    asked = demands(users, saturated, capacity)
    changes: list[BudgetChange] = []
    for session, user in zip(sessions, users, strict=True):
        if not user.compute_s:
            continue  # it uses no edge: nothing to share
        mine = budgets[user.session_id]
        edges = [
            {
                "device_id": edge,
                "name": devices[edge].name if edge in devices else edge,
                "share": mine[edge]["share"],
                "rate": mine[edge]["rate"],
            }
            for edge in sorted(mine)
        ]
        deployment = str(session.deployment_id)
        last = session.budget or {}
        same = last.get("edges") == edges and last.get("deployment") == deployment
        if same and not _reconnected_since(session.source, last.get("at")):
            continue
        reason = _reason(user, edges, saturated, asked, devices)
        if same:  # its source reconnected since it was sent (a restarted agent has forgotten it)
            reason = f"sent again: {session.source.name} reconnected; {reason}"
        budget_id = uuid.uuid4().hex[:12]
        try:
            agents.send(
                session.source, p.Budget(str(session.pk), budget_id, deployment, edges=edges), wait=False
            )
        except agents.AgentUnavailable as exc:
            log.info("budget for session %s not sent (next pass tries again): %s", session.pk, exc)
            continue
        session.budget = {
            "id": budget_id,
            "deployment": deployment,
            "edges": edges,
            "reason": reason,
            "at": timezone.now().isoformat(),
        }
        Session.objects.filter(pk=session.pk).update(budget=session.budget)
        changes.append(
            BudgetChange.objects.create(
                session=session, budget_id=budget_id, deployment=deployment, edges=edges, reason=reason
            )
        )
        dashboard.publish(  # the Users page shows each session's share of each edge
            "budget.change",
            {"session": str(session.pk), "shares": {e["device_id"]: e["share"] for e in edges}},
        )
    return changes


def _reconnected_since(source: Device, at: str | None) -> bool:
    """Whether ``source`` connected again after ``at`` (an ISO time), so a budget sent then may be lost."""
    if source.connected_at is None or not at:
        return False
    try:
        return source.connected_at > datetime.fromisoformat(at)
    except ValueError:
        return True


def _reason(
    user: User, edges: list[dict], saturated: set[str], asked: Mapping[str, Mapping[str, float]], devices
) -> str:
    def name(pk: str) -> str:
        return devices[pk].name if pk in devices else pk

    parts = [
        f"{e['name']}: {e['share']:.0%} of it ({len(asked.get(e['device_id'], {}))} sessions asking "
        f"{sum(asked.get(e['device_id'], {}).values()):.0%})"
        for e in edges
    ]
    dropped = sorted(set(user.compute_s) - {e["device_id"] for e in edges})
    if dropped:
        parts.append(f"not {', '.join(name(pk) for pk in dropped)} (saturated)")
    return "; ".join(parts) or "no edge"
