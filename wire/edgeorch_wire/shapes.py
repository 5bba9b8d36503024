"""The shapes of the nested objects in control messages (``protocol``): checked, documented, kept as dicts.

The agent's runtime reads a deploy's stages, a run's entry and a probe's peers as plain dicts, and checks a
stage in depth when it builds it (answering a bad one with ``deploy_status``, not a dropped message). These
declarations say what the control channel itself checks: the fields named here, with these types; other
keys pass through untouched.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from msgspec import Meta, Struct

from .checks import MAX_FLOAT
from .qos import MAX_PRIORITY


class DataplaneAddress(Struct):
    """Where an agent's data-plane listener is reached (``hello.dataplane``)."""

    host: str
    port: Annotated[int, Meta(gt=0, lt=65536)]


class Hop(Struct):
    """Where a stage's outputs go next (``deploy.stages[].next``)."""

    device_id: str
    host: str
    port: int
    codec: Annotated[str, Meta(description="raw, zlib, fp16 or int8")]
    stage: Annotated[int | None, Meta(description="the consuming stage; default: this one + 1")] = None
    name: Annotated[str | None, Meta(description="the peer's name, which emulated links match")] = None


class Stage(Struct):
    """One stage of a ``deploy``: the segment to load, its tensors and its next hop (null: final)."""

    stage: int
    url: str
    sha256: str
    inputs: Annotated[list[Any], Meta(description="[{name, shape, dtype}]")]
    outputs: Annotated[list[Any], Meta(description="[{name, shape, dtype}]")]
    next: Hop | None = None
    unit: Annotated[str | None, Meta(description="an emulated device's unit: cpu, gpu, npu")] = None


class Entry(Struct):
    """The first stage's peer when it is not the source (``run``/``stream``/``stream_switch`` ``entry``)."""

    device_id: str
    host: str
    port: int
    codec: str
    tensor: Annotated[str, Meta(description="the first stage's input")]
    secret: Annotated[str, Meta(description="the deployment's secret; DONE frames come back with it")]
    name: str | None = None


class AnsArm(Struct):
    """One arm of an ``ans`` stream (``stream.ans.arms[]``): ``cut`` blocks on the source (``blocks``: all of
    them, the local arm), entered at ``first_stage`` (on the source, or with ``entry`` on the edge)."""

    cut: Annotated[int, Meta(ge=0)]
    first_stage: int
    context: Annotated[
        list[float], Meta(description="x_p: the back end's features, scaled to order 1 (docs/learning.md)")
    ] = []
    front_s: Annotated[float, Meta(ge=0, le=MAX_FLOAT, description="the predicted front-end seconds")] = 0.0
    entry: Entry | None = None


class DynamicStage(Struct):
    """One stage a dynamic configuration runs (``stream.dynamic.configs[].stages[]``): the deployment's stage
    index (the key its queueing is known by, from frames' traces) and its predicted compute seconds."""

    stage: Annotated[int, Meta(ge=0)]
    compute_s: Annotated[float, Meta(ge=0, le=MAX_FLOAT)]


class DynamicConfig(Struct):
    """One configuration of a dynamic stream (``stream.dynamic.configs[]``): an exit, a split point and a
    variant, its measured accuracy, its stages' predicted compute and its hops' predicted transfer, and the
    route that serves it: ``deployment_id`` (null: the stream's) entered at ``first_stage`` (on the source, or
    with ``entry`` on an edge)."""

    name: Annotated[
        str, Meta(min_length=1, max_length=200, description="e.g. digits-cnn-int8 exit 1 split 2")
    ]
    accuracy: Annotated[float, Meta(ge=0, le=1)]
    first_stage: Annotated[int, Meta(ge=0)]
    stages: list[DynamicStage]
    transfer_s: Annotated[float, Meta(ge=0, le=MAX_FLOAT, description="its hops' predicted seconds")] = 0.0
    hop_bytes: Annotated[list[int], Meta(description="the bytes each hop carries (for the record)")] = []
    exit: Annotated[
        Annotated[int, Meta(ge=0)] | None, Meta(description="the exit it answers at (null: the model's end)")
    ] = None
    split: Annotated[Annotated[int, Meta(ge=0)] | None, Meta(description="blocks on the source")] = None
    variant: Annotated[
        Annotated[str, Meta(max_length=200)] | None, Meta(description="the catalog variant")
    ] = None
    entry: Entry | None = None
    deployment_id: Annotated[
        Annotated[str, Meta(max_length=64)] | None,
        Meta(description="the deployment that serves it (a variant's); null: the stream's"),
    ] = None


