"""Failover: a running session that loses a device it runs a stage on goes on, as its policy says.

Verbs: ``device_lost`` (from ``lifecycle.device_gone``: which sessions fail over rather than fail; records
a ``Failure`` and enqueues ``jobs.fail_over``, which runs ``recover.fail_over``: re-plan over the devices
left, deploy, and switch the source to the new route with ``failover``, so that the frames cut off on the old
one are sent again), ``note_recovery`` (from the frame reports: the first frame answered on the new route
ends the failure, its MTTR measured).

Policies (``Session.failover``): ``none`` fails the session as before; ``cold`` plans and deploys the
replacement when the failure happens. The source keeps each frame's input until its answer
(``Stream.failover``) and sends the frames that were cut off once more on the new route, so none is lost; one
whose wait for the new route outlasts the agent's frame timeout fails, saying so. A lost source cannot fail
over: its frames are born there.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from edgeorch_wire.protocol import SOURCE_STAGE

from edgeorch import events as dashboard
from edgeorch.devices.models import Device

from ..choices import ACTIVE, Failover
from ..models import Failure, Session
from . import enqueue

log = logging.getLogger(__name__)


def device_lost(
    device_id: str,
    name: str,
    deployment,
    stage: int | None,
    last_seen: datetime | None,
    detected_by: str = "control",
) -> set:
    """The sessions on ``deployment`` that fail over from losing the device (a ``Failure`` recorded and the
    re-plan enqueued for each); the caller fails the others."""
    rows = Session.objects.filter(deployment=deployment, state__in=ACTIVE).exclude(failover=Failover.NONE)
    sessions = rows.exclude(source_id=uuid.UUID(device_id)).only("pk", "failover")
    return {_failing_over(s, device_id, name, stage, last_seen, detected_by) for s in sessions}


def source_lost(device_id: str, name: str, last_seen: datetime | None, detected_by: str = "control") -> set:
    """The sessions whose lost source has a backup source online (sensing redundancy: ``backup_sources``)
    and a failover policy: they go on from the backup (``recover.switch_source``); the caller fails the
    rest."""
    rows = Session.objects.filter(source_id=uuid.UUID(device_id), state__in=ACTIVE)
    taken = set()
    for session in rows.exclude(failover=Failover.NONE).only("pk", "failover", "backup_sources"):
        backups = [b for b in session.backup_sources if b != device_id]  # read here: SQLite as PostgreSQL
        if backups and Device.objects.filter(pk__in=backups, status="online").exists():
            taken.add(_failing_over(session, device_id, name, SOURCE_STAGE, last_seen, detected_by))
    return taken


def _failing_over(
    session, device_id: str, name: str, stage: int | None, last_seen: datetime | None, detected_by="control"
):
    """Record the loss once: the same loss may be reported twice (the data plane's ping found the device
    silent, then its socket closed, each calling ``lifecycle.device_gone``); a second report while the first
    failure is still recovering adds nothing. The session row is locked so that two reports at once agree."""
    with transaction.atomic():
        Session.objects.select_for_update().filter(pk=session.pk).exists()
        if Failure.objects.filter(
            session_id=session.pk, device_id=device_id, outcome=Failure.RECOVERING
        ).exists():
            log.info("session %s: the loss of %s is already being failed over", session.pk, name)
            return session.pk
        return _record(session, device_id, name, stage, last_seen, detected_by)


def _record(session, device_id: str, name: str, stage: int | None, last_seen: datetime | None, detected_by):
    now = timezone.now()
    failure = Failure.objects.create(
        session=session,
        device_id=device_id,
        device_name=name,
        stage=stage,
        detected_at=now,
        detection_s=(now - last_seen).total_seconds() if last_seen is not None else None,
        policy=session.failover,
        detected_by=detected_by,
    )
    enqueue.after_commit("jobs.fail_over", str(session.pk), failure.pk)
    dashboard.publish("session.failure", {"session": str(session.pk), **failure.to_dict()})
    log.warning("session %s lost %s (stage %s): failing over (%s)", session.pk, name, stage, session.failover)
    return session.pk


def note_recovery(session_id, frames: list) -> None:
    """Frames just stored: the first answered one that ran on the failover route (or was sent again) ends the
    session's open failures; recovered at the moment its last stage ended."""
    open_ = list(
        Failure.objects.filter(
            session_id=session_id, outcome=Failure.RECOVERING, switch__isnull=False
        ).select_related("switch")
    )
    if not open_:
        return
    for failure in open_:
        lost, after = str(failure.device_id), failure.switch.after_frame if failure.switch else 0
        ends = [
            max(float(t.get("end") or 0.0) for t in f.trace)
            for f in frames
            if f.ok and f.trace and (f.resent or (f.request_id > after and _avoids(f.trace, lost)))
        ]
        if not ends:
            continue
        at = datetime.fromtimestamp(min(ends), tz=UTC)
        updated = Failure.objects.filter(pk=failure.pk, outcome=Failure.RECOVERING).update(
            outcome=Failure.RECOVERED, recovered_at=max(at, failure.detected_at)
        )
        if updated:
            failure.refresh_from_db()
            dashboard.publish("session.failure", {"session": str(session_id), **failure.to_dict()})
            log.info(
                "session %s recovered from losing %s in %.3f s",
                session_id,
                failure.device_name,
                failure.mttr_s or 0.0,
            )


def _avoids(trace: list, device_id: str) -> bool:
    return all(isinstance(t, dict) and t.get("device") != device_id for t in trace)


def close(failure: Failure, outcome: str, reason: str) -> Failure:
    failure.outcome, failure.reason = outcome, reason[:2000]
    failure.save(update_fields=["outcome", "reason"])
    dashboard.publish("session.failure", {"session": str(failure.session_id), **failure.to_dict()})
    return failure
