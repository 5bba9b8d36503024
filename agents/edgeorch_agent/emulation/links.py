"""Network emulation on the data plane: each link from this agent to a peer has a bandwidth, RTT, jitter
and loss, constant or following a trace, and every data-plane send to that peer takes the time it would.

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

Delay of an N-byte send, in direction up (this agent → peer) or down (the answer to a PING)::

    start   = max(now, when the previous send in that direction finished serialising)
    serial  = 8 N / bandwidth
    retrans = lost * rtt,   lost ~ Binomial(ceil(N / 1448), loss)
    arrival = start + serial + retrans + max(0, rtt/2 + U(-jitter, +jitter))

Loss is modelled as retransmission delay: each lost packet-equivalent (one 1448-byte TCP segment) costs
one extra RTT, and stalls the link for that long (no data is actually dropped: TCP would resend it). Arrivals
never go backwards (TCP delivers in order), so jitter cannot reorder frames.

The sender sleeps the delay minus the real transfer time (an average of what the previous sends on the link
really took), then sends: on loopback, a transfer takes the time it would take over the emulated link.
Each agent shapes what it sends; a PING's PONG comes back through the requester's shaper (direction down),
so probes measure the emulated link both ways.
"""

from __future__ import annotations

import asyncio
import bisect
import csv
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

PACKET_BYTES = 1448  # one TCP segment's payload on a 1500-byte MTU
FIELDS = ("bandwidth_bps", "rtt_s", "jitter_s", "loss")
ANY_PEER = "*"


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


# --- parsing ---------------------------------------------------------------------------------------------


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LinkSpecError(f"{where} must be a finite number, not {value!r}")
    return float(value)


def parse_trace(spec: Any, where: str, base_dir: Path | None = None) -> Trace:
    """A number or one of the trace objects; ``base_dir`` None refuses CSV files (control messages)."""
    if not isinstance(spec, dict):
        return Constant(_number(spec, where))
    if len(spec) != 1:
        raise LinkSpecError(f"{where}: a trace is one of steps, random_walk or csv, got {sorted(spec)}")
    kind, body = next(iter(spec.items()))
    if kind == "steps":
        return _steps(body, where)
    if kind == "random_walk":
        return _random_walk(body, where)
    if kind == "csv":
        if base_dir is None:
            raise LinkSpecError(f"{where}: csv traces are read only from a --links file")
        return _csv(base_dir / str(body), where)
    raise LinkSpecError(f"{where}: unknown trace kind {kind!r} (steps, random_walk, csv)")


def _steps(body: Any, where: str) -> Steps:
    if not isinstance(body, list) or not body:
        raise LinkSpecError(f"{where}.steps must be a non-empty list of [t, value]")
    points = []
    for i, point in enumerate(body):
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise LinkSpecError(f"{where}.steps[{i}] must be [t, value]")
        points.append(
            (_number(point[0], f"{where}.steps[{i}][0]"), _number(point[1], f"{where}.steps[{i}][1]"))
        )
    points.sort()
    return Steps(tuple(p[0] for p in points), tuple(p[1] for p in points))


def _random_walk(body: Any, where: str) -> RandomWalk:
    if not isinstance(body, dict):
        raise LinkSpecError(f"{where}.random_walk must be an object")
    try:
        values = {k: _number(body[k], f"{where}.random_walk.{k}") for k in ("start", "min", "max", "sigma")}
        seed = body.get("seed", 0)
        step_s = _number(body.get("step_s", 1.0), f"{where}.random_walk.step_s")
    except KeyError as exc:
        raise LinkSpecError(f"{where}.random_walk needs {exc.args[0]!r}") from None
    if not isinstance(seed, int) or values["min"] > values["max"] or values["sigma"] < 0 or step_s <= 0:
        raise LinkSpecError(f"{where}.random_walk: need an integer seed, min <= max, sigma >= 0, step_s > 0")
    return RandomWalk(values["start"], values["min"], values["max"], values["sigma"], seed, step_s)


def _csv(path: Path, where: str) -> Steps:
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
    return _steps(points, f"{where} ({path.name})")


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


# --- shaping ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkState:
    """A link's parameters at one instant (a trace's value, sanitised)."""

    bandwidth_bps: float | None
    rtt_s: float
    jitter_s: float
    loss: float


