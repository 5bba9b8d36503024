"""The data plane's frames: the EOD1 layout, the ACTIVATION header, DONE, and the handshake's MAC.

The codec only (no sockets): the agent's listener and peer links (``edgeorch_agent.dataplane``) and the
control plane (a relayed or final activation arrives as one websocket message) read and write frames with it.
The layout of every frame and of each kind's header is in docs/protocol.md.

Frame layout (network byte order), 16 fixed bytes then optional header extension then payload::

    offset size  field
    0      4     magic        b"EOD1"
    4      2     header_len   bytes of the whole header, fixed part included (>= 16, <= 65535)
    6      1     kind         see ``Kind``
    7      1     flags        0, except HELLO's ``SEALED_FLAG``
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
ERROR and closes (unknown deployment, wrong MAC). That is the plain handshake, for agents run with
``--insecure-dataplane``; by default both HELLOs carry the ``SEALED_FLAG`` and a nonce each, both sides prove
the secret, and every later frame travels encrypted and authenticated inside SEALED frames (the agent's
``edgeorch_agent.dataplane.seal``; docs/protocol.md, "Sealed frames").
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import struct
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

import msgspec
from msgspec import Meta

from .qos import DEFAULT_PRIORITY, MAX_PRIORITY

MAGIC = b"EOD1"
HEADER = struct.Struct("!4sHBBII")
HEADER_SIZE = HEADER.size
# An activation's header carries its trace, which grows by one entry per stage: allow all that u16 can say.
MAX_HEADER_LEN = 65535
DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024
NONCE_BYTES = 32


class Kind(enum.IntEnum):
    PING = 1
    PONG = 2
    HELLO = 3  # connector -> listener: empty; the listener's answer: payload = nonce
    AUTH = 4  # connector -> listener: extension = deployment id, payload = MAC; the answer: empty = accepted
    ACTIVATION = 5  # a tensor for a stage: extension = activation header, payload = encoded tensor
    ERROR = 6  # extension = UTF-8 message; request_id = that of the frame refused
    DONE = 7  # a stream frame's end, to its source: extension = JSON (see ``Done``)
    SEALED = 8  # after a sealed handshake: payload = ciphertext and tag of the next bytes of the frame stream


# HELLO's flags: the connector asks for (and the listener grants) a sealed connection; the HELLOs then carry
# a nonce each.
SEALED_FLAG = 0x01


class FrameError(ValueError):
    """The peer sent something that is not a frame we accept; the connection gets closed."""


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


class ByteStream(Protocol):
    """What ``read_frame`` reads from: an ``asyncio.StreamReader``, or a sealed connection's opened bytes."""

    async def readexactly(self, n: int, /) -> bytes: ...


async def read_frame(reader: ByteStream, max_payload: int = DEFAULT_MAX_PAYLOAD) -> Frame:
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
# ``meta`` is compact JSON holding small metadata only (``ActivationMeta``): codec params, trace, send time,
# stream session, stream source, the relayed mark, and the request's priority and deadline. The tensor
# itself is the payload, raw bytes as the codec made them.
ACTIVATION_VERSION = 1
ACTIVATION_FIXED = struct.Struct("!BqIB")
_LENGTH = struct.Struct("!H")


class ActivationMeta(msgspec.Struct, omit_defaults=True):
    """The JSON part of an ACTIVATION header; the optional fields are left out when unset."""

    params: dict[str, Any]  # the codec's
    trace: list[dict[str, Any]]
    sent: float | None  # sender's wall clock when the send started
    session_id: str | None = None
    origin: dict[str, Any] | None = None  # a stream frame's source: {device_id, host, port}
    relayed: bool = False
    # Per-request QoS (edgeorch_wire.qos): the priority class's rank (higher first) and the absolute deadline
    # (Unix seconds on the source's clock; none: no deadline). An older sender's activation has neither.
    priority: Annotated[int, Meta(ge=0, le=MAX_PRIORITY)] = DEFAULT_PRIORITY
    deadline: Annotated[float, Meta(ge=0, le=1e11)] | None = None


_META_ENCODER = msgspec.json.Encoder()
_META_DECODER = msgspec.json.Decoder(ActivationMeta)


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
    priority: int = DEFAULT_PRIORITY  # edgeorch_wire.qos: the rank of the request's priority class
    deadline: float | None = None  # Unix seconds by which the request's answer is due (None: no deadline)

    def meta(self) -> ActivationMeta:
        return ActivationMeta(
            self.params,
            self.trace,
            self.sent,
            self.session_id,
            self.origin,
            self.relayed,
            priority=self.priority,
            deadline=self.deadline,
        )


