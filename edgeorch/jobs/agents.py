"""Talking to agents from sync code (views, Celery tasks): one channel-layer message to the agent's consumer,
which forwards the JSON text (and an optional binary frame) to the socket
(``AgentConsumer.agent_command``)."""

from __future__ import annotations

from channels.layers import get_channel_layer
from django.db import transaction
from edgeorch_wire import protocol as p

from edgeorch import layer


class AgentUnavailable(Exception):
    """The device has no live agent connection to send to."""


def send(device, message: p.Message, data: bytes | None = None, *, wait: bool = True) -> None:
    """Send ``message`` to ``device``'s agent now (``wait``: until Redis has it). Commands from one process
    arrive in the order they were sent either way (``layer``, lane ``agents``)."""
    if not device.channel_name:
        raise AgentUnavailable(f"{device.name} is not connected")
    event: dict[str, str | bytes] = {"type": "agent.command", "message": message.to_json()}
    if data is not None:
        event["bytes"] = data
    layer.call(get_channel_layer().send, device.channel_name, event, wait=wait, lane="agents")


def send_on_commit(device, message: p.Message, data: bytes | None = None) -> None:
    """Send after the surrounding transaction commits, so that the agent's answer finds the rows it refers
    to."""
    transaction.on_commit(lambda: send(device, message, data), robust=True)
