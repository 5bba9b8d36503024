"""Recovering a session from a lost device (``failover.device_lost`` enqueues ``jobs.fail_over``): the warm
standby for that device, or (cold, or no standby) a plan over the devices left, deployed; then the source is
switched to the new route with ``failover`` (the adaptive re-planner's ``switch``), so that the frames cut off
on the old route are sent again."""

from __future__ import annotations

import time

from ..choices import Failover, RunState
from ..models import Failure
from . import adaptive, enqueue, standby
from .failover import close


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
    failure.switch, failure.takeover = switch, takeover
    failure.replanned_s = time.time() - failure.detected_at.timestamp()
    failure.save(update_fields=["switch", "replanned_s", "takeover"])
    if failure.policy == Failover.WARM:
        enqueue.after_commit("jobs.prepare_standbys", str(session.pk))  # for the devices now in use
    return failure
