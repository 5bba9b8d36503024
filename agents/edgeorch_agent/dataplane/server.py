"""The listener: PING/PONG for anyone, activations and DONE frames from peers that proved the secret.

Bounded: payload size, concurrent connections and idle time per connection. The handshake and the frames
are in ``edgeorch_wire.frames`` (docs/protocol.md, "Data-plane frames for execution").
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from edgeorch_wire.frames import (
    DEFAULT_MAX_PAYLOAD,
    NONCE_BYTES,
    Activation,
    Done,
    Frame,
    FrameError,
    Kind,
    encode_frame,
    error_frame,
    mac,
    parse_activation,
    read_frame,
)

from .sockets import STREAM_LIMIT, tune

log = logging.getLogger("edgeorch_agent.dataplane")


class Rejected(Exception):
    """An activation handler refuses one frame: the sender gets an ERROR, the connection stays open."""


def _pong(frame: Frame) -> Frame:
    return Frame(Kind.PONG, frame.request_id, frame.payload)


# Stateless request kinds and their answers; the stateful ones (handshake, activations) are the server's.
HANDLERS: dict[int, Callable[[Frame], Frame]] = {Kind.PING: _pong}

SecretLookup = Callable[[str], bytes | None]
ActivationHandler = Callable[[Activation], Awaitable[None]]
DoneHandler = Callable[[Done], Awaitable[None]]


@dataclass
class _Session:
    """One accepted connection's handshake state."""

    nonce: bytes | None = None
    deployment_id: str | None = None
    closing: bool = False


class DataplaneServer:
    """The listener. Bounded: payload size, concurrent connections and idle time per connection.

    ``secrets`` maps a deployment id to its secret (None: unknown); ``on_activation`` takes each accepted
    activation and is awaited before the next frame is read, so a busy stage slows its senders down (TCP
    back-pressure) instead of queueing without bound. It raises ``Rejected`` to refuse one frame.
    """

    def __init__(
        self,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        max_connections: int = 64,
        idle_timeout: float = 600.0,
        secrets: SecretLookup | None = None,
        on_activation: ActivationHandler | None = None,
        on_done: DoneHandler | None = None,
    ):
        self.max_payload = max_payload
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.secrets = secrets or (lambda deployment_id: None)
        self.on_activation = on_activation
        self.on_done = on_done
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.StreamWriter, asyncio.Task[None]] = {}

    async def start(self, host: str = "0.0.0.0", port: int = 0) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._handle, host, port, limit=STREAM_LIMIT)
        return self.address

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "start() first"
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        # Closing the sockets (rather than cancelling the handlers) lets each handler end normally: on
        # Python 3.11 a cancelled stream handler is logged as an unhandled error.
        for writer in self._connections:
            writer.close()
        if self._connections:
            await asyncio.wait(set(self._connections.values()), timeout=2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self._connections) >= self.max_connections or task is None:
            writer.close()
            return
        self._connections[writer] = task
        tune(writer)
        try:
            await self._serve(reader, writer)
        except FrameError as exc:
            log.info("dataplane: closing connection from %s: %s", writer.get_extra_info("peername"), exc)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass  # the peer went away or idled out: nothing to report
        finally:
            del self._connections[writer]
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session()
        loop = asyncio.get_running_loop()
        while not session.closing:
            # An idle peer is hung up on by a timer rather than ``wait_for``: that wraps every read in a new
            # task, which costs more than reading a small frame. Handling a frame is not idle time.
            idle = loop.call_later(self.idle_timeout, writer.close)
            try:
                frame = await read_frame(reader, self.max_payload)
            finally:
                idle.cancel()
            reply = await self._answer(frame, session)
            if reply is not None:
                writer.write(encode_frame(reply))
                await writer.drain()  # back-pressure: a peer that does not read stops being served

    async def _answer(self, frame: Frame, session: _Session) -> Frame | None:
        handler = HANDLERS.get(frame.kind)
        if handler is not None:
            return handler(frame)
        if frame.kind == Kind.HELLO:
            session.nonce = os.urandom(NONCE_BYTES)
            return Frame(Kind.HELLO, frame.request_id, session.nonce)
        if frame.kind == Kind.AUTH:
            return self._authenticate(frame, session)
        if frame.kind in (Kind.ACTIVATION, Kind.DONE):
            if session.deployment_id is None:
                session.closing = True
                return error_frame(frame.request_id, "authenticate (HELLO, AUTH) before sending activations")
            return await self._deliver(frame, session)
        raise FrameError(f"unknown frame kind {frame.kind}")

    def _authenticate(self, frame: Frame, session: _Session) -> Frame:
        deployment_id = frame.extension.decode(errors="replace")
        secret = self.secrets(deployment_id)
        if secret is None or session.nonce is None:
            session.closing = True
            problem = "no HELLO before AUTH" if secret else f"unknown deployment {deployment_id!r}"
            return error_frame(frame.request_id, f"authentication failed: {problem}")
        if not hmac.compare_digest(bytes(frame.payload), mac(secret, session.nonce, deployment_id)):
            session.closing = True
            return error_frame(frame.request_id, f"authentication failed for deployment {deployment_id!r}")
        session.deployment_id, session.nonce = deployment_id, None  # a nonce answers one AUTH only
        return Frame(Kind.AUTH, frame.request_id)

    async def _deliver(self, frame: Frame, session: _Session) -> Frame | None:
        try:
            if frame.kind == Kind.DONE:
                done = Done.from_frame(frame)
                self._check_deployment(done.deployment_id, session)
                if self.on_done is not None:
                    await self.on_done(done)
                return None
            activation = parse_activation(frame)
            self._check_deployment(activation.deployment_id, session)
            if self.on_activation is None:
                raise Rejected("this agent runs no stages")
            await self.on_activation(activation)
        except Rejected as exc:
            return error_frame(frame.request_id, str(exc))
        return None

    @staticmethod
    def _check_deployment(deployment_id: str, session: _Session) -> None:
        if deployment_id != session.deployment_id:
            raise Rejected(
                f"this connection is authenticated for deployment {session.deployment_id!r}, "
                f"not {deployment_id!r}"
            )
