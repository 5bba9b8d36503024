"""Celery tasks of jobs and sessions: thin wrappers taking ids; the services re-read and lock the rows, so a
retried or duplicated task changes nothing twice. Tasks that talk to Redis (the channel layer) retry on
connection errors. The services enqueue these by name (``services.enqueue``): this module imports them, never
the other way round."""

from celery import shared_task
from django.db import OperationalError

from .models import Job, Session
from .services import (
    adaptive,
    coordinator,
    dispatch,
    dynamic,
    lifecycle,
    liveness,
    measurements,
    recover,
    selection,
    standby,
)

RETRY = {"autoretry_for": (ConnectionError, OperationalError), "retry_backoff": 0.5, "max_retries": 3}


@shared_task(name="jobs.dispatch_job", ignore_result=True, acks_late=True, **RETRY)
def dispatch_job(job_id: int) -> None:
    """Plan, deploy where needed and start a pending job."""
    dispatch.dispatch_job(job_id)


@shared_task(name="jobs.dispatch_session", ignore_result=True, acks_late=True, **RETRY)
def dispatch_session(session_id: str) -> None:
    """Plan, deploy where needed and start a pending stream session."""
    dispatch.dispatch_session(session_id)


@shared_task(name="jobs.expire_job", ignore_result=True, **RETRY)
def expire_job(job_id: int) -> None:
    """Countdown task: the job's deadline has passed (no-op when it has ended)."""
    lifecycle.expire(Job, job_id)


@shared_task(name="jobs.expire_session", ignore_result=True, **RETRY)
def expire_session(session_id: str) -> None:
    """Countdown task: the session's deadline has passed (no-op when it has ended)."""
    lifecycle.expire(Session, session_id)


@shared_task(name="jobs.expire_overdue", ignore_result=True)
def expire_overdue() -> int:
    """Safety net for a periodic schedule: fail every active run past its timeout."""
    return lifecycle.expire_overdue()


@shared_task(name="jobs.probe_fleet", ignore_result=True, **RETRY)
def probe_fleet() -> int:
    """Periodic: every connected agent measures its links to the others (stored as link samples)."""
    return measurements.probe_fleet()


@shared_task(name="jobs.fail_over", ignore_result=True, **RETRY)
def fail_over(session_id: str, failure_id: int) -> None:
    """A session lost a stage's device: re-plan over the devices left and switch (``recover.fail_over``)."""
    failure = recover.fail_over(session_id, failure_id)
    if failure is not None and failure.outcome == failure.FAILED:
        lifecycle.fail(Session, session_id, failure.reason, stage=failure.stage)


@shared_task(name="jobs.fail_back", ignore_result=True, **RETRY)
def fail_back(session_id: str, failure_id: int) -> None:
    """A failed-over session goes back to the lost device once it is back for good (``recover.fail_back``)."""
    recover.fail_back(session_id, failure_id)


@shared_task(name="jobs.check_stalled", ignore_result=True)
def check_stalled(session_id: str, deployment_id: str, waited_s: float = 0.0) -> None:
    """A failover stream's frame outlived its budget: ping its route's devices (``liveness``)."""
    liveness.check_stalled(session_id, deployment_id, waited_s)


@shared_task(name="jobs.coordinate", ignore_result=True)
def coordinate() -> None:
    """The coordinator's pass: a session moved off each saturated edge (``coordinator.requested_pass``: the
    beat's, or one a session starting or ending asked for)."""
    coordinator.requested_pass()


@shared_task(name="jobs.prepare_dynamic", ignore_result=True, **RETRY)
def prepare_dynamic(session_id: str) -> None:
    """Deploy a dynamic session's variants and send its source the configuration table
    (``dynamic.prepare``)."""
    dynamic.prepare(session_id)


@shared_task(name="jobs.prepare_standbys", ignore_result=True, **RETRY)
def prepare_standbys(session_id: str) -> None:
    """Load a warm session's standbys (``standby.prepare``)."""
    standby.prepare(session_id)


@shared_task(
    name="jobs.adapt_session",
    ignore_result=True,
    autoretry_for=(ConnectionError, OperationalError),
    max_retries=2,
)
def adapt_session(session_id: str) -> None:
    """Look at a running adaptive session once (``adaptive.on_report`` enqueues it), then free it."""
    try:
        adaptive.adapt(session_id)
    finally:
        adaptive.release(session_id)


@shared_task(
    name="jobs.select_variant",
    ignore_result=True,
    autoretry_for=(ConnectionError, OperationalError),
    max_retries=2,
)
def select_variant(session_id: str) -> None:
    """Judge a qoe-bandit session's last window and choose its next variant (``selection.on_report``
    enqueues it), then free it."""
    try:
        selection.select(session_id)
    finally:
        selection.release(session_id)
