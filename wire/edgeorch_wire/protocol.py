"""The control-channel wire protocol, version 1 (docs/protocol.md; its message tables come from here).

Every control message is one JSON text frame, an object with ``v`` (protocol version), ``type`` and the
fields of that type. Each message is declared once, below, as a msgspec Struct: the declaration is the
decoder (``decode``), the encoder (``to_json``) and the documentation (``edgeorch_wire.doc``). Both ends
import it from here. Tensors never travel on this channel (see ``edgeorch_wire.frames``).

Nested objects the agent's runtime reads as dicts (a deploy's stages, a run's entry, a probe's peers) stay
plain JSON data, checked against a declared shape (``Shaped``; the shapes are in ``edgeorch_wire.shapes``).
Why msgspec rather than pydantic: docs/benchmarks.md, "Wire decoding". One module, over 400 lines, on
purpose: every message of the protocol in one place is the reference a reader of either end wants.
"""

from __future__ import annotations

import builtins
import json
from typing import Annotated, Any, ClassVar, TypeVar

import msgspec
from msgspec import Meta, Struct

from . import qos
from .checks import MAX_FLOAT, Invalid, Shaped, check_shapes, explain, shaped_fields
from .preprocess import Preprocess
from .shapes import (
    AnsSpec,
    ArmReport,
    BudgetEdge,
    DataplaneAddress,
    DynamicSpec,
    Entry,
    MeasuredLink,
    PeerAddress,
    PeerLink,
    ReportedFrame,
    Segment,
    Stage,
    StreamSource,
    TraceStep,
)

VERSION = 1

# Websocket close codes (4000-4999 are free for applications).
CLOSE_AUTH_FAILED = 4001
CLOSE_PROTOCOL = 4002
CLOSE_REVOKED = 4003
CLOSE_REPLACED = 4004
CLOSE_IDENTITY = 4009
CLOSE_TOO_BIG = 4013  # like HTTP 413; Daphne lets applications close only with 1000 or 3000-4999
CLOSE_FLOODED = 4029  # like HTTP 429: more messages waiting to be handled than the server keeps per socket
# Close codes after which reconnecting cannot help: the agent stops instead of retrying.
FATAL_CLOSE_CODES = frozenset({CLOSE_AUTH_FAILED, CLOSE_REVOKED, CLOSE_IDENTITY})

MAX_RECORDS_PER_BATCH = 5000
MAX_METRICS_PER_RECORD = 512
MAX_METRIC_NAME = 64
# The largest upload the control plane's link-probe endpoint accepts (and an agent sends it in a probe).
LINK_PROBE_MAX_BYTES = 8 * 1024 * 1024
# The stage number of a trace's source entry: the hop of a request's input from its source to the first
# stage on another agent (``entry``), timed like any stage's outgoing transfer.
SOURCE_STAGE = -1

# What the control plane's columns hold: a job's id and a telemetry seq are 64-bit, a frame count 32-bit.
MAX_INT64 = 2**63 - 1
MAX_INT32 = 2**31 - 1
# A telemetry record's time (Unix seconds): from 1970 (a device whose clock was never set counts from
# there) to 2100. Later, or not finite, is a broken clock, refused before it reaches a shared write.
MAX_TIMESTAMP = 4102444800.0

Positive = Annotated[int, Meta(gt=0)]
NonNegative = Annotated[int, Meta(ge=0)]
Finite = Annotated[float, Meta(ge=-MAX_FLOAT, le=MAX_FLOAT)]
Seconds = Annotated[float, Meta(ge=0.0, le=MAX_FLOAT)]
Count = Annotated[int, Meta(ge=0, le=MAX_INT32)]
StageNumber = Annotated[int, Meta(ge=SOURCE_STAGE, le=MAX_INT32)]
RequestId = Annotated[int, Meta(ge=-1, le=MAX_INT64, description="a job's id, or a stream frame's number")]
Object = dict[str, Any]
M = TypeVar("M", bound="Message")


class ProtocolError(Invalid):
    """A message that cannot be accepted. ``code`` is machine-readable, the message says what was wrong."""


