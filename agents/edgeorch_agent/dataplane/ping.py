"""PING/PONG round trips: reachability, RTT and bandwidth probes (no authentication needed)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from typing import TYPE_CHECKING

from edgeorch_wire.aio import within
from edgeorch_wire.frames import Frame, FrameError, Kind, encode_frame, read_frame

from .sockets import open_stream

if TYPE_CHECKING:
    from ..emulation.links import LinkShaper


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
        reply = await within(read_frame(reader, max(payload_bytes, 0)), timeout)
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
