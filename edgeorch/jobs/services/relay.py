"""Relaying: an activation for a peer its sender cannot reach goes through the control plane. Verbs:
``relay_channel`` (where to forward it), ``relay_failed`` (nowhere: the job fails at that stage).
"""

from __future__ import annotations

import uuid

from edgeorch_wire import protocol as p
from edgeorch_wire.frames import FrameError, parse_activation, parse_frame

from edgeorch.devices.models import Device

from ..models import Deployment, Job
from .lifecycle import fail


def _uuid(value: str) -> uuid.UUID | None:
    """An id from an agent's message as the key it must be (None: not one, so no row has it)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def relay_channel(message: p.Relay) -> str | None:
    """The channel of the agent an unreachable peer's activation must be forwarded to (None: not
    connected)."""
    pk = _uuid(message.deployment_id)
    deployment = Deployment.objects.filter(pk=pk).only("devices").first() if pk else None
    if deployment is None or message.to_device_id not in deployment.devices:
        return None
    return (
        Device.objects.filter(pk=message.to_device_id).values_list("channel_name", flat=True).first() or None
    )


def relay_failed(message: p.Relay, data: bytes) -> bool:
    """A relay whose target is not connected either: a one-shot job fails at the stage that activation was
    for, at once rather than at its timeout (a stream's frame is counted lost by its source)."""
    try:
        act = parse_activation(parse_frame(data))
    except FrameError:
        return False
    deployment_id, device_id = _uuid(message.deployment_id), _uuid(message.to_device_id)
    if act.session_id is not None or deployment_id is None or device_id is None:
        return False
    if not Job.objects.filter(pk=message.request_id, deployment_id=deployment_id).exists():
        return False
    name = Device.objects.filter(pk=device_id).values_list("name", flat=True).first() or message.to_device_id
    reason = (
        f"stage {act.stage} on {name} is unreachable: its data plane refused the previous stage and "
        "its agent is not connected to relay through"
    )
    return fail(Job, message.request_id, reason, stage=act.stage)
