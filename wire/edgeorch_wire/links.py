"""Link specs: bandwidth, RTT, jitter and loss of a data-plane link, each constant or following a trace.

A link spec (JSON)::

    {"bandwidth_bps": 10e6, "rtt_s": 0.02, "jitter_s": 0.002, "loss": 0.001}

Every field may be omitted (bandwidth: unlimited; the rest: 0) or be a trace instead of a number:

- ``{"steps": [[t, value], ...]}`` — piecewise constant from each ``t`` (seconds since the link was set);
  before the first step, the first value;
- ``{"random_walk": {"start", "min", "max", "sigma", "seed", "step_s": 1.0}}`` — every ``step_s`` the value
  moves by a normal step of ``sigma``, clipped to ``[min, max]``; the same seed gives the same walk;
- ``{"csv": "path"}`` — rows ``time,value`` (e.g. time,bandwidth from a measurement campaign), held like
  steps; a header row is skipped. Only in a ``--links`` file (relative paths from its directory), never in
  a control message: the control plane must not make an agent read its files.

The agent shapes its sends by these specs (``edgeorch_agent.emulation.links``); a scenario file
(``edgeorch.scenarios.spec``) checks its links and background shares with the same parser, so the agents
replay exactly what the runner records. The traces' bodies are declared below and checked by msgspec.
"""

from __future__ import annotations

import bisect
import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol

import msgspec
from msgspec import Meta, Struct

from .checks import MAX_FLOAT, explain

FIELDS = ("bandwidth_bps", "rtt_s", "jitter_s", "loss")
ANY_PEER = "*"

Finite = Annotated[float, Meta(ge=-MAX_FLOAT, le=MAX_FLOAT)]


class LinkSpecError(ValueError):
    """A link spec or trace is malformed; the message names the peer and the field."""


class Trace(Protocol):
    def value(self, t: float) -> float: ...


@dataclass(frozen=True)
class Constant:
    constant: float

    def value(self, t: float) -> float:
        return self.constant


@dataclass(frozen=True)
class Steps:
    times: tuple[float, ...]
    values: tuple[float, ...]

    def value(self, t: float) -> float:
        return self.values[max(0, bisect.bisect_right(self.times, t) - 1)]


class RandomWalkSpec(Struct, forbid_unknown_fields=True):
    """A ``random_walk`` trace's body."""

    start: Finite
    min: Finite
    max: Finite
    sigma: Annotated[float, Meta(ge=0.0, le=MAX_FLOAT)]
    seed: int = 0
    step_s: Annotated[float, Meta(gt=0.0, le=MAX_FLOAT)] = 1.0

    def __post_init__(self) -> None:
        if self.min > self.max:
            raise ValueError("min must not exceed max")


StepsSpec = Annotated[list[tuple[Finite, Finite]], Meta(min_length=1)]


class RandomWalk:
    """Reproducible: the walk is drawn step by step from its own seeded generator, and kept."""

    def __init__(self, start: float, low: float, high: float, sigma: float, seed: int, step_s: float = 1.0):
        self.low, self.high, self.sigma, self.step_s = low, high, sigma, step_s
        self._rng = random.Random(seed)
        self._walk = [min(high, max(low, start))]

    def value(self, t: float) -> float:
        index = max(0, int(t / self.step_s))
        while len(self._walk) <= index:
            moved = self._walk[-1] + self._rng.gauss(0.0, self.sigma)
            self._walk.append(min(self.high, max(self.low, moved)))
        return self._walk[index]


def _typed(value: Any, kind: Any, where: str) -> Any:
    """``value`` decoded as ``kind``, or ``LinkSpecError`` naming the field under ``where``."""
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise LinkSpecError(str(explain(exc, kind, value, where)).replace(": field ", ".")) from None