def _pack_text(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return _LENGTH.pack(len(data)) + data


def activation_header(act: Activation) -> bytes:
    """The frame header (fixed part and extension) that goes before ``act.payload``."""
    extension = b"".join(
        [
            ACTIVATION_FIXED.pack(ACTIVATION_VERSION, act.request_id, act.stage, len(act.shape)),
            struct.pack(f"!{len(act.shape)}q", *act.shape),
            *(_pack_text(t) for t in (act.deployment_id, act.tensor, act.dtype, act.codec)),
            _pack_text(_META_ENCODER.encode(act.meta())),
        ]
    )
    return frame_header(Kind.ACTIVATION, act.request_id, memoryview(act.payload).nbytes, extension)


def activation_bytes(act: Activation) -> bytes:
    """The whole frame in one buffer, for the control channel (a websocket message is one buffer anyway)."""
    return activation_header(act) + memoryview(act.payload).tobytes()


def parse_activation(frame: Frame) -> Activation:
    try:
        return _parse_activation(frame)
    except (struct.error, UnicodeDecodeError, ValueError, msgspec.DecodeError) as exc:
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
    for _ in range(4):
        (length,) = _LENGTH.unpack_from(ext, offset)
        texts.append(ext[offset + 2 : offset + 2 + length].decode())
        offset += 2 + length
    (length,) = _LENGTH.unpack_from(ext, offset)
    meta = _META_DECODER.decode(ext[offset + 2 : offset + 2 + length])
    deployment_id, tensor, dtype, codec = texts
    return Activation(
        deployment_id,
        request_id,
        stage,
        tensor,
        dtype,
        tuple(shape),
        codec,
        frame.payload,
        params=meta.params,
        trace=meta.trace,
        sent=meta.sent,
        session_id=meta.session_id,
        origin=meta.origin,
        relayed=meta.relayed,
        priority=meta.priority,
        deadline=meta.deadline,
    )


class TensorPart(msgspec.Struct):
    """One output tensor carried in a DONE frame's payload: ``nbytes`` raw bytes from ``offset``."""

    name: str
    dtype: str
    shape: list[int]
    offset: int
    nbytes: int


class Done(msgspec.Struct, omit_defaults=True):
    """A request sourced by an agent (a stream frame, a served request) has left the pipeline (``ok``) or
    failed at some stage; sent to its source.

    ``output`` summarises the last stage's first output (name, shape, dtype, top_k). When the request's
    origin asked for a reply (``origin["reply"]``: a served request), ``tensors`` lists the last stage's
    outputs and the frame's payload holds their raw bytes, C order, one after the other. ``dropped``: a stage
    dropped it before computing it because its deadline could no longer be met (``error`` says why)."""

    deployment_id: str
    session_id: str
    request_id: int
    ok: bool
    error: str | None
    trace: list[dict[str, Any]]
    output: dict[str, Any] | None = None
    tensors: list[TensorPart] | None = None
    dropped: bool = False
    payload: Any = msgspec.field(default=b"", name="-payload")

    def to_frame(self) -> Frame:
        payload, self.payload = self.payload, b""
        try:
            return Frame(Kind.DONE, self.request_id, payload, extension=_META_ENCODER.encode(self))
        finally:
            self.payload = payload

    @classmethod
    def from_frame(cls, frame: Frame) -> Done:
        try:
            done = msgspec.json.decode(frame.extension, type=cls)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise FrameError(f"malformed DONE frame: {exc}") from None
        size = memoryview(frame.payload).nbytes
        for part in done.tensors or []:
            if part.offset < 0 or part.nbytes < 0 or part.offset + part.nbytes > size:
                raise FrameError(f"DONE tensor {part.name!r} lies outside the frame's {size}-byte payload")
        done.payload = frame.payload
        return done


def mac(secret: bytes, nonce: bytes, deployment_id: str) -> bytes:
    return hmac.new(secret, nonce + deployment_id.encode(), hashlib.sha256).digest()


def error_frame(request_id: int, message: str) -> Frame:
    return Frame(Kind.ERROR, request_id, extension=message.encode()[:4000])
