"""The connecting side: one authenticated link per (peer, deployment), pooled and reopened once on failure."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from edgeorch_wire.aio import within
from edgeorch_wire.frames import (
    NONCE_BYTES,
    SEALED_FLAG,
    Activation,
    Frame,
    FrameError,
    Kind,
    activation_header,
    encode_frame,
    mac,
    read_frame,
)

from .seal import (
    CONNECTOR,
    LISTENER,
    Channel,
    SealedChannel,
    derive_keys,
    preferred_aeads,
    proof,
    transcript,
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
    seal: bool = True,
    aeads: Sequence[int] | None = None,
) -> Channel:
    """Authenticate this connection for ``deployment_id`` and return its frames, sealed unless ``seal`` is
    false (``--insecure-dataplane``) with one of ``aeads`` (default: all, fastest here first); raises
    ``AuthError`` if the listener refuses, or cannot prove that it holds the secret."""
    client_nonce = os.urandom(NONCE_BYTES) if seal else b""
    offer = bytes(aeads or preferred_aeads()) if seal else b""
    flags = SEALED_FLAG if seal else 0
    writer.write(encode_frame(Frame(Kind.HELLO, 1, client_nonce, flags=flags, extension=offer)))
    # A listener that hangs up before its HELLO is as good as unreachable (IncompleteReadError).
    challenge = await _answer(reader, Kind.HELLO, NONCE_BYTES, timeout)
    nonce = bytes(challenge.payload)
    if not seal:
        await _authenticate(reader, writer, mac(secret, nonce, deployment_id), deployment_id, timeout)
        return Channel(reader, writer)
    if not challenge.flags & SEALED_FLAG:
        raise AuthError("the listener does not encrypt its connections (an older agent?)")
    aead = challenge.extension[0] if len(challenge.extension) == 1 else 0
    if aead not in offer:
        raise FrameError(f"the listener chose AEAD {aead}, which was not offered")
    bound = transcript(client_nonce, nonce, aead)
    mine = proof(secret, CONNECTOR, bound, deployment_id)
    answer = await _authenticate(reader, writer, mine, deployment_id, timeout)
    if not hmac.compare_digest(bytes(answer.payload), proof(secret, LISTENER, bound, deployment_id)):
        raise AuthError(
            f"the listener did not prove that it holds the secret of deployment {deployment_id!r}"
        )
    send_key, receive_key = derive_keys(secret, bound, deployment_id)
    return SealedChannel(reader, writer, aead, send_key, receive_key)


async def _authenticate(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    mine: bytes,
    deployment_id: str,
    timeout: float,
) -> Frame:
    """Send our AUTH and return the listener's; its hanging up now means that it refused us."""
    writer.write(encode_frame(Frame(Kind.AUTH, 2, mine, extension=deployment_id.encode())))
    try:
        return await _answer(reader, Kind.AUTH, NONCE_BYTES, timeout)
    except asyncio.IncompleteReadError:
        raise AuthError("the peer closed the connection during authentication") from None


async def _answer(reader: asyncio.StreamReader, kind: Kind, max_payload: int, timeout: float) -> Frame:
    """The listener's next handshake frame, of ``kind``; its ERROR is an ``AuthError``."""
    frame = await within(read_frame(reader, max_payload), timeout)
    if frame.kind == Kind.ERROR:
        raise AuthError(frame.extension.decode(errors="replace"))
    if frame.kind != kind:
        raise FrameError(f"expected {kind.name}, got kind {frame.kind}")
    return frame


ErrorCallback = Callable[[int, str], None]


def _log_peer_error(request_id: int, message: str) -> None:
    log.warning("dataplane: a peer refused request %d: %s", request_id, message)


class PeerLink:
    """One authenticated connection to a peer for one deployment; a reader task watches for ERROR replies."""

    def __init__(self, channel: Channel, on_error: ErrorCallback):
        self._channel = channel
        self._on_error = on_error
        self._watcher = asyncio.create_task(self._watch(), name="dataplane-peer-watch")

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        deployment_id: str,
        secret: bytes,
        timeout: float = 5.0,
        on_error: ErrorCallback = _log_peer_error,
        seal: bool = True,
    ) -> PeerLink:
        reader, writer = await open_stream(host, port, timeout)
        try:
            channel = await handshake(reader, writer, deployment_id, secret, timeout, seal)
        except BaseException:
            writer.close()
            raise
        return cls(channel, on_error)

    @property
    def sealed(self) -> bool:
        return self._channel.sealed

    @property
    def closed(self) -> bool:
        return self._watcher.done() or self._channel.writer.is_closing()

    async def send(self, act: Activation, shaper: LinkShaper | None = None) -> None:
        act.sent = time.time()  # before an emulated link's delay: the receiver's transfer_s includes it
        header = activation_header(act)
        payload = memoryview(act.payload).cast("B")
        if shaper is not None:
            await shaper.hold(len(header) + payload.nbytes)
        started = time.perf_counter()
        # Header and payload go as two writes: the payload's memory is handed to the socket (plain) or to the
        # cipher (sealed) as it is.
        self._channel.write(header)
        self._channel.write(payload)
        await self._channel.drain()
        if shaper is not None:
            shaper.observe(time.perf_counter() - started)

    async def send_frame(self, frame: Frame, shaper: LinkShaper | None = None) -> None:
        data = encode_frame(frame)
        if shaper is not None:
            await shaper.hold(len(data))
        self._channel.write(data)
        await self._channel.drain()

    async def _watch(self) -> None:
        # Only ERROR frames come back on an authenticated link; EOF ends the link (the pool reconnects).
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, FrameError):
            while True:
                frame = await self._channel.read_frame(0)
                if frame.kind == Kind.ERROR:
                    self._on_error(frame.request_id, frame.extension.decode(errors="replace"))

    async def close(self) -> None:
        self._watcher.cancel()
        self._channel.writer.close()
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await self._watcher
        with contextlib.suppress(ConnectionError):
            await self._channel.writer.wait_closed()


class PeerPool:
    """One link per (peer, deployment), opened on first use and reopened once when a send fails; sealed
    unless ``seal`` is false (``--insecure-dataplane``)."""

    def __init__(
        self, connect_timeout: float = 5.0, on_error: ErrorCallback = _log_peer_error, seal: bool = True
    ):
        self.connect_timeout = connect_timeout
        self.on_error = on_error
        self.seal = seal
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
                    host, port, deployment_id, secret, self.connect_timeout, self.on_error, self.seal
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