class BudgetEdge(Struct):
    """One edge a session's source may send frames to (``budget.edges[]``): its share of the edge's compute,
    and the frames per second that share is for this session (null: no rate limit on it)."""

    device_id: Annotated[str, Meta(min_length=1, max_length=64)]
    share: Annotated[float, Meta(ge=0, le=1, description="its fraction of the edge's compute, 0..1")]
    rate: Annotated[
        Annotated[float, Meta(ge=0, le=MAX_FLOAT)] | None,
        Meta(description="frames/s: the share over its predicted compute per frame there; null: no limit"),
    ] = None
    name: Annotated[str, Meta(max_length=100)] | None = None


class DynamicSpec(Struct):
    """A dynamic stream (``stream.dynamic``): per frame the source picks the most accurate configuration whose
    predicted latency, with the queueing it knows, meets the frame's deadline (``edgeorch_wire.dynamic``)."""

    configs: Annotated[list[DynamicConfig], Meta(min_length=1, max_length=256)]


class AnsSpec(Struct):
    """An ``ans`` stream (``stream.ans``): the source chooses an arm per frame with μLinUCB, its state kept on
    the device under ``key`` (model and edge) across sessions and restarts."""

    key: Annotated[
        str, Meta(min_length=1, max_length=200, description="the learned state's key: model, edge")
    ]
    blocks: Annotated[int, Meta(ge=1, description="the model's blocks: the arm that cuts here is local")]
    arms: Annotated[list[AnsArm], Meta(min_length=1)]
    alpha: Annotated[float, Meta(gt=0, le=MAX_FLOAT)] = 0.02
    key_weight: Annotated[float, Meta(ge=1, le=MAX_FLOAT)] = 4.0
    first_epoch: Annotated[int, Meta(ge=1, le=2**20)] = 64
    beside: Annotated[
        bool,
        Meta(
            description="looks at the edge beside local frames: the device answers, the same frame is sent "
            "on the arm looked at (false: every look is a frame)"
        ),
    ] = True


class ArmReport(Struct):
    """What an ``ans`` source has learned of one arm (``stream_report.arms[]``)."""

    cut: Annotated[int, Meta(ge=0)]
    estimate_s: float | None = None
    bound_s: float | None = None
    pulls: Annotated[int, Meta(ge=0)] | None = None
    beside: Annotated[
        int, Meta(ge=0, description="of its pulls, the looks beside local frames (no frame of the stream)")
    ] = 0


SourceKind = Literal["video", "images", "camera", "pushed"]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)


class StreamSource(Struct):
    """Where a stream's frames come from on its source device (``stream.source``; null: the session's input
    tensor, every frame): a video file, a folder of images (in name order), a camera, or frames a local
    application pushes. ``loop`` starts a video or folder again at its end; else the stream ends there."""

    kind: SourceKind
    path: Annotated[
        str | None, Meta(description="the video file or image folder; a camera's device path or URL")
    ] = None
    loop: bool = False
    index: Annotated[int, Meta(ge=0, description="the camera's index, when it has no path")] = 0
    input: Annotated[
        dict[str, Any] | None,
        Meta(description="{name, shape, dtype} the preprocessed frames must match: the first stage's input"),
    ] = None

    def __post_init__(self) -> None:
        if self.kind in ("video", "images") and not self.path:
            raise ValueError(f"{'an' if self.kind == 'images' else 'a'} {self.kind} source needs a path")


