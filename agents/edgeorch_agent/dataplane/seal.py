"""Connections as frame streams: plain (the handshake, ``--insecure-dataplane``) or sealed (the default).

A sealed connection derives one key per direction from the deployment's secret, both handshake nonces and
the AEAD the listener chose (HKDF-SHA256), and carries the same frame stream as a plain one, cut into SEALED
frames: the 16-byte EOD1 header (kind SEALED, ``request_id`` = the record's number's low 32 bits,
``payload_len`` = ciphertext + tag) and the sealed bytes of up to ``RECORD_BYTES`` of the stream, with that
header as associated data and the record's number (counted per direction from 0) as nonce. A record
altered, dropped, replayed or reordered in transit fails its tag, and the reading side closes the connection.

The AEAD is AES-256-GCM or ChaCha20-Poly1305: the connector offers both, fastest on its machine first, and
the listener picks the first of its own order that was offered. AES-GCM is the faster where the CPU has AES
instructions (x86, most ARMv8 boards), ChaCha20-Poly1305 where it has not (a Raspberry Pi 4).
Large payloads go in several records, each written to the socket as soon as it is sealed, so the receiver
opens one while the sender seals the next (docs/benchmarks.md, "Data plane").
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import time
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from edgeorch_wire.frames import HEADER, HEADER_SIZE, MAGIC, Frame, FrameError, Kind, read_frame

# Plaintext bytes per record: large enough that the per-record cost (32 bytes, one AEAD call) is noise,
# small enough that sealing, sending and opening overlap.
RECORD_BYTES = 256 * 1024
TAG_BYTES = 16
KEY_LABEL = b"edgeorch EOD1 sealed "

# The AEADs by their id on the wire (one byte each in the HELLOs' extension). Both take 32-byte keys and
# 12-byte nonces and append a 16-byte tag.
CHACHA20_POLY1305, AES_256_GCM = 1, 2
AEADS: dict[int, tuple[str, type[ChaCha20Poly1305] | type[AESGCM]]] = {
    CHACHA20_POLY1305: ("ChaCha20-Poly1305", ChaCha20Poly1305),
    AES_256_GCM: ("AES-256-GCM", AESGCM),
}

# Each side's proof that it holds the deployment's secret, bound to both nonces (and so to this connection)
# and to the AEAD chosen.
CONNECTOR, LISTENER = b"connector", b"listener"


@functools.cache
def preferred_aeads() -> tuple[int, ...]:
    """The AEADs, fastest on this machine first (timed once: the best of three 64 KiB seals each)."""
    sample, nonce = bytes(64 * 1024), bytes(12)

    def cost(aead_id: int) -> float:
        aead = AEADS[aead_id][1](bytes(32))
        times = []
        for _ in range(3):
            started = time.perf_counter()
            aead.encrypt(nonce, sample, None)
            times.append(time.perf_counter() - started)
        return min(times)

    return tuple(sorted(AEADS, key=cost))


def choose_aead(offered: Iterable[int]) -> int | None:
    """The listener's choice among a connector's offer: the first of this machine's order that it offers."""
    return next((aead_id for aead_id in preferred_aeads() if aead_id in set(offered)), None)


def proof(secret: bytes, role: bytes, transcript: bytes, deployment_id: str) -> bytes:
    return hmac.new(secret, role + transcript + deployment_id.encode(), hashlib.sha256).digest()


def transcript(client_nonce: bytes, server_nonce: bytes, aead_id: int) -> bytes:
    """What both proofs and the keys are bound to: both nonces and the AEAD chosen."""
    return client_nonce + server_nonce + bytes([aead_id])


def derive_keys(secret: bytes, transcript: bytes, deployment_id: str) -> tuple[bytes, bytes]:
    """The connector-to-listener and listener-to-connector keys of one connection."""
    hkdf = HKDF(SHA256(), 64, salt=transcript, info=KEY_LABEL + deployment_id.encode())
    keys = hkdf.derive(secret)
    return keys[:32], keys[32:]


class Channel:
    """A connection's frames as they are on the wire: the handshake, and all with --insecure-dataplane."""

    sealed = False
    aead: str | None = None

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writer.write(data)

    async def drain(self) -> None:
        await self.writer.drain()

    async def read_frame(self, max_payload: int) -> Frame:
        return await read_frame(self.reader, max_payload)


def _nonce(number: int) -> bytes:
    return bytes(4) + number.to_bytes(8, "big")


class SealedChannel(Channel):
    """The same frames, encrypted and authenticated record by record (see the module's docstring)."""

    sealed = True

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        aead_id: int,
        send_key: bytes,
        receive_key: bytes,
    ):
        super().__init__(reader, writer)
        self.aead = AEADS[aead_id][0]
        aead = AEADS[aead_id][1]
        self._sealer, self._opener = aead(send_key), aead(receive_key)
        self._sent = self._opened = 0  # records so far each way: the next record's nonce
        self._left = memoryview(b"")  # opened bytes not read yet (a record holding more than one read)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        for start in range(0, view.nbytes, RECORD_BYTES):
            self._seal(view[start : start + RECORD_BYTES])

    def _seal(self, chunk: memoryview) -> None:
        header = HEADER.pack(
            MAGIC, HEADER_SIZE, Kind.SEALED, 0, self._sent & 0xFFFFFFFF, chunk.nbytes + TAG_BYTES
        )
        record = bytearray(HEADER_SIZE + chunk.nbytes + TAG_BYTES)
        record[:HEADER_SIZE] = header
        self._sealer.encrypt_into(_nonce(self._sent), chunk, header, memoryview(record)[HEADER_SIZE:])
        self._sent += 1
        self.writer.write(record)  # at once: the peer opens this record while we seal the next

    async def read_frame(self, max_payload: int) -> Frame:
        return await read_frame(self, max_payload)

    async def readexactly(self, n: int, /) -> bytes:
        """``n`` opened bytes. A read that covers whole records is decrypted straight into its buffer."""
        if n <= self._left.nbytes:
            data, self._left = bytes(self._left[:n]), self._left[n:]
            return data
        out = bytearray(n)
        view = memoryview(out)
        filled = self._left.nbytes
        view[:filled], self._left = self._left, memoryview(b"")
        while filled < n:
            header, ciphertext = await self._next_record()
            size = len(ciphertext) - TAG_BYTES
            if size <= n - filled:
                self._open(header, ciphertext, view[filled : filled + size])
                filled += size
            else:
                opened = memoryview(bytearray(size))
                self._open(header, ciphertext, opened)
                view[filled:], self._left = opened[: n - filled], opened[n - filled :]
                filled = n
        return out  # type: ignore[return-value]  # a bytearray: frame payloads need only be bytes-like

    async def _next_record(self) -> tuple[bytes, bytes]:
        header = await self.reader.readexactly(HEADER_SIZE)
        magic, header_len, kind, _flags, _number, size = HEADER.unpack(header)
        if magic != MAGIC or header_len != HEADER_SIZE or kind != Kind.SEALED:
            raise FrameError(f"expected a sealed frame, got magic {magic!r} kind {kind}")
        if not TAG_BYTES < size <= RECORD_BYTES + TAG_BYTES:
            raise FrameError(f"a sealed frame of {size} bytes is out of bounds")
        return header, await self.reader.readexactly(size)

    def _open(self, header: bytes, ciphertext: bytes, into: memoryview) -> None:
        try:
            self._opener.decrypt_into(_nonce(self._opened), ciphertext, header, into)
        except InvalidTag:
            raise FrameError("a sealed frame failed authentication (altered in transit?)") from None
        self._opened += 1
