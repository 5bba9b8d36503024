"""The data plane: the agent's own TCP listener for peer-to-peer binary frames.

Today it only answers PING with PONG, so peers and the control plane can check that an agent is reachable
and measure the round-trip time. Later kinds (activations) reuse the same framing.

Frame layout (network byte order), 16 fixed bytes then optional header extension then payload::

    offset size  field
    0      4     magic        b"EOD1"
    4      2     header_len   bytes of the whole header, fixed part included (>= 16, <= 4096)
    6      1     kind         1 = PING, 2 = PONG
    7      1     flags        0 for now
    8      4     request_id   chosen by the requester, echoed in the reply
    12     4     payload_len  bytes of payload after the header (bounded by the receiver, 16 MiB default)
    16     ...   extension    header_len - 16 bytes, kind-specific (later: dtype, shape, codec)
    ...    ...   payload

``header_len`` lets the header grow without a new magic: a reader that does not know a kind's extension
still knows where the payload starts. A frame with a bad magic, a bad header length, an oversized payload or
an unknown kind makes the listener close that connection; the listener itself carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import random
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAGIC = b"EOD1"
HEADER = struct.Struct("!4sHBBII")
HEADER_SIZE = HEADER.size
MAX_HEADER_LEN = 4096
DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024


class Kind(enum.IntEnum):
    PING = 1
    PONG = 2


class FrameError(ValueError):
    """The peer sent something that is not a frame we accept; the connection gets closed."""


@dataclass(frozen=True)
class Frame:
    kind: int
    request_id: int
    payload: bytes = b""
    flags: int = 0
    extension: bytes = b""


def encode_frame(frame: Frame) -> bytes:
    header_len = HEADER_SIZE + len(frame.extension)
    if header_len > MAX_HEADER_LEN:
        raise ValueError(f"header extension too long ({len(frame.extension)} bytes)")
    fixed = HEADER.pack(MAGIC, header_len, frame.kind, frame.flags, frame.request_id, len(frame.payload))
    return fixed + frame.extension + frame.payload


async def read_frame(reader: asyncio.StreamReader, max_payload: int = DEFAULT_MAX_PAYLOAD) -> Frame:
    """Read one frame; raises ``FrameError`` before reading a payload it would not accept."""
    fixed = await reader.readexactly(HEADER_SIZE)
    magic, header_len, kind, flags, request_id, payload_len = HEADER.unpack(fixed)
    if magic != MAGIC:
        raise FrameError(f"bad magic {magic!r}")
    if not HEADER_SIZE <= header_len <= MAX_HEADER_LEN:
        raise FrameError(f"bad header length {header_len}")
    if payload_len > max_payload:
        raise FrameError(f"payload of {payload_len} bytes exceeds {max_payload}")
    extension = await reader.readexactly(header_len - HEADER_SIZE)
    payload = await reader.readexactly(payload_len)
    return Frame(kind, request_id, payload, flags, extension)


def _pong(frame: Frame) -> Frame:
    return Frame(Kind.PONG, frame.request_id, frame.payload)


# What each request kind is answered with; later issues register activation handlers here.
HANDLERS: dict[int, Callable[[Frame], Frame]] = {Kind.PING: _pong}


class DataplaneServer:
    """The listener. Bounded: payload size, concurrent connections and idle time per connection."""

    def __init__(
        self, max_payload: int = DEFAULT_MAX_PAYLOAD, max_connections: int = 64, idle_timeout: float = 60.0
    ):
        self.max_payload = max_payload
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.StreamWriter, asyncio.Task[None]] = {}

    async def start(self, host: str = "0.0.0.0", port: int = 0) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._handle, host, port)
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
        while True:
            frame = await asyncio.wait_for(read_frame(reader, self.max_payload), self.idle_timeout)
            handler = HANDLERS.get(frame.kind)
            if handler is None:
                raise FrameError(f"unknown frame kind {frame.kind}")
            writer.write(encode_frame(handler(frame)))
            await writer.drain()  # back-pressure: a peer that does not read stops being served


async def ping(host: str, port: int, payload_bytes: int = 0, timeout: float = 5.0) -> float:
    """Round-trip time in seconds of one PING/PONG exchange (connection setup not included)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        request = Frame(Kind.PING, random.getrandbits(32), os.urandom(payload_bytes))
        started = time.perf_counter()
        writer.write(encode_frame(request))
        await writer.drain()
        reply = await asyncio.wait_for(read_frame(reader, max(payload_bytes, 0)), timeout)
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
