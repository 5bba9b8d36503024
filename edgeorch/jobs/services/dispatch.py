"""Dispatch: plan a pending job or session, deploy its segments where needed, and start it. Verbs:
``dispatch_job``, ``dispatch_session`` (the Celery tasks' bodies), ``dispatch``, ``plan_run``.
"""

from __future__ import annotations

from django.db.models import Exists
from django.utils import timezone

from edgeorch import events as dashboard
from edgeorch import planning
from edgeorch.catalog.segments import SegmentError
from edgeorch.devices.models import Device
from edgeorch.plans import cache as plan_cache
from edgeorch.plans import services as plans
from edgeorch.plans.overrides import PlanInputError

from .. import agents
from ..choices import DeploymentState, Failover, RunState
from ..models import Deployment, Job, Session
from . import adaptive, coordinator, deployments, enqueue, selection
from .commands import start, start_message
from .deployments import candidate_devices, live_deployments
from .lifecycle import fail
from .transactions import lock_run, run_transaction

PLANNING_ERRORS = (planning.PlanningError, PlanInputError, SegmentError, agents.AgentUnavailable)


def dispatch(kind, pk) -> None:
    """Plan a pending job or session, deploy its segments where needed, and start it (idempotent).

    The common case, a plan over a fleet that has not changed and a deployment that is ready, takes no lock
    and no transaction: the run, its devices and the deployment are read, and one UPDATE starts the run if
    it is still pending and the deployment still ready (``_start_on_ready``; each statement is a round trip:
    docs/benchmarks.md, "Jobs"). Otherwise the run moves on under locks, with the plan just made; only a run
    that needs a new deployment (segments cut, agents loading them) is seen in ``planning`` meanwhile.

    Lock order: run, then deployment here, where the run is still pending; deployment, then run once it
    has one (here below and in ``deployments.record_deploy_status``, which locks only runs already waiting
    on the deployment), so no two transactions wait on each other. On the locked path the deployment is locked
    before its state is read, and on the other the UPDATE reads it: readiness cannot slip between reading it
    and the run choosing to start on it or wait for it (``_start_on_ready`` says what one window costs).
    """
    run = kind.objects.select_related("source", "model").filter(pk=pk).first()
    if run is None or run.state != RunState.PENDING:
        return  # a retried task, or cancelled before it was planned
    try:
        devices = candidate_devices(run)
        plan = plan_run(run, devices)
        deployment = live_deployments(run, plan, devices).first()
    except PLANNING_ERRORS as exc:
        fail(kind, pk, f"planning failed: {exc}")
        return
    ready = deployment is not None and deployment.state == DeploymentState.READY
    if ready and _start_on_ready(kind, run, plan, deployment, devices):
        return
    with run_transaction():
        run = lock_run(kind, pk)
        if run is None or run.state != RunState.PENDING:
            return  # cancelled meanwhile
        deployment = live_deployments(run, plan, devices).select_for_update().first()
        fields = run.move_to(RunState.PLANNING)
        if deployment is not None:
            run.save(update_fields=fields + _place(run, plan, deployment, devices))
            return
        run.save(update_fields=fields)
    try:
        deployment = deployments.create_deployment(run, plan, devices)
    except PLANNING_ERRORS as exc:
        fail(kind, pk, f"planning failed: {exc}")
        return
    with run_transaction():
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
        run.state = kind.objects.select_for_update().filter(pk=pk).values_list("state", flat=True).first()
        if run.state != RunState.PLANNING:
            return  # cancelled or failed while its deployment was made
        run.save(update_fields=_place(run, plan, deployment, devices))


