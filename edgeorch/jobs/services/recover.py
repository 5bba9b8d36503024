"""Recovering a session from a lost device (``failover.device_lost`` enqueues ``jobs.fail_over``): re-plan
over the devices left, deploy, and switch the source to the new route with ``failover`` (the adaptive
re-planner's ``switch``), so that the frames cut off on the old route are sent again."""

from __future__ import annotations

import time

from edgeorch.devices.models import Device
from edgeorch.plans import services as plans

from ..choices import RunState
from ..models import Failure
from . import adaptive
from .failover import close

# Strategies whose plan names its devices (a pinned split or offload): after a loss, the planner's own
# choice over the devices left replaces them.
PINNED = {"split", "offload"}


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
    devices = [d for d in Device.objects.filter(status="online") if d.pk != failure.device_id]
    if session.candidates:
        devices = [d for d in devices if str(d.pk) in session.candidates]
    strategy = "multi-device" if session.strategy in PINNED else session.strategy
    try:
        plan = plans.make_plan(session.model, devices, session.source, strategy, deadline=session.deadline_s)
    except Exception as exc:  # no plan over what is left: the session cannot go on
        reason = f"failover after losing {failure.device_name}: no plan over the devices left ({exc})"
        return close(failure, Failure.FAILED, reason)
    reason = f"{failure.device_name} lost (stage {failure.stage}): failed over ({failure.policy})"
    switch = adaptive.switch(session, plan, session.predicted_latency_s or 0.0, reason, failover=True)
    if switch is None:
        reason = f"failover after losing {failure.device_name}: the new plan could not be deployed"
        return close(failure, Failure.FAILED, reason)
    failure.switch = switch
    failure.replanned_s = time.time() - failure.detected_at.timestamp()
    failure.save(update_fields=["switch", "replanned_s"])
    return failure
