"""The control-channel wire protocol, version 1 (documented in docs/protocol.md).

Every control message is one JSON text frame, an object with ``v`` (protocol version), ``type`` and the
fields of that type. The control plane imports these definitions from here, so both ends validate the same
way. Tensors never travel on this channel (see ``edgeorch_agent.dataplane``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

VERSION = 1

# Websocket close codes (4000-4999 are free for applications).
CLOSE_AUTH_FAILED = 4001
CLOSE_PROTOCOL = 4002
CLOSE_REVOKED = 4003
CLOSE_REPLACED = 4004
CLOSE_IDENTITY = 4009
CLOSE_TOO_BIG = 4013  # like HTTP 413; Daphne lets applications close only with 1000 or 3000-4999
# Close codes after which reconnecting cannot help: the agent stops instead of retrying.
FATAL_CLOSE_CODES = frozenset({CLOSE_AUTH_FAILED, CLOSE_REVOKED, CLOSE_IDENTITY})

MAX_RECORDS_PER_BATCH = 5000
MAX_METRICS_PER_RECORD = 512
MAX_METRIC_NAME = 64
# The largest upload the control plane's link-probe endpoint accepts (and an agent sends it in a probe).
LINK_PROBE_MAX_BYTES = 8 * 1024 * 1024


class ProtocolError(ValueError):
    """A message that cannot be accepted. ``code`` is machine-readable, the message says what was wrong."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _require(data: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if name not in data:
        raise ProtocolError("missing_field", f"{where}: field {name!r} is required")
    value = data[name]
    # bool is an int in Python; a protocol that wants a number does not want true/false.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ProtocolError(
            "wrong_type", f"{where}: field {name!r} must be {_kind_name(kind)}, not a boolean"
        )
    if not isinstance(value, kind):
        raise ProtocolError(
            "wrong_type", f"{where}: field {name!r} must be {_kind_name(kind)}, not {type(value).__name__}"
        )
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "an integer", float: "a number", str: "a string", dict: "an object", list: "an array"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


@dataclass
class Message:
    """Base of every control message."""

    type: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"v": VERSION, "type": self.type, **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# --- agent -> control plane --------------------------------------------------------------------------


@dataclass
class Hello(Message):
    """First message on every connection: who the agent is and what its device has."""

    type: ClassVar[str] = "hello"
    device_id: str
    agent_version: str
    inventory: dict[str, Any]
    dataplane: dict[str, Any] | None = None
    profile: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hello:
        _require(data, "device_id", str, "hello")
        _require(data, "agent_version", str, "hello")
        _require(data, "inventory", dict, "hello")
        dataplane = data.get("dataplane")
        if dataplane is not None:
            _require(data, "dataplane", dict, "hello")
            _require(dataplane, "host", str, "hello.dataplane")
            port = _require(dataplane, "port", int, "hello.dataplane")
            if not 0 < port < 65536:
                raise ProtocolError("bad_value", f"hello.dataplane: port {port} is out of range")
        if data.get("profile") is not None:
            _require(data, "profile", str, "hello")
        return cls(
            device_id=data["device_id"],
            agent_version=data["agent_version"],
            inventory=data["inventory"],
            dataplane=dataplane,
            profile=data.get("profile"),
        )


@dataclass
class Record:
    """All of one device's metrics at one instant. ``seq`` numbers records per device, from 0 upwards."""

    seq: int
    ts: float
    metrics: dict[str, float]


@dataclass
class Telemetry(Message):
    """A batch of records. ``dropped`` counts records the agent discarded since it started (buffer full)."""

    type: ClassVar[str] = "telemetry"
    records: list[Record] = field(default_factory=list)
    dropped: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "type": self.type,
            "records": [{"seq": r.seq, "ts": r.ts, "metrics": r.metrics} for r in self.records],
            "dropped": self.dropped,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Telemetry:
        raw = _require(data, "records", list, "telemetry")
        if len(raw) > MAX_RECORDS_PER_BATCH:
            raise ProtocolError("too_many", f"telemetry: {len(raw)} records exceed {MAX_RECORDS_PER_BATCH}")
        dropped = data.get("dropped", 0)
        if isinstance(dropped, bool) or not isinstance(dropped, int) or dropped < 0:
            raise ProtocolError("wrong_type", "telemetry: field 'dropped' must be a non-negative integer")
        return cls(records=[_parse_record(r, i) for i, r in enumerate(raw)], dropped=dropped)


