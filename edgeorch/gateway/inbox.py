"""A bound on what one agent socket may have waiting: ``InboundLimit`` (ASGI) sits between Daphne and the
consumer, drains Daphne's per-connection queue (which has no bound) into its own, and closes the socket with
``CLOSE_FLOODED`` (4029, like HTTP 429) once more than ``WS_INBOX_MESSAGES`` messages or ``WS_INBOX_BYTES``
bytes wait for the consumer. A device that sends faster than its messages can be handled costs the control
plane at most that much memory, and the reason goes to the device (``error flooded``) and to the log once a
minute (``lograte``); the agent reconnects after its back-off, as after any other non-fatal close.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from django.conf import settings
from edgeorch_wire import protocol as p

from .lograte import RateLimitedLog

log = logging.getLogger(__name__)
limited = RateLimitedLog(log, window=60.0)


class InboundLimit:
    """ASGI middleware for a websocket route: at most ``WS_INBOX_MESSAGES``/``WS_INBOX_BYTES`` waiting."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        inbox = Inbox(settings.WS_INBOX_MESSAGES, settings.WS_INBOX_BYTES, scope)
        pump = asyncio.create_task(inbox.fill(receive, send))
        try:
            await self.app(scope, inbox.get, inbox.guard(send))
        finally:
            pump.cancel()


class Inbox:
    def __init__(self, max_messages: int, max_bytes: int, scope):
        self.max_messages, self.max_bytes, self.scope = max_messages, max_bytes, scope
        self.waiting: deque[tuple[dict, int]] = deque()
        self.bytes = 0
        self.ready = asyncio.Event()
        self.flooded = False

    async def fill(self, receive, send) -> None:
        """Move every message from the server to the inbox as it arrives, until the socket ends or floods."""
        while True:
            message = await receive()
            size = _size(message)
            if message["type"] == "websocket.receive" and (
                len(self.waiting) >= self.max_messages or self.bytes + size > self.max_bytes
            ):
                await self._close_flooded(send)
                return
            self._put(message, size)
            if message["type"] == "websocket.disconnect":
                return

    async def get(self) -> dict:
        while not self.waiting:
            self.ready.clear()
            await self.ready.wait()
        message, size = self.waiting.popleft()
        self.bytes -= size
        return message

    def guard(self, send):
        async def guarded(message):
            if not self.flooded:  # the socket is closed: what the consumer still says goes nowhere
                await send(message)

        return guarded

    def _put(self, message: dict, size: int) -> None:
        self.waiting.append((message, size))
        self.bytes += size
        self.ready.set()

    async def _close_flooded(self, send) -> None:
        dropped, waiting_bytes = len(self.waiting), self.bytes
        self.waiting.clear()
        self.bytes = 0
        self.flooded = True
        host = str((self.scope.get("client") or ("?", 0))[0])
        text = f"more than {self.max_messages} messages or {self.max_bytes} bytes waiting to be handled"
        limited.warning(
            (host, "flooded"),
            "closing the socket of %s with %d: %s (%d messages, %d bytes dropped)",
            host,
            p.CLOSE_FLOODED,
            text,
            dropped,
            waiting_bytes,
        )
        await send({"type": "websocket.send", "text": p.Error(code="flooded", message=text).to_json()})
        await send({"type": "websocket.close", "code": p.CLOSE_FLOODED})
        self._put({"type": "websocket.disconnect", "code": p.CLOSE_FLOODED}, 0)


OVERHEAD = 512  # bytes a waiting message costs beyond its payload (the dict, the str or bytes object)


def _size(message: dict) -> int:
    if message.get("bytes") is not None:
        return OVERHEAD + len(message["bytes"])
    return OVERHEAD + len(message.get("text") or "")
