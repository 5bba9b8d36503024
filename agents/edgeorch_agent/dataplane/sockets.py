"""Socket set-up shared by the listener and the connecting side: large stream limits and buffers."""

from __future__ import annotations

import asyncio
import contextlib
import socket

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
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, limit=STREAM_LIMIT), timeout)
    tune(writer)
    return reader, writer