class LinkShaper:
    """One emulated link from this agent to one peer. Used from the event loop only."""

    def __init__(self, spec: LinkSpec, clock: Callable[[], float] = time.monotonic, seed: int = 0):
        self.spec = spec
        self._clock = clock
        self._started = clock()
        self._rng = random.Random(seed)
        self._free = {"up": 0.0, "down": 0.0}  # when each direction finishes its current serialisation
        self._arrival = {"up": 0.0, "down": 0.0}
        self.real_s = 0.0  # moving average of what sends on this link really took (subtracted from sleeps)

    def state(self) -> LinkState:
        t = self._clock() - self._started
        bandwidth = None if self.spec.bandwidth_bps is None else self.spec.bandwidth_bps.value(t)
        return LinkState(
            None if bandwidth is None else max(1.0, bandwidth),
            max(0.0, self.spec.rtt_s.value(t)),
            max(0.0, self.spec.jitter_s.value(t)),
            min(0.99, max(0.0, self.spec.loss.value(t))),
        )

    def delay(self, nbytes: int, direction: str = "up") -> float:
        """Seconds from now until the last of ``nbytes`` sent now arrives at the other end."""
        now, link = self._clock(), self.state()
        start = max(now, self._free[direction])
        serial = 8.0 * nbytes / link.bandwidth_bps if link.bandwidth_bps else 0.0
        retrans = self._lost(nbytes, link.loss) * link.rtt_s
        self._free[direction] = start + serial + retrans
        one_way = max(0.0, link.rtt_s / 2 + self._rng.uniform(-link.jitter_s, link.jitter_s))
        arrival = max(start + serial + retrans + one_way, self._arrival[direction])
        self._arrival[direction] = arrival
        return arrival - now

    def _lost(self, nbytes: int, loss: float) -> int:
        if loss <= 0:
            return 0
        packets = max(1, math.ceil(nbytes / PACKET_BYTES))
        # Binomial by its normal approximation above a few hundred packets: exact enough, and O(1).
        if packets > 200:
            mean, sd = packets * loss, math.sqrt(packets * loss * (1 - loss))
            return max(0, round(self._rng.gauss(mean, sd)))
        return sum(self._rng.random() < loss for _ in range(packets))

    async def hold(self, nbytes: int, direction: str = "up") -> float:
        """Sleep until a send of ``nbytes`` may start so that it arrives when the link says; returns the
        emulated delay."""
        emulated = self.delay(nbytes, direction)
        await asyncio.sleep(max(0.0, emulated - self.real_s))
        return emulated

    def observe(self, real_s: float) -> None:
        self.real_s = 0.8 * self.real_s + 0.2 * max(0.0, real_s)


class LinkTable:
    """The shapers of this agent's links, by peer device id, peer name or ``*`` (every other peer)."""

    def __init__(
        self, specs: dict[str, LinkSpec | None] | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self._clock = clock
        self._specs: dict[str, LinkSpec] = {}
        self._shapers: dict[tuple[str, str], LinkShaper] = {}  # (spec key, peer) -> its link
        self.update(specs or {})

    def update(self, specs: dict[str, LinkSpec | None]) -> None:
        """Set (or, with None, remove) links; a changed link starts its traces again at t = 0."""
        for peer, spec in specs.items():
            if spec is None:
                self._specs.pop(peer, None)
            else:
                self._specs[peer] = spec
        self._shapers = {k: v for k, v in self._shapers.items() if k[0] not in specs}

    def for_peer(self, device_id: str | None, name: str | None = None) -> LinkShaper | None:
        for key in (device_id, name):
            if key is not None and key in self._specs:
                return self._shaper(key, key)
        if ANY_PEER in self._specs and device_id is not None:
            # Each peer gets its own link from the default spec: separate links, not one shared pipe.
            return self._shaper(ANY_PEER, device_id)
        return None

    def _shaper(self, spec_key: str, peer: str) -> LinkShaper:
        shaper = self._shapers.get((spec_key, peer))
        if shaper is None:
            shaper = LinkShaper(self._specs[spec_key], self._clock, seed=len(self._shapers))
            self._shapers[(spec_key, peer)] = shaper
        return shaper

    def __len__(self) -> int:
        return len(self._specs)


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