class Message(Struct, tag_field="type", kw_only=True):
    """Base of every control message. ``type`` is the msgspec tag (set per class); ``v`` the version."""

    type: ClassVar[str] = ""
    _shapes: ClassVar[tuple[tuple[str, Any], ...]] = ()
    v: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data

    def to_json(self) -> str:
        return _ENCODER.encode(self).decode()

    @classmethod
    def from_dict(cls: builtins.type[M], data: dict[str, Any]) -> M:
        """A message from already-parsed JSON (its ``type`` may be left out); ``ProtocolError`` if off."""
        try:
            message = msgspec.convert({**data, "type": cls.type}, cls)
        except msgspec.ValidationError as exc:
            raise _protocol_error(explain(exc, cls, data, cls.type)) from None
        message.check()
        return message

    def check(self) -> None:
        """What a declaration cannot say: the shapes of plain-data fields, rules across fields."""
        try:
            check_shapes(self, self._shapes, self.type)
        except Invalid as exc:
            raise _protocol_error(exc) from None


# --- agent -> control plane --------------------------------------------------------------------------


class Hello(Message, tag="hello"):
    """First message on every connection: who the agent is and what its device has."""

    device_id: str
    agent_version: str
    inventory: Annotated[Object, Meta(description="hostname, os, cpu_model, memory_bytes, …; free form")]
    dataplane: Annotated[Object | None, Shaped(DataplaneAddress)] = None
    profile: Annotated[str | None, Meta(description="the emulated device profile, if any")] = None
    serve: Annotated[
        Object | None, Shaped(DataplaneAddress), Meta(description="the inference endpoint, where open")
    ] = None


class Record(Struct):
    """All of one device's metrics at one instant. ``seq`` numbers records per device, from 0 upwards."""

    seq: Annotated[int, Meta(ge=0, le=MAX_INT64)]
    ts: Annotated[float, Meta(ge=0.0, le=MAX_TIMESTAMP, description="Unix seconds, 1970 to 2100")]
    metrics: Annotated[
        dict[Annotated[str, Meta(max_length=MAX_METRIC_NAME)], Finite],
        Meta(max_length=MAX_METRICS_PER_RECORD),
    ]


class Telemetry(Message, tag="telemetry"):
    """A batch of records. ``dropped`` counts records the agent discarded since it started (buffer full)."""

    records: Annotated[list[Record], Meta(max_length=MAX_RECORDS_PER_BATCH)] = msgspec.field(
        default_factory=list
    )
    dropped: NonNegative = 0


class DeployStatus(Message, tag="deploy_status"):
    """A ``deploy`` is loaded (``ok``) or failed (``error``); ``load_s``: download and session creation."""

    deployment_id: str
    ok: bool
    error: str | None = None
    load_s: Seconds = 0.0


class Result(Message, tag="result"):
    """A request's final output; for a one-shot ``run`` ONE binary frame (ACTIVATION, codec raw) follows."""

    deployment_id: str
    request_id: Annotated[int, Meta(ge=0, le=MAX_INT64)]
    session_id: str | None
    trace: Annotated[
        list[Object], Shaped(list[TraceStep]), Meta(description="one entry per stage: see Traces")
    ]
    output: Annotated[
        Object, Meta(description="{name, shape, dtype, top_k} of the final stage's first output")
    ]


class StreamReport(Message, tag="stream_report"):
    """Finished stream frames, every ``report_every`` and at the end: ``{request_id, trace, latency_s, ok,
    error, output}`` each (``output``: as in ``result``; null for a failed frame), and for a frame sent
    again after a failover ``resent: true`` and ``failover_s`` (seconds it waited for the new route);
    ``deployment``: the route that answered it (which tells the model that answered: a failover may fall
    back to a variant)."""

    session_id: str
    frames: Annotated[list[Object], Shaped(list[ReportedFrame])]
    batch: Annotated[
        str | None,
        Meta(
            description="a serving session's batch, kept on the agent's disk until ``report_ack`` names it "
            "(resent after a reconnect or a restart; frames are stored once per request_id)"
        ),
    ] = None
    arms: Annotated[
        list[Object] | None,
        Shaped(list[ArmReport]),
        Meta(description="an ``ans`` source: each arm's learned estimate and pull count, as of this batch"),
    ] = None
    arms_deployment: Annotated[
        Annotated[str, Meta(max_length=64)] | None,
        Meta(
            description="the deployment whose arms ``arms`` are (a stream switched to another variant's "
            "arms learns each apart); null: the stream's deployment now"
        ),
    ] = None


class ReportAck(Message, tag="report_ack"):
    """The control plane stored the ``stream_report`` whose ``batch`` this names: the agent forgets it."""

    session_id: str
    batch: str
    stored: int


