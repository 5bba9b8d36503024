"""Socket set-up shared by the listener and the connecting side: large stream limits and buffers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable

from edgeorch_wire.aio import within

# asyncio's default 64 KiB stream limit pauses and resumes the socket dozens of times per MB; large limits
# and socket buffers let multi-MB activations arrive in few large reads.
STREAM_LIMIT = 8 * 1024 * 1024
SOCKET_BUFFER = 4 * 1024 * 1024


def tune(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
    writer.transport.set_write_buffer_limits(high=SOCKET_BUFFER)


async def open_stream(
    host: str, port: int, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await within(asyncio.open_connection(host, port, limit=STREAM_LIMIT), timeout)
    tune(writer)
    return reader, writer


class CountingReader(asyncio.StreamReader):
    """A stream reader that counts the bytes it was given and those read from it, so that the listener can
    tell a peer that stopped in the middle of a frame (stalled: bytes arrived since the frame began) from one
    between frames (idle)."""

    received = 0
    consumed = 0

    def feed_data(self, data: bytes) -> None:  # type: ignore[override]  # the protocol feeds bytes
        self.received += len(data)
        super().feed_data(data)

    async def readexactly(self, n: int) -> bytes:
        data = await super().readexactly(n)
        self.consumed += n
        return data


Handler = Callable[[CountingReader, asyncio.StreamWriter], Awaitable[None]]


async def start_server(handle: Handler, host: str, port: int) -> asyncio.Server:
    """``asyncio.start_server`` with counting readers."""
    loop = asyncio.get_running_loop()

    def factory() -> asyncio.StreamReaderProtocol:
        reader = CountingReader(limit=STREAM_LIMIT)
        return asyncio.StreamReaderProtocol(reader, handle)  # type: ignore[arg-type]  # it calls with ours

    return await loop.create_server(factory, host, port)
