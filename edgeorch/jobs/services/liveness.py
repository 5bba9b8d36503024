"""Detection of a device that froze (a hung process, a host that stopped answering: no socket closes, and its
heartbeat is missed only after ``LIVENESS_TIMEOUT_S``). A failover stream's source has a per-frame budget
(``commands.stall_budget``, from the plan's predicted latency). Verbs: ``check_stalled`` (the
``jobs.check_stalled`` task, enqueued when a source says a frame outlived its budget: ping the route's
devices, and take one that does not answer within ``FAILOVER_PING_WAIT_S`` as lost:
``lifecycle.device_gone``, detected by the data plane), ``pong`` (an answer).

A device that is merely slow answers its ping (the agent's control channel answers, not its executor), so an
overloaded stage is not failed over; the adaptive strategy re-plans around it.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.utils import timezone
from edgeorch_wire import protocol as p

from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device

from .. import agents
from ..choices import Failover, RunState
from ..models import Session
from .lifecycle import device_gone

log = logging.getLogger(__name__)


def check_stalled(session_id, deployment_id: str, waited_s: float = 0.0) -> list[str]:
    """Ping the devices of the session's route (its current deployment, other than the source); each one not
    answering within ``FAILOVER_PING_WAIT_S`` is marked offline and lost (its sessions fail over, the failure
    ``detected_by`` the data plane). Returns the names of the devices lost."""
    try:
        deployment_id = str(uuid.UUID(str(deployment_id)))
    except ValueError:
        return []
    session = (
        Session.objects.filter(pk=session_id, state=RunState.RUNNING, deployment_id=deployment_id)
        .exclude(failover=Failover.NONE)
        .select_related("deployment")
        .first()
    )
    if session is None or session.deployment is None:
        return []
    route = [d for d in session.deployment.devices if d != str(session.source_id)]
    devices = list(Device.objects.filter(pk__in=route, status=DeviceStatus.ONLINE).exclude(channel_name=""))
    if not devices:
        return []  # gone already: their sockets closed (``device_gone`` has run or is running)
    asked = timezone.now()
    nonce = uuid.uuid4().hex
    for device in devices:
        try:
            agents.send(device, p.Ping(nonce))
        except agents.AgentUnavailable:
            pass
    pending = {d.pk for d in devices}
    until = time.monotonic() + settings.FAILOVER_PING_WAIT_S
    while pending and time.monotonic() < until:
        time.sleep(0.02)
        heard = Device.objects.filter(pk__in=pending, last_seen__gte=asked).values_list("pk", flat=True)
        pending -= set(heard)
    lost = []
    for device in devices:
        if device.pk not in pending:
            continue
        # As the liveness sweep would, later: offline (its next message brings it back online).
        online = Device.objects.filter(pk=device.pk, status=DeviceStatus.ONLINE)
        if online.update(status=DeviceStatus.OFFLINE):
            log.warning(
                "%s did not answer a ping within %.2f s after a frame of session %s stalled %.2f s: lost",
                device.name,
                settings.FAILOVER_PING_WAIT_S,
                session_id,
                waited_s,
            )
            device_gone(device.pk, detected_by="dataplane")
            lost.append(device.name)
    return lost


def pong(device_id) -> None:
    """The device answered a ping: it is alive now."""
    Device.objects.filter(pk=device_id).update(last_seen=timezone.now())