class StreamDone(Message, tag="stream_done"):
    """A stream has ended: every frame it sent is reported."""

    session_id: str
    frames_sent: Count
    frames_ok: Count


class StageFailed(Message, tag="stage_error"):
    """A request failed in a stage; its chain stops there."""

    deployment_id: str
    request_id: RequestId
    session_id: str | None
    stage: StageNumber
    device_id: str
    error: str


class ProfileResult(Message, tag="profile_result"):
    """Each block's timings (``{block, median_s, p90_s, runs}``) and the device's latest thermal metrics."""

    profile_id: str
    blocks: list[Object] = msgspec.field(default_factory=list)
    thermal: dict[str, Finite] = msgspec.field(default_factory=dict)
    error: str | None = None


class ProfileProgress(Message, tag="profile_progress"):
    """How far a ``profile`` has got: ``done`` of its ``total`` blocks timed, sent once before the first
    block (``done`` 0) and after each block, then ``profile_result``. The control plane checks it against the
    profile it asked for (its block count; ``done`` never going back) and shows it live."""

    profile_id: str
    done: Count
    total: Annotated[int, Meta(gt=0, le=MAX_INT32)]

    def check(self) -> None:
        super().check()
        if self.done > self.total:
            raise ProtocolError(
                "bad_value", f"profile_progress: done ({self.done}) is more than total ({self.total})"
            )


class ProbeResult(Message, tag="probe_result"):
    """Measured links: ``links`` to peers, ``control_plane`` the link to the control plane (null when it was
    not asked for). Each a finite ``rtt_s`` >= 0 and ``bandwidth_bps`` > 0, or nulls and an ``error``."""

    probe_id: str
    links: Annotated[list[Object], Shaped(list[PeerLink])]
    control_plane: Annotated[Object | None, Shaped(MeasuredLink)] = None

    def check(self) -> None:
        super().check()
        for i, link in enumerate(self.links):
            _check_measured(link, f"probe_result.links[{i}]")
        if self.control_plane is not None:
            _check_measured(self.control_plane, "probe_result.control_plane")


def _check_measured(link: Object, where: str) -> None:
    for name in ("rtt_s", "bandwidth_bps"):
        if link.get(name) is None and not link.get("error"):
            raise ProtocolError("missing_field", f"{where}: {name!r} is null, so 'error' must say why")


class Relay(Message, tag="relay"):
    """Forward the binary frame that follows to ``to_device_id`` (its data plane was unreachable)."""

    deployment_id: str
    request_id: RequestId
    to_device_id: str


# --- control plane -> agent --------------------------------------------------------------------------


class Stalled(Message, tag="stalled"):
    """A failover stream's frame had no answer within its budget (``Stream.stall_s``): the source asks the
    control plane to check that the devices of its route are alive. The control plane pings them (``ping``);
    one that does not answer within ``EDGEORCH_FAILOVER_PING_WAIT`` is lost, as if its socket had closed
    (docs/failover.md, "Detection")."""

    session_id: str
    deployment_id: str
    request_id: Annotated[int, Meta(ge=0, le=2**31 - 1)]
    waited_s: Annotated[float, Meta(ge=0, le=MAX_FLOAT)]


class Pong(Message, tag="pong"):
    """The answer to ``ping``, sent at once by the agent's control channel."""

    nonce: Annotated[str, Meta(max_length=64)]


class Welcome(Message, tag="welcome"):
    """Reply to ``hello``. ``last_seq`` is the highest telemetry seq already stored (-1 for none)."""

    device_id: str
    name: str
    telemetry_interval: Annotated[float, Meta(description="seconds between samples")]
    heartbeat_timeout: Annotated[float, Meta(description="seconds of silence before the device is offline")]
    last_seq: int


class Ack(Message, tag="ack"):
    """Telemetry up to and including every seq in the batch is stored (``stored`` new, ``duplicates``
    seen)."""

    seqs: list[int]
    stored: int
    duplicates: int


class Error(Message, tag="error"):
    """A message was refused; the connection stays open unless a close follows. ``code`` says why (see
    Errors); ``refers_to`` names the type of the refused message, where it could be read."""

    code: str
    message: str
    refers_to: str | None = None


class Deploy(Message, tag="deploy"):
    """Load the stages of a deployment that this agent runs; answered by ``deploy_status``."""

    deployment_id: str
    secret: str
    stages: Annotated[list[Object], Shaped(list[Stage])]
    threads: Annotated[int | None, Meta(description="onnxruntime intra-op threads; null: the core count")] = (
        None
    )


