"""Dynamic inference for a session (docs/qos.md, "Dynamic inference"): the configuration table its source
chooses from per frame.

A session started with ``dynamic`` streams on its plan at once; meanwhile (the Celery task
``jobs.prepare_dynamic``) each of its model's live variants (``MLModel.variant_of``: narrower, quantised, an
early exit) is planned the way the session is and deployed, and once they are ready the source is sent the
table on its running stream (``stream_switch`` to the same route, with ``dynamic``): per configuration its
accuracy (the catalog's), the predicted compute of each stage and transfer of its hops (the plan's), and the
deployment and first stage that serve it. From then on the source's controller picks per frame, without asking
the control plane, the most accurate configuration that its deadline allows given the queueing it sees
(``edgeorch_wire.dynamic.choose``). The table is also kept in ``Session.dynamic``: a frame's reported
configuration is believed only if named there.

Each variant contributes its plan's split and up to ``SPLITS - 1`` other split points between the source and
one other device, the fastest predicted now (``best_splits``), each deployed beforehand. A branchy model's
early exits are its variants too (``catalog.exits``: the graph cut down to an exit's head, at that exit's
measured accuracy), so an exit is a configuration like any variant, and its row says which exit (``exit``).
"""

from __future__ import annotations

import logging
import time
import uuid

from django.db import transaction
from edgeorch_wire import protocol as p

from edgeorch import planning
from edgeorch.catalog import exits
from edgeorch.plans import cache as plan_cache
from edgeorch.plans import services as plans
from edgeorch.plans.overrides import PlanInputError

from .. import agents
from ..choices import RunState
from ..models import Deployment, Session
from .adaptive import wait_ready
from .commands import source_route
from .deployments import ensure_deployment, planning_devices
from .selection import arms_of

log = logging.getLogger(__name__)

RUNNING_WAIT_S = 30.0  # how long the task waits for the session to run
SPLITS = 3  # split points per variant: its plan's and the next fastest (docs/qos.md, "Dynamic inference")


def wanted(session) -> bool:
    return bool((session.adaptation or {}).get("dynamic"))


def config_of(session, model, plan: dict, deployment: Deployment) -> dict:
    """One row of the table (``stream.dynamic.configs[]``): ``model`` split as ``plan`` says, served by
    ``deployment`` (its stages in the plan's order)."""
    split = on_source(plan, str(session.source_id))
    stages = [
        {"stage": int(row["stage"]), "compute_s": max(0.0, float(stage.get("compute") or 0.0))}
        for stage, row in zip(plan["stages"], deployment.stages, strict=False)
    ]
    transfer = float(plan.get("input_transfer") or 0.0) + sum(
        float(stage.get("transfer") or 0.0) for stage in plan["stages"]
    )
    _, entry = source_route(session, deployment)
    return {
        "name": f"{model.name} v{model.version} split {split}"[:200],
        "accuracy": min(1.0, max(0.0, float(model.accuracy or 0.0))),
        "deployment_id": str(deployment.pk),
        "first_stage": int(deployment.first_stage["stage"]),
        "entry": entry,
        "stages": stages,
        "transfer_s": max(0.0, transfer),
        "variant": model.name,
        "exit": exits.exit_of(model),
        "split": split,
    }


def plan_for(session, model) -> dict:
    """``model`` planned as the session is (its strategy, parameters, deadline, devices)."""
    return plan_cache.plans.plan(
        plans.make_plan,
        model,
        planning_devices(session),
        session.source,
        session.strategy,
        deadline=session.deadline_s,
        params=dict(session.params),
    )


def on_source(plan: dict, source: str) -> int:
    """How many blocks the plan runs on the source before its first hop (its split point)."""
    stages = plan.get("stages") or []
    return int(stages[0]["last_block"]) + 1 if stages and stages[0]["device"] == source else 0