def parse_trace(spec: Any, where: str, base_dir: Path | None = None) -> Trace:
    """A number or one of the trace objects; ``base_dir`` None refuses CSV files (control messages)."""
    if not isinstance(spec, dict):
        if isinstance(spec, bool) or not isinstance(spec, (int, float)):
            raise LinkSpecError(f"{where} must be a finite number or a trace, not {spec!r}")
        return Constant(_typed(spec, Finite, where))
    if len(spec) != 1:
        raise LinkSpecError(f"{where}: a trace is one of steps, random_walk or csv, got {sorted(spec)}")
    kind, body = next(iter(spec.items()))
    if kind == "steps":
        points = sorted(_typed(body, StepsSpec, f"{where}.steps"))
        return Steps(tuple(p[0] for p in points), tuple(p[1] for p in points))
    if kind == "random_walk":
        if not isinstance(body, dict):
            raise LinkSpecError(f"{where}.random_walk must be an object")
        missing = [k for k in ("start", "min", "max", "sigma") if k not in body]
        if missing:
            raise LinkSpecError(f"{where}.random_walk needs {missing[0]!r}")
        w = _typed(body, RandomWalkSpec, f"{where}.random_walk")
        return RandomWalk(w.start, w.min, w.max, w.sigma, w.seed, w.step_s)
    if kind == "csv":
        if base_dir is None:
            raise LinkSpecError(f"{where}: csv traces are read only from a --links file")
        return _csv(base_dir / str(body), where)
    raise LinkSpecError(f"{where}: unknown trace kind {kind!r} (steps, random_walk, csv)")


def read_csv(path: Path, where: str) -> list[list[float]]:
    """The ``time,value`` rows of a CSV trace (a first row that is not numbers is a header)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if row and not row[0].lstrip().startswith("#")]
    except OSError as exc:
        raise LinkSpecError(f"{where}: cannot read {path}: {exc.strerror or exc}") from None
    points = []
    for line, row in enumerate(rows, 1):
        try:
            points.append([float(row[0]), float(row[1])])
        except (ValueError, IndexError):
            if line > 1 or points:  # only the first row may be a header
                raise LinkSpecError(f"{where}: {path} row {line} is not time,value: {row}") from None
    return points


def _csv(path: Path, where: str) -> Trace:
    return parse_trace({"steps": read_csv(path, where)}, f"{where} ({path.name})")


@dataclass(frozen=True)
class LinkSpec:
    bandwidth_bps: Trace | None  # None: unlimited (no serialisation delay)
    rtt_s: Trace
    jitter_s: Trace
    loss: Trace

    @classmethod
    def parse(cls, data: Any, where: str = "link", base_dir: Path | None = None) -> LinkSpec:
        if not isinstance(data, dict):
            raise LinkSpecError(f"{where} must be an object with {', '.join(FIELDS)}")
        unknown = set(data) - set(FIELDS)
        if unknown:
            raise LinkSpecError(f"{where}: unknown field(s) {sorted(unknown)} (known: {', '.join(FIELDS)})")
        bandwidth = data.get("bandwidth_bps")
        traces = {k: parse_trace(data.get(k, 0.0), f"{where}.{k}", base_dir) for k in FIELDS[1:]}
        return cls(
            None if bandwidth is None else parse_trace(bandwidth, f"{where}.bandwidth_bps", base_dir),
            **traces,
        )


def parse_links(data: Any, where: str = "links", base_dir: Path | None = None) -> dict[str, LinkSpec | None]:
    """``{peer: spec | null}`` as in a ``--links`` file or a ``shape`` message."""
    if not isinstance(data, dict):
        raise LinkSpecError(f"{where} must be an object mapping a peer (device id, name or '*') to a link")
    return {
        str(peer): None if spec is None else LinkSpec.parse(spec, f"{where}[{peer!r}]", base_dir)
        for peer, spec in data.items()
    }


def load_links(path: Path) -> dict[str, LinkSpec | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LinkSpecError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise LinkSpecError(f"{path} is not valid JSON: {exc}") from None
    return parse_links(data, str(path), base_dir=path.parent)
