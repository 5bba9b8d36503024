"""The listener: PING/PONG for anyone, activations and DONE frames from peers that proved the secret.

Bounded: payload size, connections (in all, unauthenticated, from one host, per peer and deployment), the
time to authenticate, the time a frame may stall and the time a connection may idle. The handshake and the
frames are in ``edgeorch_wire.frames`` and ``seal`` (docs/protocol.md, "Data-plane frames for execution").
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
from collections.abc import Awaitable, Callable

from edgeorch_wire.frames import (
    DEFAULT_MAX_PAYLOAD,
    NONCE_BYTES,
    SEALED_FLAG,
    Activation,
    Done,
    Frame,
    FrameError,
    Kind,
    encode_frame,
    error_frame,
    mac,
    parse_activation,
)

from .seal import (
    AEADS,
    CONNECTOR,
    LISTENER,
    Channel,
    SealedChannel,
    choose_aead,
    derive_keys,
    proof,
    transcript,
)
from .sockets import CountingReader, start_server, tune

log = logging.getLogger("edgeorch_agent.dataplane")

# An unauthenticated peer may measure the link (PING/PONG), not make the listener hold and echo megabytes:
# the control plane's link probes send 64-256 KiB, the protocol's default probe 1 MiB.
UNAUTHENTICATED_MAX_PAYLOAD = 1024 * 1024


class Rejected(Exception):
    """An activation handler refuses one frame: the sender gets an ERROR, the connection stays open."""


def _pong(frame: Frame) -> Frame:
    return Frame(Kind.PONG, frame.request_id, frame.payload)


# Stateless request kinds and their answers; the stateful ones (handshake, activations) are the server's.
HANDLERS: dict[int, Callable[[Frame], Frame]] = {Kind.PING: _pong}

SecretLookup = Callable[[str], bytes | None]
ActivationHandler = Callable[[Activation], Awaitable[None]]
DoneHandler = Callable[[Done], Awaitable[None]]


class _Connection:
    """One accepted connection: its frames, its handshake state and what its watchdog looks at."""

    def __init__(self, reader: CountingReader, writer: asyncio.StreamWriter, opened: float):
        self.reader, self.writer = reader, writer
        self.channel = Channel(reader, writer)
        self.host = str((writer.get_extra_info("peername") or ("?",))[0])
        self.opened = opened
        self.nonce: bytes | None = None  # ours, answering HELLO
        self.client_nonce: bytes | None = None  # theirs, in a sealed HELLO
        self.aead = 0  # the AEAD chosen for a sealed connection
        self.keys: tuple[bytes, bytes] | None = None  # set by a sealed AUTH: switch after answering it
        self.deployment_id: str | None = None
        self.closing = False  # answer this frame, then hang up
        self.shut = False  # closed by the listener (evicted, timed out): no longer counted
        self.reading = False  # waiting for a frame (handling one is neither idle nor stalled)
        self.frame_began = 0  # reader.consumed when the frame being read began: bytes past it are the frame's
        self.quiet_since = opened  # since when no byte arrived while reading
        self.seen = 0  # reader.received at the last look
        self.watchdog: asyncio.TimerHandle | None = None

    def close(self) -> None:
        self.shut = True
        self.writer.close()


class DataplaneServer:
    """The listener. ``secrets`` maps a deployment id to its secret (None: unknown); ``on_activation`` takes
    each accepted activation and is awaited before the next frame is read, so a busy stage slows its senders
    down (TCP back-pressure) instead of queueing without bound. It raises ``Rejected`` to refuse one frame.

    Only sealed connections are accepted unless ``insecure`` (``--insecure-dataplane``: plain ones too).
    Limits: a connection must authenticate within ``handshake_timeout`` (PING-only probes included); a
    frame that has begun must keep arriving (no ``body_timeout`` without a byte); an authenticated connection
    may idle ``idle_timeout`` between frames. At most ``max_unauthenticated`` connections (and
    ``max_unauthenticated_per_host`` from one address) may be unauthenticated: past that, the oldest such
    one is closed for the new one, so idle connections never lock a peer out. At most ``max_per_peer``
    authenticated connections per address and deployment, and ``max_connections`` in all.
    """

    def __init__(
        self,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        max_connections: int = 128,
        idle_timeout: float = 600.0,
        secrets: SecretLookup | None = None,
        on_activation: ActivationHandler | None = None,
        on_done: DoneHandler | None = None,
        *,
        insecure: bool = False,
        handshake_timeout: float = 5.0,
        body_timeout: float = 10.0,
        max_unauthenticated: int = 32,
        max_unauthenticated_per_host: int = 16,
        max_per_peer: int = 32,
        unauthenticated_max_payload: int = UNAUTHENTICATED_MAX_PAYLOAD,
    ):
        self.max_payload = max_payload
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.secrets = secrets or (lambda deployment_id: None)
        self.on_activation = on_activation
        self.on_done = on_done
        self.insecure = insecure
        self.handshake_timeout = handshake_timeout
        self.body_timeout = body_timeout
        self.max_unauthenticated = max_unauthenticated
        self.max_unauthenticated_per_host = max_unauthenticated_per_host
        self.max_per_peer = max_per_peer
        self.unauthenticated_max_payload = min(unauthenticated_max_payload, max_payload)
        self._server: asyncio.Server | None = None
        self._connections: dict[_Connection, asyncio.Task[None]] = {}  # oldest first

    async def start(self, host: str = "0.0.0.0", port: int = 0) -> tuple[str, int]:
        self._server = await start_server(self._handle, host, port)
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
        for conn in self._connections:
            conn.writer.close()
        if self._connections:
            await asyncio.wait(set(self._connections.values()), timeout=2)

    # --- admission and the watchdog ----------------------------------------------------------------------

    async def _handle(self, reader: CountingReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        conn = _Connection(reader, writer, loop.time())
        if task is None or not self._admit(conn):
            writer.close()
            return
        self._connections[conn] = task
        tune(writer)
        conn.watchdog = loop.call_later(self._next_look(conn, loop.time()), self._look, conn)
        try:
            await self._serve(conn)
        except FrameError as exc:
            log.info("dataplane: closing connection from %s: %s", conn.host, exc)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass  # the peer went away, idled out or was evicted: nothing to report
        finally:
            if conn.watchdog is not None:
                conn.watchdog.cancel()
            conn.shut = True
            del self._connections[conn]
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _admit(self, conn: _Connection) -> bool:
        """Make room for a new connection by closing the oldest unauthenticated one if a limit says so;
        False: no room (every connection is authenticated)."""
        waiting = [c for c in self._connections if not c.shut and c.deployment_id is None]
        same_host = [c for c in waiting if c.host == conn.host]
        oldest = None
        if len(same_host) >= self.max_unauthenticated_per_host:
            oldest = same_host[0]  # one address crowds out only itself
        elif waiting and (len(waiting) >= self.max_unauthenticated or self._live() >= self.max_connections):
            oldest = waiting[0]
        if oldest is not None:
            log.debug("dataplane: closing an unauthenticated connection from %s for a new one", oldest.host)
            oldest.close()
        return self._live() < self.max_connections

    def _live(self) -> int:
        return sum(1 for c in self._connections if not c.shut)

    def _look(self, conn: _Connection) -> None:
        """The watchdog: close a connection that has not authenticated in time, or stalled in the middle of
        a frame, or idled too long; otherwise look again later."""
        if conn.shut:
            return
        now = asyncio.get_running_loop().time()
        if conn.reader.received != conn.seen:
            conn.seen, conn.quiet_since = conn.reader.received, now
        quiet = now - conn.quiet_since if conn.reading else 0.0
        if conn.deployment_id is None and now - conn.opened >= self.handshake_timeout:
            problem = f"no authentication within {self.handshake_timeout:g}s"
        elif conn.reader.received > conn.frame_began and quiet >= self.body_timeout:
            problem = f"a frame stalled for {quiet:.1f}s"
        elif quiet >= self.idle_timeout:
            problem = f"idle for {quiet:.0f}s"
        else:
            conn.watchdog = asyncio.get_running_loop().call_later(
                self._next_look(conn, now), self._look, conn
            )
            return
        log.debug("dataplane: closing the connection from %s: %s", conn.host, problem)
        conn.close()

    def _next_look(self, conn: _Connection, now: float) -> float:
        delay = min(self.body_timeout, self.idle_timeout)
        if conn.deployment_id is None:
            delay = min(delay, conn.opened + self.handshake_timeout - now)
        return max(delay, 0.0)

    # --- frames ------------------------------------------------------------------------------------------

    async def _serve(self, conn: _Connection) -> None:
        loop = asyncio.get_running_loop()
        while not conn.closing:
            conn.reading, conn.quiet_since, conn.seen = True, loop.time(), conn.reader.received
            conn.frame_began = conn.reader.consumed
            limit = self.unauthenticated_max_payload if conn.deployment_id is None else self.max_payload
            frame = await conn.channel.read_frame(limit)
            conn.reading = False
            reply = await self._answer(frame, conn)
            if reply is not None:
                conn.channel.write(encode_frame(reply))
                await conn.channel.drain()  # back-pressure: a peer that does not read stops being served
            if conn.keys is not None:  # the sealed AUTH was answered in the clear; from here on, sealed
                conn.channel = SealedChannel(conn.reader, conn.writer, conn.aead, conn.keys[1], conn.keys[0])
                conn.keys = None

    async def _answer(self, frame: Frame, conn: _Connection) -> Frame | None:
        handler = HANDLERS.get(frame.kind)
        if handler is not None:
            return handler(frame)
        if frame.kind in (Kind.HELLO, Kind.AUTH) and conn.deployment_id is not None:
            raise FrameError("this connection is already authenticated")
        if frame.kind == Kind.HELLO:
            return self._hello(frame, conn)
        if frame.kind == Kind.AUTH:
            return self._authenticate(frame, conn)
        if frame.kind in (Kind.ACTIVATION, Kind.DONE):
            if conn.deployment_id is None:
                conn.closing = True
                return error_frame(frame.request_id, "authenticate (HELLO, AUTH) before sending activations")
            return await self._deliver(frame, conn)
        raise FrameError(f"unknown frame kind {frame.kind}")

    def _hello(self, frame: Frame, conn: _Connection) -> Frame:
        sealed = bool(frame.flags & SEALED_FLAG)
        if not sealed and not self.insecure:
            conn.closing = True
            return error_frame(
                frame.request_id,
                "this listener accepts encrypted connections only (a sealed HELLO); the connecting agent "
                "runs with --insecure-dataplane, this one without",
            )
        conn.nonce, conn.client_nonce = os.urandom(NONCE_BYTES), None
        if not sealed:
            return Frame(Kind.HELLO, frame.request_id, conn.nonce)
        if len(frame.payload) != NONCE_BYTES:
            raise FrameError(
                f"a sealed HELLO carries a {NONCE_BYTES}-byte nonce, not {len(frame.payload)} bytes"
            )
        aead = choose_aead(frame.extension)
        if aead is None:
            conn.closing = True
            known = ", ".join(name for name, _ in AEADS.values())
            return error_frame(frame.request_id, f"no AEAD in common: this listener knows {known}")
        conn.client_nonce, conn.aead = bytes(frame.payload), aead
        return Frame(Kind.HELLO, frame.request_id, conn.nonce, flags=SEALED_FLAG, extension=bytes([aead]))

    def _authenticate(self, frame: Frame, conn: _Connection) -> Frame:
        deployment_id = frame.extension.decode(errors="replace")
        secret = self.secrets(deployment_id)
        nonce, client_nonce = conn.nonce, conn.client_nonce
        conn.closing = True  # unless accepted below
        if secret is None or nonce is None:
            problem = "no HELLO before AUTH" if secret else f"unknown deployment {deployment_id!r}"
            return error_frame(frame.request_id, f"authentication failed: {problem}")
        if client_nonce is None:
            bound, expected = b"", mac(secret, nonce, deployment_id)
        else:
            bound = transcript(client_nonce, nonce, conn.aead)
            expected = proof(secret, CONNECTOR, bound, deployment_id)
        if not hmac.compare_digest(bytes(frame.payload), expected):
            return error_frame(frame.request_id, f"authentication failed for deployment {deployment_id!r}")
        peers = sum(
            1
            for c in self._connections
            if not c.shut and c.host == conn.host and c.deployment_id == deployment_id
        )
        if peers >= self.max_per_peer:
            return error_frame(
                frame.request_id,
                f"{conn.host} has {peers} connections for deployment {deployment_id!r} already",
            )
        conn.closing, conn.deployment_id, conn.nonce = False, deployment_id, None  # a nonce answers one AUTH
        if client_nonce is None:
            return Frame(Kind.AUTH, frame.request_id)
        conn.keys = derive_keys(secret, bound, deployment_id)
        return Frame(Kind.AUTH, frame.request_id, proof(secret, LISTENER, bound, deployment_id))

    async def _deliver(self, frame: Frame, conn: _Connection) -> Frame | None:
        try:
            if frame.kind == Kind.DONE:
                done = Done.from_frame(frame)
                self._check_deployment(done.deployment_id, conn)
                if self.on_done is not None:
                    await self.on_done(done)
                return None
            activation = parse_activation(frame)
            self._check_deployment(activation.deployment_id, conn)
            if self.on_activation is None:
                raise Rejected("this agent runs no stages")
            await self.on_activation(activation)
        except Rejected as exc:
            return error_frame(frame.request_id, str(exc))
        return None

    @staticmethod
    def _check_deployment(deployment_id: str, conn: _Connection) -> None:
        if deployment_id != conn.deployment_id:
            raise Rejected(
                f"this connection is authenticated for deployment {conn.deployment_id!r}, "
                f"not {deployment_id!r}"
            )