class Run(Message, tag="run"):
    """Run one request: the source agent gets the input (.npy) and starts the chain at ``first_stage``.

    With ``inline`` the input's .npy bytes follow as the next binary frame on the control channel (small
    inputs: saves the agent an HTTP round trip); otherwise the agent downloads ``input_url``. With ``entry``
    (as in ``stream``) the first stage runs on a peer: the source sends the input there over the data plane.
    """

    deployment_id: str
    request_id: int
    first_stage: int
    input_url: str
    inline: bool = False
    entry: Annotated[Object | None, Shaped(Entry)] = None


class Stream(Message, tag="stream"):
    """Emit ``frames`` requests at ``rate`` per second, at most ``max_in_flight`` in the pipeline at once.
    With ``entry`` the first stage runs on that peer, which the source sends each frame's input to. With
    ``source`` the frames come from a video, images, a camera or a local application, each made the model's
    input by ``preprocess`` (the catalog model's spec; null: frames go as they are), and the stream ends when
    the source does (unless it loops); without it every frame is the input at ``input_url``."""

    deployment_id: str
    session_id: str
    first_stage: int
    input_url: str
    rate: Annotated[float, Meta(gt=0, description="frames per second")]
    frames: Positive
    max_in_flight: Positive = 1
    report_every: Positive = 10
    entry: Annotated[Object | None, Shaped(Entry)] = None
    serve: Annotated[
        Object | None,
        Meta(
            description="a serving session: {model, version, inputs, outputs}; its requests come from the "
            "agent's inference endpoint, not at ``rate``"
        ),
    ] = None
    source: Annotated[Object | None, Shaped(StreamSource)] = None
    preprocess: Annotated[Object | None, Shaped(Preprocess)] = None
    failover: Annotated[
        bool,
        Meta(
            description="the session fails over: keep each frame's input until its answer and send it again "
            "on the route a failover ``stream_switch`` gives (once)"
        ),
    ] = False
    first_request: Annotated[
        int,
        Meta(
            ge=0,
            le=2**31 - 1,
            description="the first frame's number (then first_request + 1, ...): a backup source taking "
            "over a session goes on from where the lost one stopped",
        ),
    ] = 0
    deadline_s: Annotated[
        Annotated[float, Meta(ge=0)] | None,
        Meta(
            description="the session's per-frame deadline (seconds from the frame's start; a served "
            "request's own ``deadline_s`` or ``timeout`` overrides it): every frame carries it, stage queues "
            "serve the earliest first and drop a frame that can no longer meet it (docs/qos.md); a failover "
            "frame whose deadline passes while it waits for the failover route is not sent again but fails, "
            "its error starting 'deadline:'",
        ),
    ] = None
    priority: Annotated[
        int,
        Meta(
            ge=0,
            le=qos.MAX_PRIORITY,
            description="the session's priority class, its rank in edgeorch_wire.qos.PRIORITIES (0 low, "
            "1 normal, 2 high, 3 critical; a served request's own ``priority`` overrides it): stage queues "
            "serve higher ranks first",
        ),
    ] = qos.DEFAULT_PRIORITY
    stall_s: Annotated[
        float | None,
        Meta(
            description="a failover stream's budget per frame: a frame with no answer by then makes the "
            "source send ``stalled`` (at most one check at a time); null: none"
        ),
    ] = None
    ans: Annotated[
        Object | None,
        Shaped(AnsSpec),
        Meta(
            description="the ``ans`` strategy: the source picks one of these arms per frame (μLinUCB) and "
            "reports the arm on each frame; null: every frame takes the route above"
        ),
    ] = None
    dynamic: Annotated[
        Object | None,
        Shaped(DynamicSpec),
        Meta(
            description="dynamic inference: per frame the source picks the most accurate of these "
            "configurations whose predicted latency, with the queueing it knows, meets the frame's deadline "
            "(docs/qos.md), and reports it on the frame (``config``, ``accuracy``); null: the route above"
        ),
    ] = None


class Ping(Message, tag="ping"):
    """Is this agent alive? It answers ``pong`` with the same nonce at once, from its control channel (not its
    executor: a busy executor does not delay it; a hung or frozen process does not answer)."""

    nonce: Annotated[str, Meta(max_length=64)]


