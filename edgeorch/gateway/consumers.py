"""The agent websocket: one connection per live agent, speaking ``edgeorch_wire.protocol``.

A gateway: it authenticates the device, greets it (``devices.services``), checks each message's size and
shape, and hands every other message to the handler its domain registered (``registry``); it imports no
domain beyond the device identity it serves. Handlers that touch the database run in a thread.

A message that cannot be taken (malformed, out of range, about work that is not the device's) is answered
with ``error`` and the socket stays open; the log gets one line per device and reason per minute
(``lograte``), so a misbehaving agent cannot flood it.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from edgeorch_wire import protocol as p

from edgeorch.devices import services

from . import registry
from .lograte import RateLimitedLog

log = logging.getLogger(__name__)
# Refusals and closes, one line per (device or peer, reason) per window.
limited = RateLimitedLog(log, window=60.0)


def _credential_from(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() == "device":
                return rest.strip()
    return ""


class AgentConsumer(AsyncWebsocketConsumer):
    """Authenticates by device credential, expects ``hello`` first, then dispatches to the domains'
    handlers."""

    device: Any = None  # the authenticated ``Device``, from ``connect`` on
    greeted = False
    # A message whose handler says it announces a binary frame (a one-shot ``result``, a ``relay``): ONE
    # binary frame follows it, for that handler.
    expecting: tuple[registry.Handler, Any] | None = None

    async def connect(self):
        await self.accept()
        try:
            self.device = await database_sync_to_async(services.authenticate_device, thread_sensitive=False)(
                _credential_from(self.scope)
            )
        except services.AuthenticationFailed as exc:
            limited.warning(
                (self._peer_host(), "auth_failed"), "agent refused from %s: %s", self._peer(), exc
            )
            await self._close_with(exc.code, "auth_failed", str(exc), logged=True)
            return
        self.group = services.device_group(self.device.pk)

    async def disconnect(self, code):
        if self.device is None:
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.greeted:
            went_offline = await database_sync_to_async(services.record_disconnect, thread_sensitive=False)(
                self.device.pk, self.channel_name
            )
            log.info(
                "agent %s disconnected (code %s)%s",
                self.device.name,
                code,
                "" if went_offline else ", replaced",
            )
            if went_offline:
                for handler in registry.disconnect_handlers():
                    await self._db(handler, self.device.pk)

    async def receive(self, text_data=None, bytes_data=None):
        if self.device is None:
            return
        size = len(text_data.encode() if text_data is not None else bytes_data or b"")
        announced = text_data is None and self.expecting is not None
        limit = settings.JOB_MAX_BINARY_BYTES if announced else settings.AGENT_MAX_MESSAGE_BYTES
        if size > limit:
            await self._close_with(p.CLOSE_TOO_BIG, "too_big", f"message of {size} bytes exceeds {limit}")
            return
        if announced:
            await self._binary(bytes_data or b"")
            return
        self.expecting = None  # a text frame where a binary one was announced: the binary never comes
        if text_data is None:
            await self._refuse("binary_on_control", "the control channel carries JSON text frames only")
            return
        try:
            message = p.decode(text_data, p.AGENT_MESSAGES)
        except p.ProtocolError as exc:
            await self._refuse(exc.code, str(exc))
            return
        await self._dispatch(message)

    async def _dispatch(self, message):
        if isinstance(message, p.Hello):
            await self._hello(message)
        elif not self.greeted:
            await self._close_with(p.CLOSE_PROTOCOL, "hello_first", f"{message.type!r} sent before 'hello'")
        else:
            await self._handle(message)

    async def _hello(self, hello: p.Hello):
        if hello.device_id != str(self.device.pk):
            msg = f"hello claims device {hello.device_id!r} but the credential belongs to {self.device.pk}"
            await self._close_with(p.CLOSE_IDENTITY, "identity", msg)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        try:
            self.device = await database_sync_to_async(services.record_hello, thread_sensitive=False)(
                self.device, hello, self.channel_name
            )
        except services.AuthenticationFailed as exc:
            await self._close_with(exc.code, "revoked", str(exc))
            return
        if self.device.replaced_channel:
            # An older connection of the same device (a half-dead socket) gives way to this one.
            replaced = {"type": "device.replaced", "by": self.channel_name}
            await self.channel_layer.send(self.device.replaced_channel, replaced)
        self.greeted = True
        log.info("agent %s connected from %s (agent %s)", self.device.name, self._peer(), hello.agent_version)
        welcome = p.Welcome(
            device_id=str(self.device.pk),
            name=self.device.name,
            telemetry_interval=settings.TELEMETRY_INTERVAL_S,
            heartbeat_timeout=settings.LIVENESS_TIMEOUT_S,
            last_seq=self.device.last_seq,
        )
        await self.send(text_data=welcome.to_json())

    async def _handle(self, message) -> None:
        handler = registry.handler_for(message)
        if handler is None:
            return  # a message the agent may send but no domain needs (decode already checked its shape)
        if handler.binary is not None and handler.binary(message):
            self.expecting = (handler, message)
            return
        await self._call(handler, message)

    async def _binary(self, data: bytes) -> None:
        announced, self.expecting = self.expecting, None
        if announced is not None:
            await self._call(*announced, data)

    async def _call(self, handler: registry.Handler, message, *data: bytes) -> None:
        try:
            if handler.is_async:
                reply = await handler.function(self.device.pk, message, *data)
            else:
                reply = await self._db(handler.function, self.device.pk, message, *data)
        except registry.Refusal as exc:
            await self._refuse(exc.code, str(exc), message.type)
            return
        except Exception:
            # A handler's bug must not cost the agent its socket (and every run on it): refuse this one
            # message, and keep the traceback for whoever fixes the handler.
            who = self.device.name
            if limited.warning(
                (str(self.device.pk), f"internal:{message.type}"),
                "handling %s from %s failed",
                message.type,
                who,
            ):
                log.exception("the %s handler raised", message.type)
            await self.send(
                text_data=p.Error(
                    code="internal_error",
                    message=f"{message.type} could not be handled",
                    refers_to=message.type,
                ).to_json()
            )
            return
        if reply is not None:
            await self.send(text_data=reply.to_json())

    async def agent_command(self, event):
        """The control plane speaks to this agent: forward the message (and its binary frame, if any)."""
        await self.send(text_data=event["message"])
        if event.get("bytes") is not None:
            await self.send(bytes_data=event["bytes"])

    @staticmethod
    async def _db(function, *args):
        return await database_sync_to_async(function, thread_sensitive=False)(*args)

    # --- group events ------------------------------------------------------------------------------

    async def device_revoked(self, event):
        await self._close_with(p.CLOSE_REVOKED, "revoked", "this device has been revoked")

    async def device_replaced(self, event):
        if event["by"] != self.channel_name:
            await self._close_with(
                p.CLOSE_REPLACED, "replaced", "a newer connection of this device took over"
            )

    # --- helpers -----------------------------------------------------------------------------------

    async def _refuse(self, code: str, message: str, refers_to: str | None = None):
        name = self.device.name if self.device else "?"
        key = (str(self.device.pk) if self.device else self._peer_host(), code)
        limited.warning(key, "agent %s sent a bad message (%s): %s", name, code, message)
        await self.send(text_data=p.Error(code=code, message=message, refers_to=refers_to).to_json())

    async def _close_with(self, close_code: int, code: str, message: str, logged: bool = False):
        if not logged:
            key = (str(self.device.pk) if self.device else self._peer_host(), f"close:{code}")
            limited.warning(
                key, "closing agent connection from %s with %s: %s", self._peer(), close_code, message
            )
        await self.send(text_data=p.Error(code=code, message=message).to_json())
        await self.close(code=close_code)

    def _peer(self) -> str:
        client = self.scope.get("client") or ("?", 0)
        return f"{client[0]}:{client[1]}"

    def _peer_host(self) -> str:
        return str((self.scope.get("client") or ("?", 0))[0])
