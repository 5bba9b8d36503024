"""Inputs of the planner: plain dataclasses, each with ``from_dict`` for what-if overrides.

Units: seconds, bytes, bytes/s. A device's ``state.throttle`` (>= 1.0) multiplies its compute times; its
queue (``queue_length`` requests ahead, each taking ``service_time`` s) adds a wait to every stage that
starts on it after the activation arrives from another device (or at the start of the request).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OP_TYPES = ("conv", "gemm", "pool", "elementwise", "other")


@dataclass(frozen=True)
class OpFeatures:
    """Features of the operators of one type inside a block (summed over those operators)."""

    macs: float = 0.0
    input_bytes: float = 0.0
    output_bytes: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OpFeatures:
        return cls(
            float(data.get("macs", 0)), float(data.get("input_bytes", 0)), float(data.get("output_bytes", 0))
        )


def _features(data: Mapping[str, Any] | None) -> dict[str, OpFeatures]:
    return {op: OpFeatures.from_dict(f) for op, f in (data or {}).items()}


@dataclass(frozen=True)
class Block:
    """The chain between two consecutive cut points; ``output_bytes`` is the activation at the cut after
    it."""

    index: int
    name: str
    macs: float = 0.0
    output_bytes: float = 0.0
    memory: float = 0.0  # bytes a device needs to hold this block (parameters)
    features: dict[str, OpFeatures] = field(default_factory=dict)  # op type -> features, for the predictor
    # Extra compute when the chain is cut after this block (layout conversions, broken fusions: the catalog's
    # fusion_penalty), as a fraction of the whole model's time on the site that runs the next stage.
    cut_penalty: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Block:
        return cls(
            index=int(data["index"]),
            name=str(data.get("name", f"block{data['index']}")),
            macs=float(data.get("macs", 0)),
            output_bytes=float(data.get("output_bytes", 0)),
            memory=float(data.get("memory", 0)),
            features=_features(data.get("features")),
            cut_penalty=float(data.get("cut_penalty", 0)),
        )


@dataclass(frozen=True)
class DagNode:
    """One node of a model DAG: per-device compute times (device id -> s), output bytes, consumer names."""

    name: str
    times: dict[str, float]
    output_bytes: float = 0.0
    consumers: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DagNode:
        return cls(
            name=str(data["name"]),
            times={str(k): float(v) for k, v in data.get("times", {}).items()},
            output_bytes=float(data.get("output_bytes", 0)),
            consumers=tuple(str(c) for c in data.get("consumers", ())),
        )


@dataclass(frozen=True)
class Model:
    """A model as a chain of blocks (and optionally as a DAG, for ``dag-mincut``)."""

    name: str
    blocks: tuple[Block, ...]
    input_bytes: float
    result_bytes: float
    dag: tuple[DagNode, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Model:
        return cls(
            name=str(data.get("name", "model")),
            blocks=tuple(Block.from_dict(b) for b in data.get("blocks", ())),
            input_bytes=float(data.get("input_bytes", 0)),
            result_bytes=float(data.get("result_bytes", 0)),
            dag=tuple(DagNode.from_dict(n) for n in data.get("dag", ())),
        )


@dataclass(frozen=True)
class Unit:
    """A processing unit of a device ("cpu", "gpu", "npu") with its measured per-block times (s), if any.

    ``profile_key`` names the device class for the latency predictor when ``times`` is absent.
    """

    name: str = "cpu"
    times: tuple[float, ...] | None = None
    profile_key: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Unit:
        times = data.get("times")
        return cls(
            name=str(data.get("name", "cpu")),
            times=None if times is None else tuple(float(t) for t in times),
            profile_key=str(data.get("profile_key", "")),
        )


@dataclass(frozen=True)
class DeviceState:
    """Dynamic state: thermal throttle factor (>= 1.0 multiplies compute) and queue (requests ahead x
    service)."""

    throttle: float = 1.0
    queue_length: int = 0
    service_time: float = 0.0

    @property
    def wait(self) -> float:
        """Expected queueing delay before this request's first block on the device."""
        return self.queue_length * self.service_time

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceState:
        return cls(
            float(data.get("throttle", 1.0)),
            int(data.get("queue_length", 0)),
            float(data.get("service_time", 0)),
        )


@dataclass(frozen=True)
class Power:
    """A device's power model (its profile's): whole-device watts idle and with every core busy."""

    idle_w: float
    busy_w: float

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Power | None:
        return None if not data else cls(float(data["idle_w"]), float(data["busy_w"]))


@dataclass(frozen=True)
class Device:
    """A device; its first unit is the default one (where captured input and wanted results live)."""

    id: str
    name: str = ""
    online: bool = True
    units: tuple[Unit, ...] = (Unit(),)
    state: DeviceState = DeviceState()
    memory_limit: float | None = None
    shm_bandwidth: float = 10e9  # bytes/s between units of this device
    shm_latency: float = 20e-6  # s, fixed cost of a copy between units
    power: Power | None = None  # for the energy model; None: the device's joules are unknown

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Device:
        limit = data.get("memory_limit")
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", data["id"])),
            online=bool(data.get("online", True)),
            units=tuple(Unit.from_dict(u) for u in data.get("units", [{}])),
            state=DeviceState.from_dict(data.get("state", {})),
            memory_limit=None if limit is None else float(limit),
            shm_bandwidth=float(data.get("shm_bandwidth", 10e9)),
            shm_latency=float(data.get("shm_latency", 20e-6)),
            power=Power.from_dict(data.get("power")),
        )


@dataclass(frozen=True)
class Link:
    """A network link, symmetric unless the reverse direction is given as its own link.

    Expected transfer time = (rtt/2 + bytes/bandwidth) / (1 - loss): each lost packet is resent, so the
    expected number of sends is 1/(1-loss). Jitter is carried for display; it has mean zero, so it adds
    nothing. ``kind`` (wifi, lte, ethernet) picks the radio power model of ``energy.RADIOS``.
    """

    a: str
    b: str
    bandwidth: float
    rtt: float = 0.0
    jitter: float = 0.0
    loss: float = 0.0
    kind: str | None = None  # None: energy.DEFAULT_RADIO

    def time(self, nbytes: float) -> float:
        """Expected seconds to move ``nbytes`` over this link."""
        return (self.rtt / 2 + nbytes / self.bandwidth) / (1.0 - self.loss)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Link:
        return cls(
            str(data["a"]),
            str(data["b"]),
            float(data["bandwidth"]),
            float(data.get("rtt", 0)),
            float(data.get("jitter", 0)),
            float(data.get("loss", 0)),
            None if data.get("kind") is None else str(data["kind"]),
        )


@dataclass(frozen=True)
class Problem:
    """What to plan: a model over devices and links, from the source device to the result device."""

    model: Model
    devices: tuple[Device, ...]
    links: tuple[Link, ...]
    source: str
    result: str | None = None  # default: the source
    deadline: float | None = None
    radio_wakeup: bool = False  # sporadic requests: each inference wakes the radios (energy only)

    @property
    def result_device(self) -> str:
        return self.result or self.source

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Problem:
        deadline = data.get("deadline")
        return cls(
            model=Model.from_dict(data["model"]),
            devices=tuple(Device.from_dict(d) for d in data.get("devices", ())),
            links=tuple(Link.from_dict(link) for link in data.get("links", ())),
            source=str(data["source"]),
            result=None if data.get("result") is None else str(data["result"]),
            deadline=None if deadline is None else float(deadline),
            radio_wakeup=bool(data.get("radio_wakeup", False)),
        )
