"""Outputs of the planner: plain dataclasses with JSON-safe ``to_dict``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def _num(x: float) -> float | None:
    """JSON has no infinity: unreachable times become null."""
    return None if math.isinf(x) or math.isnan(x) else x


@dataclass(frozen=True)
class Stage:
    """Consecutive work on one device/unit: blocks first..last (chain) or a node set (DAG)."""

    device: str
    unit: str
    first_block: int | None
    last_block: int | None
    compute: float
    transfer: float  # outgoing: to the next stage, or the result to the result device
    queue: float
    nodes: tuple[str, ...] = ()

    @property
    def time(self) -> float:
        return self.queue + self.compute + self.transfer

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "unit": self.unit,
            "first_block": self.first_block,
            "last_block": self.last_block,
            "nodes": list(self.nodes),
            "compute": _num(self.compute),
            "transfer": _num(self.transfer),
            "queue": _num(self.queue),
        }


@dataclass(frozen=True)
class CutTensor:
    """A tensor crossing between devices/units: after a block (chain) or a node's output (DAG)."""

    name: str
    source: str  # "device/unit"
    target: str
    bytes: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "target": self.target, "bytes": self.bytes}


@dataclass(frozen=True)
class Alternative:
    """A runner-up placement, so a person can see why the plan won."""

    description: str
    latency: float
    throughput: float | None = None
    energy: float | None = None  # the source device's joules, where the strategy weighed them

    def to_dict(self) -> dict[str, Any]:
        tp = None if self.throughput is None else _num(self.throughput)
        energy = None if self.energy is None else _num(self.energy)
        return {
            "description": self.description,
            "latency": _num(self.latency),
            "throughput": tp,
            "energy": energy,
        }


@dataclass(frozen=True)
class Arm:
    """One arm a learning strategy (``ans``) chooses among per frame: ``cut`` blocks on the source, the rest
    on ``edge`` (``cut`` = the number of blocks: all on the source); the source's predicted front-end time
    and the predicted total, T(cut)."""

    cut: int
    edge: str
    front_s: float
    predicted_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "cut": self.cut,
            "edge": self.edge,
            "front_s": _num(self.front_s),
            "predicted_s": _num(self.predicted_s),
        }


@dataclass
class DeviceEnergy:
    """Joules one device spends on one inference, by cause."""

    compute: float = 0.0
    radio: float = 0.0
    idle: float = 0.0

    @property
    def total(self) -> float:
        return self.compute + self.radio + self.idle

    def to_dict(self) -> dict[str, float]:
        return {"compute": self.compute, "radio": self.radio, "idle": self.idle, "total": self.total}


@dataclass
class PlanEnergy:
    """A plan's energy (``energy.plan_energy``): per device; the source's share per stage and input."""

    source: str
    devices: dict[str, DeviceEnergy]
    stages: list[float]  # the source's joules while each stage runs
    input: float  # the source's joules during the input transfer
    unknown: list[str] = field(default_factory=list)  # devices without a power model (compute not counted)

    @property
    def total(self) -> float | None:
        """The source device's joules per inference (None when it has no power model)."""
        return None if self.source in self.unknown else self.devices[self.source].total

    def to_dict(self) -> dict[str, Any]:
        own = self.devices.get(self.source, DeviceEnergy())
        known = self.source not in self.unknown
        return {
            "device": self.source,
            "total": self.total,
            "compute": own.compute if known else None,
            "radio": own.radio,
            "idle": own.idle if known else None,
            "input": self.input if known else None,
            "devices": [
                {"device": d, **e.to_dict(), "known": d not in self.unknown} for d, e in self.devices.items()
            ],
        }


@dataclass(frozen=True)
class Plan:
    """A placement with its predicted timings. latency = input_transfer + sum of stage times."""

    strategy: str
    stages: tuple[Stage, ...]
    input_transfer: float  # the captured input from the source to the first stage
    latency: float
    throughput: float  # frames/s: 1/latency, or 1/slowest stage for pipelines
    deadline: float | None = None
    cut_tensors: tuple[CutTensor, ...] = ()
    alternatives: tuple[Alternative, ...] = ()
    notes: tuple[str, ...] = field(default=())
    energy: PlanEnergy | None = None  # set by ``planner.plan`` (energy.plan_energy)
    objective: str = (
        "latency"  # what the strategy minimised (``objective.OBJECTIVES``); set by ``planner.plan``
    )
    arms: tuple[Arm, ...] = ()  # ``ans``: every placement the source learns among (the plan is one of them)

    @property
    def deadline_met(self) -> bool | None:
        return None if self.deadline is None else self.latency <= self.deadline

    def to_dict(self) -> dict[str, Any]:
        energy = self.energy.to_dict() if self.energy is not None else None
        known = self.energy is not None and self.energy.total is not None
        shares = self.energy.stages if self.energy is not None and known else None
        stages = [s.to_dict() for s in self.stages]
        for k, stage in enumerate(stages):
            stage["energy"] = None if shares is None else shares[k]
        out = {
            "strategy": self.strategy,
            "stages": stages,
            "input_transfer": _num(self.input_transfer),
            "latency": _num(self.latency),
            "throughput": _num(self.throughput),
            "deadline": self.deadline,
            "deadline_met": self.deadline_met,
            "cut_tensors": [c.to_dict() for c in self.cut_tensors],
            "alternatives": [a.to_dict() for a in self.alternatives],
            "notes": list(self.notes),
            "energy": energy,
            "objective": self.objective,
        }
        if self.arms:  # only a learning strategy's plan has them: other plans keep their shape
            out["arms"] = [a.to_dict() for a in self.arms]
        return out