def _parse_record(raw: Any, index: int) -> Record:
    where = f"telemetry.records[{index}]"
    if not isinstance(raw, dict):
        raise ProtocolError("wrong_type", f"{where} must be an object")
    seq = _require(raw, "seq", int, where)
    if seq < 0:
        raise ProtocolError("bad_value", f"{where}: seq must be >= 0")
    ts = float(_require(raw, "ts", (int, float), where))
    metrics = _require(raw, "metrics", dict, where)
    if len(metrics) > MAX_METRICS_PER_RECORD:
        raise ProtocolError("too_many", f"{where}: more than {MAX_METRICS_PER_RECORD} metrics")
    clean: dict[str, float] = {}
    for name, value in metrics.items():
        if len(name) > MAX_METRIC_NAME:
            raise ProtocolError("bad_value", f"{where}: metric name {name[:20]!r}... is too long")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ProtocolError("wrong_type", f"{where}: metric {name!r} must be a finite number")
        clean[name] = float(value)
    return Record(seq=seq, ts=ts, metrics=clean)


# --- control plane -> agent --------------------------------------------------------------------------


@dataclass
class Welcome(Message):
    """Reply to ``hello``. ``last_seq`` is the highest telemetry seq already stored (-1 for none)."""

    type: ClassVar[str] = "welcome"
    device_id: str
    name: str
    telemetry_interval: float
    heartbeat_timeout: float
    last_seq: int


@dataclass
class Ack(Message):
    """Telemetry up to and including every seq in the batch is stored (``stored`` new, ``duplicates`` seen)."""

    type: ClassVar[str] = "ack"
    seqs: list[int]
    stored: int
    duplicates: int


@dataclass
class Error(Message):
    """A message was refused; the connection stays open unless a close follows."""

    type: ClassVar[str] = "error"
    code: str
    message: str


# --- execution (docs/protocol.md, "Execution") -----------------------------------------------------------
# Nested structures (stages, tensors, traces) stay plain dicts: the agent's runtime checks a deploy's stages
# in depth when it builds them, and answers a bad one with ``deploy_status`` rather than a dropped message.


