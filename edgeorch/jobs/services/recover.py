"""Recovering a session from a lost device (``failover.device_lost`` enqueues ``jobs.fail_over``): the warm
standby for that device, or (cold, or no standby) a plan over the devices left, deployed; then the source is
switched to the new route with ``failover`` (the adaptive re-planner's ``switch``), so that the frames cut off
on the old route are sent again. Where the model cannot meet the session's deadline on what is left, the plan
is of a smaller variant (``standby.fallback``; recorded as ``Failure.fallback``), and ``fail_back`` returns
to the session's own model."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from edgeorch_wire.protocol import SOURCE_STAGE

from edgeorch import events as dashboard
from edgeorch.devices.models import Device
from edgeorch.plans import services as plans

from .. import agents
from ..choices import Failover, RunState
from ..models import Failure, Frame, PlanSwitch, Session
from . import adaptive, enqueue, standby
from .commands import start_message
from .deployments import ensure_deployment
from .failover import close

log = logging.getLogger(__name__)


def fail_over(session_id, failure_id: int) -> Failure | None:
    """Re-plan the session over the devices that are left, deploy, and send the source the new route. A
    failure it could not recover from comes back ``failed`` with its reason: the caller (the task) fails
    the session with it."""
    failure = (
        Failure.objects.select_related("session__model", "session__source").filter(pk=failure_id).first()
    )
    if failure is None:
        return None
    session = failure.session
    if session.state != RunState.RUNNING:
        return close(failure, Failure.FAILED, f"the session was {session.state} by then")
    if failure.stage == SOURCE_STAGE:
        return switch_source(failure)
    # Warm: the standby loaded for this loss takes over (no plan, no deploy); else, or cold, plan now.
    plan = standby.for_loss(session, str(failure.device_id)) if failure.policy == Failover.WARM else None
    takeover = "warm" if plan is not None else "cold"
    if plan is None:
        try:
            plan = standby.plan_without(session, str(failure.device_id))
        except Exception as exc:  # no plan over what is left: the session cannot go on
            reason = f"failover after losing {failure.device_name}: no plan over the devices left ({exc})"
            return close(failure, Failure.FAILED, reason)
    reason = f"{failure.device_name} lost (stage {failure.stage}): failed over ({takeover})"
    switch = adaptive.switch(session, plan, session.predicted_latency_s or 0.0, reason, failover=True)
    if switch is None:
        reason = f"failover after losing {failure.device_name}: the new plan could not be deployed"
        return close(failure, Failure.FAILED, reason)
    failure.switch, failure.takeover, failure.fallback = switch, takeover, plan.get("fallback")
    failure.replanned_s = time.time() - failure.detected_at.timestamp()
    failure.save(update_fields=["switch", "replanned_s", "takeover", "fallback"])
    if failure.policy == Failover.WARM:
        enqueue.after_commit("jobs.prepare_standbys", str(session.pk))  # for the devices now in use
    enqueue.after_commit("jobs.fail_back", str(session.pk), failure.pk, countdown=_hold())
    return failure


def switch_source(failure: Failure) -> Failure:
    """Sensing redundancy: the session's source was lost; its first backup source that is online takes over
    the stream, planned with it as the source over the devices left, from the frame after the last one
    stored (frames the lost source had not reported yet are gone with it)."""
    session, lost = failure.session, str(failure.device_id)
    backups = [b for b in session.backup_sources if b != lost]
    online = {str(d.pk): d for d in Device.objects.filter(pk__in=backups, status="online")}
    backup = next((online[b] for b in backups if b in online), None)
    if backup is None:
        return close(
            failure, Failure.FAILED, f"{failure.device_name} (the source) lost, and no backup online"
        )
    try:
        plan = standby.plan_without(session, lost, source=backup)
        Session.objects.filter(pk=session.pk).update(source=backup)  # its reports come from the backup now
        session.source = backup
        deployment = ensure_deployment(session, plan)
    except Exception as exc:
        return close(failure, Failure.FAILED, f"{failure.device_name} (the source) lost: {exc}")
    if not adaptive.wait_ready(deployment.pk):
        return close(
            failure, Failure.FAILED, f"{failure.device_name} (the source) lost: no deployment in time"
        )
    deployment.refresh_from_db()
    last = Frame.objects.filter(session=session).aggregate(last=Max("request_id"))["last"]
    first = 0 if last is None else last + 1
    with transaction.atomic():
        row = (
            Session.objects.select_for_update(of=("self",))
            .select_related("model", "source")
            .get(pk=session.pk)
        )
        if row.state != RunState.RUNNING:
            return close(failure, Failure.FAILED, f"the session was {row.state} by then")
        switch = PlanSwitch.objects.create(
            session=row,
            after_frame=first - 1,
            reason=f"source {failure.device_name} lost: the stream goes on from {backup.name}"[:2000],
            old_plan=adaptive.describe(row.plan or {}),
            new_plan=adaptive.describe(plan),
            old_deployment=row.deployment_id,
            new_deployment=deployment.pk,
            predicted_old_s=row.predicted_latency_s or 0.0,
            predicted_new_s=plan["latency"],
        )
        row.plan, row.deployment, row.predicted_latency_s = plan, deployment, plan["latency"]
        row.save(update_fields=["plan", "deployment", "predicted_latency_s"])
        device, message, data = start_message(row, deployment, first_request=first)
        agents.send_on_commit(device, message, data)
    failure.switch, failure.takeover, failure.fallback = switch, "source", plan.get("fallback")
    failure.replanned_s = time.time() - failure.detected_at.timestamp()
    failure.save(update_fields=["switch", "replanned_s", "takeover", "fallback"])
    dashboard.publish("plan.switch", {"session": str(session.pk), **switch.to_dict()})
    return failure


def fail_back(session_id, failure_id: int) -> Failure | None:
    """Once the lost device has been back for ``FAILBACK_HOLD_S`` without a break, return the session to its
    own strategy's plan over every device (if that plan uses the device again); until then, or while the
    session runs on, look again every half hold. Returns the failure once restored."""
    failure = (
        Failure.objects.select_related("session__model", "session__source", "device")
        .filter(pk=failure_id)
        .first()
    )
    if failure is None or failure.restored_at is not None or failure.outcome == Failure.FAILED:
        return None
    session = failure.session
    if session.state != RunState.RUNNING:
        return None
    device, hold = failure.device, _hold()
    back = (
        device is not None
        and device.status == "online"
        and device.connected_at is not None
        and (timezone.now() - device.connected_at).total_seconds() >= hold
    )
    if back and failure.outcome == Failure.RECOVERED:
        devices = list(Device.objects.filter(status="online"))
        if session.candidates:
            devices = [d for d in devices if str(d.pk) in session.candidates]
        try:
            plan = plans.make_plan(
                session.model,
                devices,
                session.source,
                session.strategy,
                deadline=session.deadline_s,
                params=dict(session.params),
            )
        except Exception as exc:  # not plannable now: look again later
            log.info("session %s: no plan with %s back yet: %s", session.pk, failure.device_name, exc)
            plan = None
        if plan is not None and str(failure.device_id) in {s["device"] for s in plan["stages"]}:
            reason = f"{failure.device_name} back for {hold:g} s: returning to {session.strategy}"
            if adaptive.switch(session, plan, session.predicted_latency_s or 0.0, reason) is not None:
                failure.restored_at = timezone.now()
                failure.save(update_fields=["restored_at"])
                if failure.policy == Failover.WARM:
                    enqueue.after_commit("jobs.prepare_standbys", str(session.pk))
                return failure
    enqueue.after_commit("jobs.fail_back", str(session.pk), failure.pk, countdown=max(hold / 2, 0.5))
    return None


def _hold() -> float:
    return float(settings.FAILBACK_HOLD_S)