class StreamStop(Message, tag="stream_stop"):
    """Stop sending a stream's frames; those in flight finish and are reported."""

    session_id: str


class StreamSwitch(Message, tag="stream_switch"):
    """Route a running stream's next frames to another deployment (a re-plan); frames already sent finish
    where they are. ``switch_id`` names the switch in the logs and the plan-switch record. ``ans``: the new
    deployment's arms, for an ``ans`` stream (the QoE bandit moving it to another variant)."""

    session_id: str
    deployment_id: str
    first_stage: int
    switch_id: str
    entry: Annotated[Object | None, Shaped(Entry)] = None
    failover: Annotated[
        bool,
        Meta(
            description="the old route lost a device: frames still out on it are sent again on the new one "
            "(a stream with ``failover``)"
        ),
    ] = False
    ans: Annotated[
        Object | None,
        Shaped(AnsSpec),
        Meta(
            description="the new deployment's arms, as ``stream.ans``: the source learns among them from now "
            "on, under their own key (each variant's state kept apart); null: the stream's arms stay"
        ),
    ] = None
    dynamic: Annotated[
        Object | None,
        Shaped(DynamicSpec),
        Meta(
            description="a dynamic stream's configurations on the new deployment, as ``stream.dynamic`` "
            "(null: its next frames take the route above, unchosen)"
        ),
    ] = None


class Budget(Message, tag="budget"):
    """The coordinator's budget for a session's source (docs/qos.md, "Budgets"): the edges its frames may be
    sent to, each with its share and a rate, which the source's controller keeps to per frame (a token bucket
    per edge): a frame over its share on an edge, or bound for an edge not listed, takes the best allowed
    alternative (another configuration or arm: another edge, on the device) or is dropped, its error
    starting 'budget:'. The source's own device is always allowed. Sent when the budget changes; it replaces
    the last."""

    session_id: str
    budget_id: Annotated[str, Meta(max_length=64, description="names this budget in the logs and records")]
    deployment_id: Annotated[
        Annotated[str, Meta(max_length=64)] | None,
        Meta(
            description="the deployment it was set for: it holds while the stream is routed there (a re-plan "
            "lifts it until the next budget); null: whatever the route"
        ),
    ] = None
    edges: Annotated[
        list[Object] | None,
        Shaped(list[BudgetEdge]),
        Meta(description="the edges it may use; null: no limit (every edge, at any rate)"),
    ] = None

    def check(self) -> None:
        super().check()
        seen = [str(edge["device_id"]) for edge in self.edges or ()]
        if len(seen) != len(set(seen)):
            raise ProtocolError("bad_value", "budget.edges: an edge is listed twice")


class Undeploy(Message, tag="undeploy"):
    """Stop a deployment's stages and streams, forget its secret, close its peer links."""

    deployment_id: str


class Profile(Message, tag="profile"):
    """Time each block (segment) on random input; followed by ``profile_progress`` as blocks are timed, and
    answered by ``profile_result``."""

    profile_id: str
    segments: Annotated[list[Object], Shaped(list[Segment])]
    warmup: NonNegative = 2
    repeats: Positive = 10
    # onnxruntime threads, as deploy's: blocks are timed as stages will run
    threads: Annotated[int, Meta(gt=0)] | None = None


class Probe(Message, tag="probe"):
    """Measure the links to ``peers`` over the data plane; answered by ``probe_result``. With
    ``control_plane_url`` (the control plane's link-probe endpoint, absolute or relative to the agent's
    server) the link to the control plane is measured too."""

    probe_id: str
    peers: Annotated[list[Object], Shaped(list[PeerAddress])]
    payload_bytes: Positive = 1024 * 1024
    control_plane_url: str | None = None


class Relayed(Message, tag="relayed"):
    """An activation the control plane forwards for an unreachable peer; ONE binary frame follows."""

    deployment_id: str
    request_id: int
    from_device_id: str | None = None


class Shape(Message, tag="shape"):
    """Change emulated data-plane links while running: ``links`` maps a peer (device id, name, or ``*`` for
    every other peer) to a link spec (``edgeorch_wire.links``), or null to stop shaping it."""

    links: dict[str, Object | None]


class Tenant(Message, tag="tenant"):
    """Set the background load on an emulated device: its default unit is busy ``share`` of the time."""

    share: Annotated[float, Meta(ge=0.0, lt=1.0)]


