"""The data plane: the agent's own TCP listener for peer-to-peer binary frames.

It answers PING with PONG (reachability, round-trip time and bandwidth probes need no authentication), and
accepts activations (tensors between the stages of a split model) from peers that proved they hold the
deployment's secret. The layout of every frame and of each kind's header is in docs/protocol.md.

Frame layout (network byte order), 16 fixed bytes then optional header extension then payload::

    offset size  field
    0      4     magic        b"EOD1"
    4      2     header_len   bytes of the whole header, fixed part included (>= 16, <= 65535)
    6      1     kind         see ``Kind``
    7      1     flags        0 for now
    8      4     request_id   chosen by the requester, echoed in the reply (an ACTIVATION: the low 32 bits)
    12     4     payload_len  bytes of payload after the header (bounded by the receiver, 16 MiB default)
    16     ...   extension    header_len - 16 bytes, kind-specific (ACTIVATION: see ``ACTIVATION_FIXED``)
    ...    ...   payload

``header_len`` lets the header grow without a new magic: a reader that does not know a kind's extension
still knows where the payload starts. A frame with a bad magic, a bad header length, an oversized payload or
an unknown kind makes the listener close that connection; the listener itself carries on.

Authentication (per connection, once): the connecting side sends HELLO; the listener answers HELLO with a
random 32-byte nonce; the connecting side sends AUTH with the deployment id as extension and
HMAC-SHA256(secret, nonce || deployment_id) as payload; the listener answers an empty AUTH (accepted) or an
ERROR and closes (unknown deployment, wrong MAC). Payloads are not MACed: for multi-MB tensors that would
cost more than the transfer; the authenticated connection is trusted afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import hmac
import json
import logging
import os
import random
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .emulation.links import LinkShaper

log = logging.getLogger(__name__)

MAGIC = b"EOD1"
HEADER = struct.Struct("!4sHBBII")
HEADER_SIZE = HEADER.size
# An activation's header carries its trace, which grows by one entry per stage: allow all that u16 can say.
MAX_HEADER_LEN = 65535
DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024
NONCE_BYTES = 32
# asyncio's default 64 KiB stream limit pauses and resumes the socket dozens of times per MB; large limits
# and socket buffers let multi-MB activations arrive in few large reads.
STREAM_LIMIT = 8 * 1024 * 1024
SOCKET_BUFFER = 4 * 1024 * 1024


class Kind(enum.IntEnum):
    PING = 1
    PONG = 2
    HELLO = 3  # connector -> listener: empty; the listener's answer: payload = nonce
    AUTH = 4  # connector -> listener: extension = deployment id, payload = MAC; the answer: empty = accepted
    ACTIVATION = 5  # a tensor for a stage: extension = activation header, payload = encoded tensor
    ERROR = 6  # extension = UTF-8 message; request_id = that of the frame refused
    DONE = 7  # a stream frame's end, to its source: extension = JSON (see ``Done``)


class FrameError(ValueError):
    """The peer sent something that is not a frame we accept; the connection gets closed."""


class Rejected(Exception):
    """An activation handler refuses one frame: the sender gets an ERROR, the connection stays open."""


class AuthError(ConnectionError):
    """The listener refused our credentials for a deployment (retrying cannot help)."""


class PeerUnreachable(ConnectionError):
    """No connection to a peer could be made (after the retries)."""


@dataclass(frozen=True)
class Frame:
    kind: int
    request_id: int
    payload: Any = b""  # bytes-like
    flags: int = 0
    extension: bytes = b""


def frame_header(
    kind: int, request_id: int, payload_len: int, extension: bytes = b"", flags: int = 0
) -> bytes:
    header_len = HEADER_SIZE + len(extension)
    if header_len > MAX_HEADER_LEN:
        raise ValueError(f"header extension too long ({len(extension)} bytes)")
    fixed = HEADER.pack(MAGIC, header_len, kind, flags, request_id & 0xFFFFFFFF, payload_len)
    return fixed + extension


def encode_frame(frame: Frame) -> bytes:
    payload = memoryview(frame.payload)
    header = frame_header(frame.kind, frame.request_id, payload.nbytes, frame.extension, frame.flags)
    return header + payload.tobytes()


def _parse_fixed(fixed: bytes, max_payload: int) -> tuple[int, int, int, int, int]:
    magic, header_len, kind, flags, request_id, payload_len = HEADER.unpack(fixed)
    if magic != MAGIC:
        raise FrameError(f"bad magic {magic!r}")
    if not HEADER_SIZE <= header_len <= MAX_HEADER_LEN:
        raise FrameError(f"bad header length {header_len}")
    if payload_len > max_payload:
        raise FrameError(f"payload of {payload_len} bytes exceeds {max_payload}")
    return header_len, kind, flags, request_id, payload_len


async def read_frame(reader: asyncio.StreamReader, max_payload: int = DEFAULT_MAX_PAYLOAD) -> Frame:
    """Read one frame; raises ``FrameError`` before reading a payload it would not accept."""
    header_len, kind, flags, request_id, payload_len = _parse_fixed(
        await reader.readexactly(HEADER_SIZE), max_payload
    )
    extension = await reader.readexactly(header_len - HEADER_SIZE)
    payload = await reader.readexactly(payload_len)
    return Frame(kind, request_id, payload, flags, extension)


def parse_frame(data: bytes, max_payload: int = DEFAULT_MAX_PAYLOAD) -> Frame:
    """One whole frame held in memory (a binary websocket message): the payload is a view, not a copy."""
    if len(data) < HEADER_SIZE:
        raise FrameError(f"a frame of {len(data)} bytes is shorter than its header")
    header_len, kind, flags, request_id, payload_len = _parse_fixed(data[:HEADER_SIZE], max_payload)
    if len(data) != header_len + payload_len:
        raise FrameError(f"frame is {len(data)} bytes, its header says {header_len + payload_len}")
    view = memoryview(data)
    return Frame(kind, request_id, view[header_len:], flags, bytes(view[HEADER_SIZE:header_len]))


# --- activations -----------------------------------------------------------------------------------------

# The ACTIVATION extension, network byte order:
#   version u8 (1) | request_id i64 | stage u32 | ndim u8 | shape i64 * ndim
#   | deployment_id, tensor, dtype, codec, meta: each a u16 byte length then UTF-8
# ``meta`` is compact JSON holding small metadata only: codec params, trace, send time, stream session,
# stream source and the relayed mark. The tensor itself is the payload, raw bytes as the codec made them.
ACTIVATION_VERSION = 1
ACTIVATION_FIXED = struct.Struct("!BqIB")
_LENGTH = struct.Struct("!H")


@dataclass
class Activation:
    deployment_id: str
    request_id: int
    stage: int  # the stage that consumes it (in a ``result``: the stage that produced it)
    tensor: str
    dtype: str  # the tensor's own dtype and shape, as the receiving stage gets it after decoding
    shape: tuple[int, ...]
    codec: str = "raw"
    payload: Any = b""  # bytes-like
    params: dict[str, Any] = field(default_factory=dict)
    trace: list[dict[str, Any]] = field(default_factory=list)
    sent: float | None = None  # sender's wall clock when the send started
    session_id: str | None = None
    origin: dict[str, Any] | None = None  # a stream frame's source: {device_id, host, port}
    relayed: bool = False

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"params": self.params, "trace": self.trace, "sent": self.sent}
        if self.session_id is not None:
            meta["session_id"] = self.session_id
        if self.origin is not None:
            meta["origin"] = self.origin
        if self.relayed:
            meta["relayed"] = True
        return meta


def _pack_text(text: str) -> bytes:
    data = text.encode()
    return _LENGTH.pack(len(data)) + data


def activation_header(act: Activation) -> bytes:
    """The frame header (fixed part and extension) that goes before ``act.payload``."""
    extension = b"".join(
        [
            ACTIVATION_FIXED.pack(ACTIVATION_VERSION, act.request_id, act.stage, len(act.shape)),
            struct.pack(f"!{len(act.shape)}q", *act.shape),
            *(_pack_text(t) for t in (act.deployment_id, act.tensor, act.dtype, act.codec)),
            _pack_text(json.dumps(act.meta(), separators=(",", ":"))),
        ]
    )
    return frame_header(Kind.ACTIVATION, act.request_id, memoryview(act.payload).nbytes, extension)


def activation_bytes(act: Activation) -> bytes:
    """The whole frame in one buffer, for the control channel (a websocket message is one buffer anyway)."""
    return activation_header(act) + memoryview(act.payload).tobytes()


def parse_activation(frame: Frame) -> Activation:
    try:
        return _parse_activation(frame)
    except (struct.error, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise FrameError(f"malformed activation header: {exc}") from None


def _parse_activation(frame: Frame) -> Activation:
    ext = frame.extension
    version, request_id, stage, ndim = ACTIVATION_FIXED.unpack_from(ext, 0)
    if version != ACTIVATION_VERSION:
        raise ValueError(f"version {version} is not supported")
    offset = ACTIVATION_FIXED.size
    shape = struct.unpack_from(f"!{ndim}q", ext, offset)
    offset += 8 * ndim
    texts = []
    for _ in range(5):
        (length,) = _LENGTH.unpack_from(ext, offset)
        texts.append(ext[offset + 2 : offset + 2 + length].decode())
        offset += 2 + length
    deployment_id, tensor, dtype, codec, meta_text = texts
    meta = json.loads(meta_text)
    return Activation(
        deployment_id, request_id, stage, tensor, dtype, tuple(shape), codec, frame.payload,
        params=meta["params"], trace=meta["trace"], sent=meta.get("sent"),
        session_id=meta.get("session_id"), origin=meta.get("origin"), relayed=bool(meta.get("relayed")),
    )  # fmt: skip


@dataclass
class Done:
    """A stream frame has left the pipeline (``ok``) or failed at some stage; sent to the stream's source."""

    deployment_id: str
    session_id: str
    request_id: int
    ok: bool
    error: str | None
    trace: list[dict[str, Any]]

    def to_frame(self) -> Frame:
        body = json.dumps(self.__dict__, separators=(",", ":")).encode()
        return Frame(Kind.DONE, self.request_id, extension=body)

    @classmethod
    def from_frame(cls, frame: Frame) -> Done:
        try:
            return cls(**json.loads(frame.extension))
        except (ValueError, TypeError) as exc:
            raise FrameError(f"malformed DONE frame: {exc}") from None