def _optional(data: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    return None if data.get(name) is None else _require(data, name, kind, where)


def _positive(data: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = _require(data, name, kind, where)
    if not value > 0:
        raise ProtocolError("bad_value", f"{where}: {name} must be positive")
    return value


@dataclass
class Deploy(Message):
    """Load the stages of a deployment that this agent runs; answered by ``deploy_status``."""

    type: ClassVar[str] = "deploy"
    deployment_id: str
    secret: str
    stages: list[dict[str, Any]]
    threads: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deploy:
        _require(data, "deployment_id", str, "deploy")
        _require(data, "secret", str, "deploy")
        stages = _require(data, "stages", list, "deploy")
        for i, stage in enumerate(stages):
            where = f"deploy.stages[{i}]"
            if not isinstance(stage, dict):
                raise ProtocolError("wrong_type", f"{where} must be an object")
            _require(stage, "stage", int, where)
            _require(stage, "url", str, where)
            _require(stage, "sha256", str, where)
            _require(stage, "inputs", list, where)
            _require(stage, "outputs", list, where)
            hop = _optional(stage, "next", dict, where)
            if hop is not None:
                for name, kind in (("device_id", str), ("host", str), ("port", int), ("codec", str)):
                    _require(hop, name, kind, f"{where}.next")
        _optional(data, "threads", int, "deploy")
        return cls(data["deployment_id"], data["secret"], stages, data.get("threads"))


@dataclass
class Run(Message):
    """Run one request: the source agent gets the input (.npy) and starts the chain at ``first_stage``.

    With ``inline`` the input's .npy bytes follow as the next binary frame on the control channel (small
    inputs: saves the agent an HTTP round trip); otherwise the agent downloads ``input_url``. With ``entry``
    (as in ``stream``) the first stage runs on a peer: the source sends the input there over the data plane.
    """

    type: ClassVar[str] = "run"
    deployment_id: str
    request_id: int
    first_stage: int
    input_url: str
    inline: bool = False
    entry: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        for name, kind in (
            ("deployment_id", str),
            ("request_id", int),
            ("first_stage", int),
            ("input_url", str),
        ):
            _require(data, name, kind, "run")
        _check_entry(data, "run")
        return super().from_dict(data)  # type: ignore[return-value]


@dataclass
class Stream(Message):
    """Emit ``frames`` requests at ``rate`` per second, at most ``max_in_flight`` in the pipeline at once."""

    type: ClassVar[str] = "stream"
    deployment_id: str
    session_id: str
    first_stage: int
    input_url: str
    rate: float
    frames: int
    max_in_flight: int = 1
    report_every: int = 10
    # Where the first stage runs when it is not on this agent: the source then sends each frame's input there
    # over the data plane ({device_id, host, port, codec, tensor, secret[, name]}); None: the first stage is here.
    entry: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stream:
        for name, kind in (
            ("deployment_id", str),
            ("session_id", str),
            ("first_stage", int),
            ("input_url", str),
        ):
            _require(data, name, kind, "stream")
        _positive(data, "rate", (int, float), "stream")
        _positive(data, "frames", int, "stream")
        for name in ("max_in_flight", "report_every"):
            if name in data:
                _positive(data, name, int, "stream")
        _check_entry(data, "stream")
        stream = super().from_dict(data)
        assert isinstance(stream, Stream)
        stream.rate = float(stream.rate)
        return stream


@dataclass
class StreamStop(Message):
    type: ClassVar[str] = "stream_stop"
    session_id: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamStop:
        return cls(_require(data, "session_id", str, "stream_stop"))


# The stage number of a trace's source entry: the hop of a request's input from its source to the first
# stage on another agent (``entry``), timed like any stage's outgoing transfer.
SOURCE_STAGE = -1

ENTRY_FIELDS = (
    ("device_id", str),
    ("host", str),
    ("port", int),
    ("codec", str),
    ("tensor", str),
    ("secret", str),
)


def _check_entry(data: dict[str, Any], where: str) -> None:
    entry = data.get("entry")
    if entry is None:
        return
    if not isinstance(entry, dict):
        raise ProtocolError("wrong_type", f"{where}: field 'entry' must be an object or null")
    for name, kind in ENTRY_FIELDS:
        _require(entry, name, kind, f"{where}.entry")


@dataclass
class StreamSwitch(Message):
    """Route a running stream's next frames to another deployment (a re-plan); frames already sent finish
    where they are. ``switch_id`` names the switch in the logs and the plan-switch record."""

    type: ClassVar[str] = "stream_switch"
    session_id: str
    deployment_id: str
    first_stage: int
    switch_id: str
    entry: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamSwitch:
        for name, kind in (
            ("session_id", str),
            ("deployment_id", str),
            ("first_stage", int),
            ("switch_id", str),
        ):
            _require(data, name, kind, "stream_switch")
        _check_entry(data, "stream_switch")
        return super().from_dict(data)  # type: ignore[return-value]


@dataclass
class Undeploy(Message):
    type: ClassVar[str] = "undeploy"
    deployment_id: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Undeploy:
        return cls(_require(data, "deployment_id", str, "undeploy"))


@dataclass
class Profile(Message):
    """Time each block (segment) on random input; answered by ``profile_result``."""

    type: ClassVar[str] = "profile"
    profile_id: str
    segments: list[dict[str, Any]]
    warmup: int = 2
    repeats: int = 10
    threads: int | None = None  # onnxruntime threads, as deploy's: blocks are timed as stages will run

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        _require(data, "profile_id", str, "profile")
        segments = _require(data, "segments", list, "profile")
        for i, segment in enumerate(segments):
            where = f"profile.segments[{i}]"
            if not isinstance(segment, dict):
                raise ProtocolError("wrong_type", f"{where} must be an object")
            for name, kind in (("block", int), ("url", str), ("sha256", str), ("inputs", list)):
                _require(segment, name, kind, where)
        if "warmup" in data and _require(data, "warmup", int, "profile") < 0:
            raise ProtocolError("bad_value", "profile: warmup must be >= 0")
        if "repeats" in data:
            _positive(data, "repeats", int, "profile")
        if _optional(data, "threads", int, "profile") is not None:
            _positive(data, "threads", int, "profile")
        return super().from_dict(data)  # type: ignore[return-value]


@dataclass
class Probe(Message):
    """Measure the links to ``peers`` over the data plane; answered by ``probe_result``. With
    ``control_plane_url`` (the control plane's link-probe endpoint, absolute or relative to the agent's
    server) the link to the control plane is measured too."""

    type: ClassVar[str] = "probe"
    probe_id: str
    peers: list[dict[str, Any]]
    payload_bytes: int = 1024 * 1024
    control_plane_url: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Probe:
        _require(data, "probe_id", str, "probe")
        for i, peer in enumerate(_require(data, "peers", list, "probe")):
            if not isinstance(peer, dict):
                raise ProtocolError("wrong_type", f"probe.peers[{i}] must be an object")
            for name, kind in (("device_id", str), ("host", str), ("port", int)):
                _require(peer, name, kind, f"probe.peers[{i}]")
        if "payload_bytes" in data:
            _positive(data, "payload_bytes", int, "probe")
        _optional(data, "control_plane_url", str, "probe")
        return super().from_dict(data)  # type: ignore[return-value]


@dataclass
class Relayed(Message):
    """An activation the control plane forwards for an unreachable peer; ONE binary frame follows."""

    type: ClassVar[str] = "relayed"
    deployment_id: str
    request_id: int
    from_device_id: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Relayed:
        _require(data, "deployment_id", str, "relayed")
        _require(data, "request_id", int, "relayed")
        _optional(data, "from_device_id", str, "relayed")
        return super().from_dict(data)  # type: ignore[return-value]


@dataclass
class Shape(Message):
    """Change emulated data-plane links while running: ``links`` maps a peer (device id, name, or ``*`` for
    every other peer) to a link spec (``edgeorch_agent.emulation.links``), or null to stop shaping it."""

    type: ClassVar[str] = "shape"
    links: dict[str, Any]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shape:
        links = _require(data, "links", dict, "shape")
        for peer, spec in links.items():
            if spec is not None and not isinstance(spec, dict):
                raise ProtocolError("wrong_type", f"shape.links[{peer!r}] must be an object or null")
        return cls(links)


@dataclass
class Tenant(Message):
    """Set the background load on an emulated device: its default unit is busy ``share`` of the time."""

    type: ClassVar[str] = "tenant"
    share: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tenant:
        share = float(_require(data, "share", (int, float), "tenant"))
        if not 0.0 <= share < 1.0:
            raise ProtocolError("bad_value", "tenant: share must be in [0, 1)")
        return cls(share)


@dataclass
class DeployStatus(Message):
    type: ClassVar[str] = "deploy_status"
    deployment_id: str
    ok: bool
    error: str | None = None
    load_s: float = 0.0


@dataclass
class Result(Message):
    """A request's final output; for a one-shot ``run`` ONE binary frame (ACTIVATION, codec raw) follows."""

    type: ClassVar[str] = "result"
    deployment_id: str
    request_id: int
    session_id: str | None
    trace: list[dict[str, Any]]
    output: dict[str, Any]


@dataclass
class StreamReport(Message):
    type: ClassVar[str] = "stream_report"
    session_id: str
    frames: list[dict[str, Any]]


@dataclass
class StreamDone(Message):
    type: ClassVar[str] = "stream_done"
    session_id: str
    frames_sent: int
    frames_ok: int


@dataclass
class StageFailed(Message):
    """A request failed in a stage; its chain stops there."""

    type: ClassVar[str] = "stage_error"
    deployment_id: str
    request_id: int
    session_id: str | None
    stage: int
    device_id: str
    error: str


@dataclass
class ProfileResult(Message):
    type: ClassVar[str] = "profile_result"
    profile_id: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thermal: dict[str, float] = field(default_factory=dict)
    error: str | None = None


@dataclass
class ProbeResult(Message):
    """Measured links: ``links`` to peers (``device_id``), ``control_plane`` the link to the control plane
    (null when it was not asked for). Each ``{rtt_s, bandwidth_bps, error}``: numbers, or nulls and an error."""

    type: ClassVar[str] = "probe_result"
    probe_id: str
    links: list[dict[str, Any]]
    control_plane: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeResult:
        _require(data, "probe_id", str, "probe_result")
        for i, link in enumerate(_require(data, "links", list, "probe_result")):
            _check_link(link, f"probe_result.links[{i}]")
            _require(link, "device_id", str, f"probe_result.links[{i}]")
        if data.get("control_plane") is not None:
            _check_link(data["control_plane"], "probe_result.control_plane")
        return super().from_dict(data)  # type: ignore[return-value]


def _check_link(link: Any, where: str) -> None:
    """A measured link: finite ``rtt_s`` >= 0 and ``bandwidth_bps`` > 0, or nulls with an ``error``."""
    if not isinstance(link, dict):
        raise ProtocolError("wrong_type", f"{where} must be an object")
    error = _optional(link, "error", str, where)
    for name, minimum, strict in (("rtt_s", 0.0, False), ("bandwidth_bps", 0.0, True)):
        value = _optional(link, name, (int, float), where)
        if value is None:
            if not error:
                raise ProtocolError("missing_field", f"{where}: {name!r} is null, so 'error' must say why")
        elif not math.isfinite(value) or value < minimum or (strict and value == minimum):
            bound = f"{'>' if strict else '>='} {minimum:g}"
            raise ProtocolError(
                "bad_value", f"{where}: {name} must be a finite number {bound}, not {value!r}"
            )


@dataclass
class Relay(Message):
    """Forward the binary frame that follows to ``to_device_id`` (its data plane was unreachable)."""

    type: ClassVar[str] = "relay"
    deployment_id: str
    request_id: int
    to_device_id: str


AGENT_MESSAGES: dict[str, type[Message]] = {
    m.type: m
    for m in (
        Hello, Telemetry, DeployStatus, Result, StreamReport, StreamDone, StageFailed, ProfileResult,
        ProbeResult, Relay,
    )
}  # fmt: skip
SERVER_MESSAGES: dict[str, type[Message]] = {
    m.type: m
    for m in (
        Welcome, Ack, Error, Deploy, Run, Stream, StreamStop, StreamSwitch, Undeploy, Profile, Probe, Relayed,
        Shape, Tenant,
    )
}  # fmt: skip
# The server messages the agent's executor handles (the rest belong to the control channel itself).
EXECUTION_MESSAGES = (Deploy, Run, Stream, StreamStop, StreamSwitch, Undeploy, Profile, Probe, Shape, Tenant)


def decode(text: str | bytes, registry: dict[str, type[Message]]) -> Message:
    """Parse one control frame into its message, or raise ``ProtocolError`` saying what is wrong."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError("malformed_json", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("malformed_json", "a message must be a JSON object")
    version = data.get("v")
    if version != VERSION:
        raise ProtocolError("bad_version", f"protocol version {version!r} is not supported (want {VERSION})")
    kind = data.get("type")
    if kind not in registry:
        raise ProtocolError("unknown_type", f"unknown message type {kind!r}")
    try:
        return registry[kind].from_dict(data)
    except TypeError as exc:
        raise ProtocolError("wrong_type", f"{kind}: {exc}") from None