class Segment(Struct):
    """One block to time in a ``profile``."""

    block: int
    url: str
    sha256: str
    inputs: Annotated[list[Any], Meta(description="[{name, shape, dtype}]")]


class PeerAddress(Struct):
    """A peer to measure in a ``probe``."""

    device_id: str
    host: str
    port: int
    name: str | None = None


class MeasuredLink(Struct):
    """A measured link: finite ``rtt_s`` >= 0 and ``bandwidth_bps`` > 0, or nulls with an ``error``."""

    rtt_s: Annotated[float, Meta(ge=0.0, le=MAX_FLOAT)] | None = None
    bandwidth_bps: Annotated[float, Meta(gt=0.0, le=MAX_FLOAT)] | None = None
    error: str | None = None


class PeerLink(Struct):
    """A measured link to a peer (``probe_result.links[]``), as ``MeasuredLink``."""

    device_id: str
    rtt_s: Annotated[float, Meta(ge=0.0, le=MAX_FLOAT)] | None = None
    bandwidth_bps: Annotated[float, Meta(gt=0.0, le=MAX_FLOAT)] | None = None
    error: str | None = None


Time = Annotated[float, Meta(ge=-MAX_FLOAT, le=MAX_FLOAT)]
Duration = Annotated[float, Meta(ge=0.0, le=MAX_FLOAT)]


class TraceStep(Struct):
    """One stage of a request's trace (``result.trace[]``, ``stream_report.frames[].trace[]``): each timing
    is optional, and finite where given (the control plane sums them and spans ``start`` to ``end``)."""

    stage: Annotated[int | None, Meta(description="the stage; -1: the source's entry hop")] = None
    device: str | None = None
    queue_s: Duration | None = None
    compute_s: Duration | None = None
    serialize_s: Duration | None = None
    transfer_s: Duration | None = None
    start: Annotated[Time | None, Meta(description="Unix seconds on the stage's device")] = None
    end: Time | None = None


class ReportedFrame(Struct):
    """One finished frame of a ``stream_report``: its number in the stream, whether it came through, and
    how (``output`` as in ``result``; null for a failed frame); ``resent`` and ``failover_s`` for a frame sent
    again after a failover; ``deployment``: the route it was answered on (which says the model that answered:
    a failover may fall back to a smaller variant)."""

    request_id: Annotated[int, Meta(ge=0, le=2**31 - 1)]
    ok: bool = False
    latency_s: Duration | None = None
    error: str | None = None
    trace: list[TraceStep] = []
    output: dict[str, Any] | None = None
    resent: bool = False  # sent again on a failover route (docs/failover.md)
    failover_s: Duration | None = None  # how long it waited for that route
    deployment: Annotated[str, Meta(max_length=64)] | None = None  # the deployment that answered it
    arm: Annotated[int, Meta(ge=0, description="ans: the arm the source chose (blocks it ran)")] | None = None
    dropped: Annotated[
        bool, Meta(description="a stage dropped it before computing it: its deadline could not be met")
    ] = False
    priority: Annotated[int, Meta(ge=0, le=MAX_PRIORITY, description="its priority class's rank")] | None = (
        None
    )
    deadline_s: Annotated[
        Duration | None, Meta(description="its own deadline, seconds from its start (null: none)")
    ] = None
    config: Annotated[
        Annotated[str, Meta(max_length=200)] | None,
        Meta(description="a dynamic stream: the configuration that served it (its name)"),
    ] = None
    accuracy: Annotated[
        Annotated[float, Meta(ge=0, le=1)] | None,
        Meta(description="a dynamic stream: that configuration's measured accuracy"),
    ] = None