def mac(secret: bytes, nonce: bytes, deployment_id: str) -> bytes:
    return hmac.new(secret, nonce + deployment_id.encode(), hashlib.sha256).digest()


def error_frame(request_id: int, message: str) -> Frame:
    return Frame(Kind.ERROR, request_id, extension=message.encode()[:4000])


# --- the listener ----------------------------------------------------------------------------------------


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


def _tune(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
    writer.transport.set_write_buffer_limits(high=SOCKET_BUFFER)


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
        _tune(writer)
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


# --- the connecting side ---------------------------------------------------------------------------------


async def open_stream(
    host: str, port: int, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, limit=STREAM_LIMIT), timeout)
    _tune(writer)
    return reader, writer


async def handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    deployment_id: str,
    secret: bytes,
    timeout: float = 5.0,
) -> None:
    """Authenticate this connection for ``deployment_id``; raises ``AuthError`` if the listener refuses."""
    writer.write(encode_frame(Frame(Kind.HELLO, 1)))
    challenge = await asyncio.wait_for(read_frame(reader, NONCE_BYTES), timeout)
    if challenge.kind != Kind.HELLO:
        raise FrameError(f"expected HELLO, got kind {challenge.kind}")
    proof = mac(secret, bytes(challenge.payload), deployment_id)
    writer.write(encode_frame(Frame(Kind.AUTH, 2, proof, extension=deployment_id.encode())))
    try:
        answer = await asyncio.wait_for(read_frame(reader, 0), timeout)
    except asyncio.IncompleteReadError:
        raise AuthError("the peer closed the connection during authentication") from None
    if answer.kind == Kind.ERROR:
        raise AuthError(answer.extension.decode(errors="replace"))
    if answer.kind != Kind.AUTH:
        raise FrameError(f"expected AUTH, got kind {answer.kind}")