def best_splits(plan_cut: int | None, predicted: dict[int, float], k: int = SPLITS) -> list[int]:
    """The split points a variant offers (a pure rule): the other cuts ``predicted`` finite, fastest first
    (ties: the lower cut), at most ``k - 1`` of them, after its plan's own (``plan_cut``, not repeated)."""
    others = sorted(
        (c for c, t in predicted.items() if c != plan_cut and t < float("inf")),
        key=lambda c: (predicted[c], c),
    )
    return others[: max(0, k - 1)]


def split_plans(session, model, plan: dict) -> list[dict]:
    """Plans of ``model`` cut elsewhere than ``plan`` between the source and one other device (the plan's
    first stage off the source, else the session's first other device): the ``split`` strategy at each cut,
    the fastest ``SPLITS - 1`` by predicted latency now (``best_splits``)."""
    source = str(session.source_id)
    away = [s["device"] for s in plan.get("stages", []) if s["device"] != source]
    away += [str(d.pk) for d in planning_devices(session) if str(d.pk) != source]
    if not away or SPLITS < 2:
        return []
    own = on_source(plan, source)
    try:  # every cut on one assembly of the fleet (not one each: ~20 ms a cut), kept as plans are
        swept = plan_cache.plans.plan(
            plans.split_sweep,
            model,
            planning_devices(session),
            session.source,
            "split",
            deadline=session.deadline_s,
            device=away[0],
        )
    except (planning.PlanningError, PlanInputError):
        return []
    found: dict[int, dict] = swept["plans"]
    chosen = best_splits(own, {c: float(p.get("latency") or float("inf")) for c, p in found.items()})
    return [found[c] for c in chosen]


def prepare(session_id) -> list[dict]:
    """Deploy the session's variants, build its table and send it to the source (the task's body: when a
    dynamic session starts, and again after each re-plan, ``adaptive.switch``); returns the table (empty: not
    a dynamic session, or it ended first)."""
    deadline = time.monotonic() + RUNNING_WAIT_S
    while True:
        session = (
            Session.objects.select_related("model", "source", "deployment").filter(pk=session_id).first()
        )
        if session is None or not wanted(session) or session.terminal:
            return []
        if session.state == RunState.RUNNING and session.deployment is not None:
            break
        if time.monotonic() > deadline:
            return []
        time.sleep(0.1)
    # The route it streams on now (after a re-plan onto a variant, that variant's), then every other arm.
    serving = session.deployment.model
    rows = [(serving, session.plan or {}, session.deployment)]
    for model in arms_of(session.model):
        if model.pk == serving.pk:
            continue
        try:
            plan = plan_for(session, model)
            deployment = ensure_deployment(session, plan)
        except (planning.PlanningError, PlanInputError, agents.AgentUnavailable) as exc:
            log.warning("session %s: variant %s left out of its table: %s", session.pk, model, exc)
            continue
        rows.append((model, plan, deployment))
    for model, plan, _ in list(rows):  # each variant's other good split points, deployed beforehand
        for other in split_plans(session, model, plan):
            try:
                rows.append((model, other, ensure_deployment(session, other)))
            except agents.AgentUnavailable as exc:
                log.warning("session %s: a split of %s left out of its table: %s", session.pk, model, exc)
    table = []
    for model, plan, deployment in rows:
        if deployment is None or not plan.get("stages") or not wait_ready(deployment.pk):
            log.warning("session %s: %s not ready; left out of its table", session.pk, model)
            continue
        deployment.refresh_from_db()
        table.append(config_of(session, model, plan, deployment))
    if not table:
        return []
    with transaction.atomic():
        row = Session.objects.select_for_update(of=("self",)).select_related("source").get(pk=session.pk)
        if row.state != RunState.RUNNING or row.deployment_id is None:
            return []
        current = Deployment.objects.get(pk=row.deployment_id)
        device, entry = source_route(row, current)
        row.dynamic = table
        row.save(update_fields=["dynamic"])
        message = p.StreamSwitch(
            str(row.pk),
            str(current.pk),
            current.first_stage["stage"],
            f"dyn-{uuid.uuid4().hex[:8]}",
            entry,
            dynamic={"configs": table},
        )
        agents.send_on_commit(device, message)
    log.info("session %s: dynamic inference over %d configurations", session.pk, len(table))
    return table
