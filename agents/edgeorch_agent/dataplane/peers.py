"""The connecting side: one authenticated link per (peer, deployment), pooled and reopened once on failure."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from edgeorch_wire.frames import (
    NONCE_BYTES,
    Activation,
    Frame,
    FrameError,
    Kind,
    activation_header,
    encode_frame,
    mac,
    read_frame,
)

from .sockets import open_stream

if TYPE_CHECKING:
    from ..emulation.links import LinkShaper

log = logging.getLogger("edgeorch_agent.dataplane")


class AuthError(ConnectionError):
    """The listener refused our credentials for a deployment (retrying cannot help)."""


class PeerUnreachable(ConnectionError):
    """No connection to a peer could be made (after the retries)."""


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