ErrorCallback = Callable[[int, str], None]


def _log_peer_error(request_id: int, message: str) -> None:
    log.warning("dataplane: a peer refused request %d: %s", request_id, message)


class PeerLink:
    """One authenticated connection to a peer for one deployment; a reader task watches for ERROR replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, on_error: ErrorCallback):
        self._writer = writer
        self._on_error = on_error
        self._watcher = asyncio.create_task(self._watch(reader), name="dataplane-peer-watch")

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        deployment_id: str,
        secret: bytes,
        timeout: float = 5.0,
        on_error: ErrorCallback = _log_peer_error,
    ) -> PeerLink:
        reader, writer = await open_stream(host, port, timeout)
        try:
            await handshake(reader, writer, deployment_id, secret, timeout)
        except BaseException:
            writer.close()
            raise
        return cls(reader, writer, on_error)

    @property
    def closed(self) -> bool:
        return self._watcher.done() or self._writer.is_closing()

    async def send(self, act: Activation, shaper: LinkShaper | None = None) -> None:
        act.sent = time.time()  # before an emulated link's delay: the receiver's transfer_s includes it
        header = activation_header(act)
        payload = memoryview(act.payload).cast("B")
        if shaper is not None:
            await shaper.hold(len(header) + payload.nbytes)
        started = time.perf_counter()
        # Header and payload go as two writes: the payload's memory is handed to the socket as it is.
        self._writer.write(header)
        self._writer.write(payload)
        await self._writer.drain()
        if shaper is not None:
            shaper.observe(time.perf_counter() - started)

    async def send_frame(self, frame: Frame, shaper: LinkShaper | None = None) -> None:
        data = encode_frame(frame)
        if shaper is not None:
            await shaper.hold(len(data))
        self._writer.write(data)
        await self._writer.drain()

    async def _watch(self, reader: asyncio.StreamReader) -> None:
        # Only ERROR frames come back on an authenticated link; EOF ends the link (the pool reconnects).
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, FrameError):
            while True:
                frame = await read_frame(reader, 0)
                if frame.kind == Kind.ERROR:
                    self._on_error(frame.request_id, frame.extension.decode(errors="replace"))

    async def close(self) -> None:
        self._watcher.cancel()
        self._writer.close()
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await self._watcher
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


class PeerPool:
    """One link per (peer, deployment), opened on first use and reopened once when a send fails."""

    def __init__(self, connect_timeout: float = 5.0, on_error: ErrorCallback = _log_peer_error):
        self.connect_timeout = connect_timeout
        self.on_error = on_error
        self._links: dict[tuple[str, int, str], PeerLink] = {}
        self._locks: dict[tuple[str, int, str], asyncio.Lock] = {}

    async def send(
        self,
        host: str,
        port: int,
        deployment_id: str,
        secret: bytes,
        item: Activation | Frame,
        shaper: LinkShaper | None = None,
    ) -> None:
        """Send ``item`` (through ``shaper``, an emulated link, if given); raises ``AuthError`` (refused) or
        ``PeerUnreachable`` (failed twice)."""
        key = (host, port, deployment_id)
        for attempt in (1, 2):
            try:
                link = await self._link(key, secret)
                if isinstance(item, Activation):
                    await link.send(item, shaper)
                else:
                    await link.send_frame(item, shaper)
                return
            except AuthError:
                raise
            except (OSError, TimeoutError, asyncio.IncompleteReadError, FrameError) as exc:
                await self._drop(key)
                if attempt == 2:
                    raise PeerUnreachable(f"{host}:{port} unreachable: {exc or type(exc).__name__}") from None

    async def _link(self, key: tuple[str, int, str], secret: bytes) -> PeerLink:
        async with self._locks.setdefault(key, asyncio.Lock()):
            link = self._links.get(key)
            if link is None or link.closed:
                host, port, deployment_id = key
                link = await PeerLink.open(
                    host, port, deployment_id, secret, self.connect_timeout, self.on_error
                )
                self._links[key] = link
            return link

    async def _drop(self, key: tuple[str, int, str]) -> None:
        link = self._links.pop(key, None)
        if link is not None:
            await link.close()

    async def close(self, deployment_id: str | None = None) -> None:
        """Close every link (of one deployment, if given)."""
        for key in [k for k in self._links if deployment_id in (None, k[2])]:
            await self._drop(key)


async def ping(
    host: str, port: int, payload_bytes: int = 0, timeout: float = 5.0, shaper: LinkShaper | None = None
) -> float:
    """Round-trip time in seconds of one PING/PONG exchange (connection setup not included). With a
    ``shaper`` the exchange takes at least what the emulated link says, both ways."""
    reader, writer = await open_stream(host, port, timeout)
    try:
        request = Frame(Kind.PING, random.getrandbits(32), os.urandom(payload_bytes))
        data = encode_frame(request)
        started = time.perf_counter()
        emulated = shaper.delay(len(data), "up") if shaper is not None else 0.0
        writer.write(data)
        await writer.drain()
        reply = await asyncio.wait_for(read_frame(reader, max(payload_bytes, 0)), timeout)
        if shaper is not None:
            # The answer crosses the same link back; the real exchange already took part of the time.
            emulated += shaper.delay(len(data), "down")
            await asyncio.sleep(max(0.0, emulated - (time.perf_counter() - started)))
        rtt = time.perf_counter() - started
    except asyncio.IncompleteReadError:
        raise ConnectionError(f"{host}:{port} closed the connection (payload too large?)") from None
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    if reply.kind != Kind.PONG or reply.request_id != request.request_id or reply.payload != request.payload:
        raise FrameError(f"unexpected reply from {host}:{port}: kind {reply.kind}, id {reply.request_id}")
    return rtt
