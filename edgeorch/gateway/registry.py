"""Which domain handles which agent message: the gateway (``consumers.AgentConsumer``) knows none of them.

Each domain registers its handlers from its ``AppConfig.ready`` (``telemetry.handlers``, ``jobs.handlers``):
``@handles(MessageType)`` for a control message, with ``binary=`` for a message that announces one binary
frame after it (the handler then gets the message and the frame), and ``@on_disconnect`` for what a device
going offline means to that domain. A handler takes the device's primary key first; a plain function runs
in a thread with database access, a coroutine function on the socket's event loop. What a handler returns
(a protocol message) is sent back to the agent; ``Refusal`` sends the agent an error and keeps the socket.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Refusal(Exception):
    """A handler's answer that the message could not be taken now: sent to the agent as ``error``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Handler:
    function: Callable[..., Any]
    binary: Callable[[Any], bool] | None  # whether this message announces a binary frame after it

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)


_handlers: dict[type, Handler] = {}
_disconnect: list[Callable[[Any], Any]] = []


def handles(message_type: type, *, binary: Callable[[Any], bool] | None = None):
    """Register the decorated function as the handler of ``message_type`` (one handler per type)."""

    def register(function):
        if message_type in _handlers and _handlers[message_type].function is not function:
            raise ValueError(f"{message_type.__name__} already has a handler")
        _handlers[message_type] = Handler(function, binary)
        return function

    return register


def on_disconnect(function):
    """Register ``function(device_pk)``, called in a thread when a device's last socket has closed."""
    if function not in _disconnect:
        _disconnect.append(function)
    return function


def handler_for(message) -> Handler | None:
    return _handlers.get(type(message))


def disconnect_handlers() -> list[Callable[[Any], Any]]:
    return list(_disconnect)