class ServeRequest(Message, tag="serve_request"):
    """The agent was asked to serve ``model`` (its inference endpoint) and has no route for it: the control
    plane plans and deploys it with this device as the source (a ``stream`` with ``serve`` set), or answers
    ``serve_status`` saying why not. Sent once per model until answered."""

    model: str
    version: str | None = None
    strategy: Annotated[str | None, Meta(description="null: the control plane's serving default")] = None


class ServeStatus(Message, tag="serve_status"):
    """The control plane's answer to ``serve_request``: ``deploying`` (a ``stream`` with ``serve`` follows
    when the deployment is ready), ``unknown`` (no such model or version), or ``failed`` (``reason``)."""

    model: str
    state: Annotated[str, Meta(description="deploying | unknown | failed")]
    reason: str = ""
    version: str | None = None
    session_id: str | None = None
    inputs: Annotated[list[Object], Meta(description="the model's input specs: name, dtype, shape")] = (
        msgspec.field(default_factory=list)
    )
    outputs: Annotated[list[Object], Meta(description="the model's output specs")] = msgspec.field(
        default_factory=list
    )


AGENT_MESSAGES: dict[str, type[Message]] = {
    str(m.__struct_config__.tag): m
    for m in (
        Hello,
        Telemetry,
        DeployStatus,
        Result,
        StreamReport,
        StreamDone,
        StageFailed,
        ProfileProgress,
        ProfileResult,
        ProbeResult,
        Relay,
        ServeRequest,
        Stalled,
        Pong,
    )
}
SERVER_MESSAGES: dict[str, type[Message]] = {
    str(m.__struct_config__.tag): m
    for m in (
        Welcome,
        Ack,
        Error,
        Deploy,
        Run,
        Stream,
        StreamStop,
        StreamSwitch,
        Budget,
        Undeploy,
        Profile,
        Probe,
        Relayed,
        Shape,
        Tenant,
        ServeStatus,
        ReportAck,
        Ping,
    )
}
for _tag, _cls in {**AGENT_MESSAGES, **SERVER_MESSAGES}.items():
    _cls.type = _tag
    _cls._shapes = shaped_fields(_cls)
# The server messages the agent's executor handles (the rest belong to the control channel itself).
EXECUTION_MESSAGES = (
    Deploy,
    Run,
    Stream,
    StreamStop,
    StreamSwitch,
    Budget,
    Undeploy,
    Profile,
    Probe,
    Shape,
    Tenant,
    ServeStatus,
    ReportAck,
)

_ENCODER = msgspec.json.Encoder()
_DECODERS: dict[tuple[type[Message], ...], msgspec.json.Decoder[Any]] = {}


def decode(text: str | bytes, registry: dict[str, type[Message]]) -> Message:
    """Parse one control frame into its message, or raise ``ProtocolError`` saying what is wrong."""
    kinds = tuple(registry.values())
    decoder = _DECODERS.get(kinds)
    if decoder is None:
        decoder = _DECODERS[kinds] = msgspec.json.Decoder(kinds[0] if len(kinds) == 1 else _union(kinds))
    try:
        message: Message = decoder.decode(text)
    except (msgspec.ValidationError, msgspec.DecodeError):
        message = _slow_decode(text, registry)
    if message.v != VERSION:
        raise ProtocolError(
            "bad_version", f"protocol version {message.v!r} is not supported (want {VERSION})"
        )
    message.check()
    return message


def _union(kinds: tuple[type[Message], ...]) -> Any:
    from typing import Union

    return Union[kinds]  # noqa: UP007 (a tuple of types, built at run time)


def _slow_decode(text: str | bytes, registry: dict[str, type[Message]]) -> Message:
    """The error path: parse with the standard library (which also reads NaN and Infinity, so that such a
    value is refused as a bad value, not as bad JSON) and say what is wrong, in the order a reader would
    check it. Returns the message when only the standard library could read it."""
    constants: list[str] = []

    def constant(name: str) -> float:
        constants.append(name)
        return float(name)

    try:
        data = json.loads(text, parse_constant=constant)
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
    message = registry[kind].from_dict(data)
    if constants:  # in free-form data (a declared number says so itself): no database can store it
        raise ProtocolError("bad_value", f"{kind}: {constants[0]} is not a number JSON can carry")
    return message


def _protocol_error(exc: Invalid) -> ProtocolError:
    return ProtocolError(exc.code, str(exc))
