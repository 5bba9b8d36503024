"""How runs end: ``fail`` (and ``fail_job``), ``expire`` (a run's timeout), ``expire_overdue`` (the beat's
sweep), ``device_gone`` (an agent disconnected), ``record_stage_error``, ``cancel`` (``cancel_job``,
``stop_session``). Each locks the run row and moves it only from an active state, so whichever ending commits
first wins; the others change nothing (``cancel`` raises ``IllegalTransition``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from edgeorch_wire import protocol as p

from edgeorch.devices.models import Device

from .. import stats
from ..choices import ACTIVE, DeploymentState, MeasurementState, RunState
from ..models import Deployment, Job, Measurement, Session
from . import failover
from .commands import stop_stream
from .transactions import run_transaction

log = logging.getLogger(__name__)


def fail(kind, pk, reason: str, stage: int | None = None) -> bool:
    """End an active job or session as ``failed`` with the reason and stage; False when it had already
    ended."""
    with run_transaction():
        run = kind.objects.select_for_update(of=("self",)).filter(pk=pk).first()
        if run is None or run.terminal:
            return False
        fields = run.move_to(RunState.FAILED, reason=reason[:2000], failed_stage=stage)
        run.save(update_fields=fields + (_tally(run) if kind is Session else []))
    log.warning("%s failed: %s", run, reason)
    if kind is Session:
        stop_stream(run)
    return True


def _tally(session: Session) -> list[str]:
    """A session that ends before its source's ``stream_done`` (failed, stopped, timed out): its counters and
    summary from the frames stored so far (the source's own count, if it still comes, replaces them)."""
    stored = session.frame_records.aggregate(sent=Count("pk"), ok=Count("pk", filter=Q(ok=True)))
    session.frames_sent = max(session.frames_sent, stored["sent"])
    session.frames_ok = max(session.frames_ok, stored["ok"])
    session.summary = stats.summarise(session)
    return ["frames_sent", "frames_ok", "summary"]


def fail_job(job_id, reason: str, stage: int | None = None) -> bool:
    """``fail`` for a job."""
    return fail(Job, job_id, reason, stage)


def record_stage_error(device_id, message: p.StageFailed) -> None:
    """A stage raised: a one-shot job fails there; a stream frame's failure arrives in its report, and only
    a stream that could not start (request -1) fails the session."""
    pk: Any = message.request_id if message.session_id is None else message.session_id
    kind = Job if message.session_id is None else Session
    if kind is Session and message.request_id >= 0:
        return
    run = (
        kind.objects.filter(pk=pk)
        .select_related("deployment")
        .only("deployment__devices", "source_id")
        .first()
    )
    if run is None or not _takes_part(run, device_id):
        return  # a device speaks only about runs it has a part in
    device = Device.objects.filter(pk=device_id).first()
    where = f"stage {message.stage} on {device.name if device else message.device_id}"
    fail(kind, pk, f"{where} failed: {message.error}", stage=message.stage)


def _takes_part(run, device_id) -> bool:
    """Whether the device is the run's source or runs a stage of its deployment."""
    devices = run.deployment.devices if run.deployment is not None else []
    return str(device_id) in devices or str(run.source_id) == str(device_id)


def cancel(kind, pk, user=None):
    """Cancel an active job or session; raises ``IllegalTransition`` when it has already ended."""
    with run_transaction():
        run = kind.objects.select_for_update(of=("self",)).get(pk=pk)
        who = f" by {user.get_username()}" if user is not None else ""
        fields = run.move_to(RunState.CANCELLED, reason=f"cancelled{who}")
        run.save(update_fields=fields + (_tally(run) if kind is Session else []))
    if kind is Session:
        stop_stream(run)
    return run


def cancel_job(job_id, user=None) -> Job:
    return cancel(Job, job_id, user)


def stop_session(session_id, user=None) -> Session:
    """Stop a stream: the source stops emitting; frames in flight still finish and are recorded."""
    return cancel(Session, session_id, user)


def expire(kind, pk) -> bool:
    """The run's deadline passed: fail it, saying where it was stuck (no-op once it has ended)."""
    with run_transaction():
        run = kind.objects.select_for_update(of=("self",)).select_related("deployment").filter(pk=pk).first()
        if run is None or run.terminal:
            return False
        reason, stage = _stuck_at(run)
        # Race: a result may be committing right now; whichever takes the row lock first wins, the other
        # sees a terminal state and leaves it alone.
        fields = run.move_to(RunState.FAILED, reason=reason, failed_stage=stage)
        run.save(update_fields=fields + (_tally(run) if kind is Session else []))
    if run.state == RunState.FAILED and run.deployment_id and reason.endswith("load its segments"):
        # Nobody answered the deploy: later runs must not wait on this deployment again.
        Deployment.objects.filter(pk=run.deployment_id, state=DeploymentState.DEPLOYING).update(
            state=DeploymentState.FAILED, error=reason
        )
    if kind is Session:
        stop_stream(run)
    return True


def _stuck_at(run) -> tuple[str, int | None]:
    after = f"timed out after {run.timeout_s:g} s"
    deployment = run.deployment
    if run.state in (RunState.PENDING, RunState.PLANNING) or deployment is None:
        return f"{after} while {run.state}", None
    rows = Device.objects.filter(pk__in=deployment.devices).values_list("pk", "name")
    names = {str(pk): name for pk, name in rows}
    if run.state == RunState.DEPLOYING:
        waiting = [d for d in deployment.devices if d not in deployment.ready_devices]
        stage = deployment.stage_of(waiting[0]) if waiting else None
        who = ", ".join(names.get(d, d) for d in waiting)
        return f"{after} at stage {stage} waiting for {who} to load its segments", stage
    last = deployment.stages[-1]
    what = "the result" if isinstance(run, Job) else "the stream to finish"
    return f"{after} at stage {last['stage']} ({names.get(last['device'])}) waiting for {what}", last["stage"]


def device_gone(device_id, detected_by: str = "control") -> int:
    """A device's agent disconnected (or, ``detected_by`` the data plane, stopped answering: ``liveness``):
    retire its deployments and fail the runs using them, naming the stage, or fail them over."""
    device_id = str(device_id)
    row = Device.objects.filter(pk=device_id).values_list("name", "last_seen").first()
    name, last_seen = row if row is not None else (device_id, None)
    live = (DeploymentState.READY, DeploymentState.DEPLOYING)
    failed = 0
    # The live deployments are few (one per placement in use): their device lists are read in Python, the
    # same on SQLite and PostgreSQL (a JSON containment lookup is PostgreSQL's alone).
    placing = [d for d in Deployment.objects.filter(state__in=live) if device_id in d.devices]
    # A lost source with a backup source online: those sessions go on from the backup (failover.py).
    backed_up = failover.source_lost(device_id, name, last_seen, detected_by)
    for deployment in placing:
        Deployment.objects.filter(pk=deployment.pk).update(state=DeploymentState.RETIRED)
        stage = deployment.stage_of(device_id)
        # Sessions with a failover policy go on over the devices left (failover.py); the rest fail.
        lost = failover.device_lost(device_id, name, deployment, stage, last_seen, detected_by)
        going_on = lost | backed_up
        for kind in (Job, Session):
            for pk in kind.objects.filter(deployment=deployment, state__in=ACTIVE).values_list(
                "pk", flat=True
            ):
                if pk in going_on:
                    continue
                failed += fail(kind, pk, f"device {name} disconnected during stage {stage}", stage=stage)
    # A stream's source emits its frames and hears each one end, whether or not it runs a stage (an
    # offloaded stream sends its input to a stage elsewhere): without it the stream cannot go on.
    for pk in Session.objects.filter(source_id=device_id, state__in=ACTIVE).values_list("pk", flat=True):
        if pk in backed_up:
            continue
        reason = f"device {name} disconnected: it is the stream's source (input, stage {p.SOURCE_STAGE})"
        failed += fail(Session, pk, reason, stage=p.SOURCE_STAGE)
    return failed


def silent_devices_gone() -> int:
    """``device_gone`` for each device the liveness sweep marked offline (silent past
    ``LIVENESS_TIMEOUT_S``, its socket perhaps still open) that a live deployment still uses: its runs fail,
    or fail over, as if its socket had closed."""
    live = Deployment.objects.filter(state__in=(DeploymentState.READY, DeploymentState.DEPLOYING))
    used = {d for deployment in live.only("devices") for d in deployment.devices}
    if not used:
        return 0
    silent = Device.objects.filter(pk__in=used).exclude(status="online").values_list("pk", flat=True)
    return sum(device_gone(pk) for pk in silent)


def expire_overdue(now=None) -> int:
    """Fail every active run past its timeout (a safety net behind the per-run countdown tasks), and every
    measurement no answer came for within ``MEASUREMENT_TIMEOUT_S`` (an agent that went away, or whose answer
    was refused as malformed); and treat devices gone silent as gone (``silent_devices_gone``)."""
    now = now or timezone.now()
    count = silent_devices_gone()
    for kind in (Job, Session):
        for run in kind.objects.filter(state__in=ACTIVE).only("pk", "created_at", "timeout_s"):
            if run.created_at + timedelta(seconds=run.timeout_s) <= now:
                count += expire(kind, run.pk)
    waited = timedelta(seconds=settings.MEASUREMENT_TIMEOUT_S)
    count += Measurement.objects.filter(state=MeasurementState.PENDING, created_at__lte=now - waited).update(
        state=MeasurementState.FAILED,
        finished_at=now,
        error=f"no answer from the agent within {settings.MEASUREMENT_TIMEOUT_S:g} s",
    )
    return count