def _place(run, plan: dict, deployment: Deployment, devices: dict[str, Device]) -> list[str]:
    """Put a planning run on its (locked) deployment: start it when the deployment is ready, else wait for it
    to be; returns the fields to save."""
    # A job's measured latency includes its hops through the control plane, which the plan does not model.
    overhead = deployment.job_overhead_s if isinstance(run, Job) else 0.0
    run.plan, run.deployment, run.predicted_latency_s = plan, deployment, plan["latency"] + overhead
    fields = ["plan", "deployment", "predicted_latency_s"]
    if deployment.state == DeploymentState.READY:
        return fields + start(run, deployment, devices)
    if deployment.state == DeploymentState.DEPLOYING:
        return fields + run.move_to(RunState.DEPLOYING)
    reason = f"planning failed: its deployment {deployment.state}: {deployment.error or 'a device left'}"
    return fields + run.move_to(RunState.FAILED, reason=reason)  # failed or retired since it was made


def dispatch_job(job_id) -> None:
    """Plan, deploy and start a pending job (the Celery task's body)."""
    dispatch(Job, job_id)


def dispatch_session(session_id) -> None:
    """Plan, deploy and start a pending stream session (the Celery task's body); a warm-failover session's
    standbys are loaded once it runs (``standby.prepare``)."""
    dispatch(Session, session_id)
    if Session.objects.filter(pk=session_id, failover=Failover.WARM).exists():
        enqueue.after_commit("jobs.prepare_standbys", str(session_id))
    if Session.objects.filter(pk=session_id, adaptation__dynamic=True).exists():
        enqueue.after_commit("jobs.prepare_dynamic", str(session_id))
    coordinator.request_pass()  # a user joined: the coordinator looks at the fleet again


def plan_run(run, devices: dict[str, Device] | None = None) -> dict:
    """The plan for a run over its candidate devices; the same fleet in the same state gets the plan it got
    a moment ago (``plans.cache``)."""
    rows = deployments.planning_devices(run, devices)
    if isinstance(run, Session) and run.strategy == "adaptive":
        return adaptive.initial_plan(run, rows)  # from what it has learned: never a cached plan
    if isinstance(run, Session) and run.strategy == selection.STRATEGY:
        return selection.initial_plan(run, rows)  # the variant its source's bandit chooses now
    deadline = getattr(run, "deadline_s", None)
    return plan_cache.plans.plan(
        plans.make_plan, run.model, rows, run.source, run.strategy, deadline=deadline, params=dict(run.params)
    )


def _start_on_ready(kind, run, plan: dict, deployment: Deployment, devices: dict[str, Device]) -> bool:
    """The common case in one statement: a pending run whose plan has a ready deployment moves straight to
    ``running`` if, when the UPDATE runs, it is still pending and that deployment still ready (False when
    either changed: the caller takes the locked path). Then its source is told to start.

    No lock is held: the one UPDATE checks both rows. A cancel or a timeout that commits first leaves the
    run no longer pending; a device leaving retires its deployments first, then fails the runs on them.
    One window is left: a retirement committing while this very UPDATE runs (it read the deployment as
    ready), whose list of runs to fail was read before this commit. Such a run ends failed when its agent
    or peer cannot be reached, at the latest at its timeout, never hangs.
    """
    device, message, data = start_message(run, deployment, devices)
    overhead = deployment.job_overhead_s if isinstance(run, Job) else 0.0
    values = {
        "plan": plan,
        "deployment": deployment,
        "predicted_latency_s": plan["latency"] + overhead,
        "started_at": timezone.now(),
    }
    ready = Exists(Deployment.objects.filter(pk=deployment.pk, state=DeploymentState.READY))
    if not kind.move_if(run.pk, RunState.PENDING, RunState.RUNNING, ready, **values):
        return False
    for name, value in values.items():
        setattr(run, name, value)
    run.state = RunState.RUNNING
    try:
        agents.send(device, message, data)
    except Exception as exc:  # the run is running: it must fail now, not at its timeout
        fail(kind, run.pk, f"could not tell {device.name} to start: {exc}")
        return True
    dashboard.publish(f"{kind._meta.model_name}.{RunState.RUNNING}", run.progress())
    return True
