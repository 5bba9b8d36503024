"""Scenario files (docs/scenarios.md): devices, links with traces, background load, a session, strategies.

``load(path)`` reads and checks a YAML file and returns a ``Scenario``; every mistake is a ``ScenarioError``
naming the field (``links[0].bandwidth_bps.steps[1]``). The file's shape is declared (``ScenarioInput``) and
decoded with msgspec, as the wire contract's messages are; the rules across fields follow the declarations.
Link traces use the agent's own trace kinds (constant, ``steps``, ``random_walk``; ``csv`` is read here,
relative to the file, and sent as steps), so the agents replay exactly what the runner records. A device may
run on an emulated ``battery`` (``{wh, percent}``, drained by its power over the whole scenario); the
session may name an ``objective`` (every strategy's, docs/energy.md) and ``battery_below`` (the adaptive
run's low-battery policy). ``faults`` (kill, revive, freeze or thaw an agent, cut, degrade or restore a link,
overload a device, at given times) and ``failover`` (the policies each strategy runs under) are the
fault-injection part (docs/scenarios.md, "Faults"). ``users`` (docs/scenarios.md, "Users") are the other
people sharing the fleet during every strategy's run: each a stream from its source, at its own rate (a number
or a trace of rates), deadline and priority class (docs/qos.md), between its arrival and departure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml
from edgeorch_wire.checks import explain
from edgeorch_wire.links import FIELDS, LinkSpecError, parse_trace, read_csv
from edgeorch_wire.profiles import ProfileError, load_profile
from msgspec import UNSET, Meta, Struct, UnsetType

from edgeorch.jobs.choices import SELF_PLANNING, Failover
from edgeorch.planning import STRATEGIES, PlanningError

ROLES = ("end", "edge")  # DeviceInput.role
ORACLE = "oracle"
# FaultInput: exactly one per fault
ACTIONS = ("kill", "revive", "freeze", "thaw", "cut", "degrade", "restore", "overload")
LINK_ACTIONS = ("cut", "degrade", "restore")
DEVICE_PARAMS = ("device", "devices", "edge")  # strategy parameters that name devices (ids for the planner)


class ScenarioError(ValueError):
    """A scenario file that cannot run; the message names the file and the field."""


@dataclass(frozen=True)
class DeviceSpec:
    name: str
    role: str
    profile: str  # a shipped profile name or a .json path (resolved against the scenario file)
    serve_port: int | None = None  # open the agent's inference endpoint on this port (0: any free port)
    battery: tuple[float, float] | None = None  # an emulated battery: (capacity Wh, charge % at start)


@dataclass(frozen=True)
class LinkSpec:
    a: str
    b: str
    spec: dict[str, Any]  # the agent's link spec: FIELDS -> number or trace

    def value(self, name: str, t: float) -> float:
        """The configured value of ``name`` at ``t`` seconds into a run (what the agents emulate)."""
        default = 0.0 if name != "bandwidth_bps" else float("inf")
        if name not in self.spec:
            return default
        return parse_trace(self.spec[name], name).value(t)


@dataclass(frozen=True)
class Background:
    device: str
    share: Any = None  # a number or a {steps: [[t, share]]} trace of compute share (a tenant)
    session: dict[str, Any] | None = None  # {model, source, rate, at, duration_s}: another model's stream

    def share_at(self, t: float) -> float:
        return 0.0 if self.share is None else parse_trace(self.share, "share").value(t)

    def changes(self) -> list[float]:
        """Times at which the share changes (0 included)."""
        if isinstance(self.share, dict) and "steps" in self.share:
            return sorted({0.0, *(float(t) for t, _ in self.share["steps"])})
        return [0.0] if self.share is not None else []


@dataclass(frozen=True)
class UserSpec:
    """One user of the fleet: a stream of ``model`` from ``source`` served on ``edge`` (all of it offloaded
    there) or, without one, on the source itself, from ``arrive_s`` to ``depart_s`` seconds into a run.
    ``rate``: frames per second, a number or a trace (``{steps: ...}``, ``{random_walk: ...}``)
    replayed as one session per ``step_s`` segment, each at the trace's rate at the segment's start."""

    name: str
    source: str
    model: str
    rate: Any
    arrive_s: float
    depart_s: float
    priority: str = "normal"
    deadline_s: float | None = None
    edge: str | None = None
    sample: int | None = None
    step_s: float = 2.0
    max_in_flight: int | None = None  # None: the session's default (one frame in flight per stage)
    dynamic: bool = False  # dynamic inference: the source picks per frame among the model and its variants

    def segments(self) -> list[tuple[float, float, float]]:
        """``(start, duration, rate)`` of the sessions that make up the user's stream (a rate of 0 or one
        that gives no frame in its segment: none)."""
        if isinstance(self.rate, int | float):
            return [(self.arrive_s, self.depart_s - self.arrive_s, float(self.rate))]
        trace = parse_trace(self.rate, "rate")
        if isinstance(self.rate, dict) and "steps" in self.rate:
            cuts = {self.arrive_s, *(float(t) for t, _ in self.rate["steps"])}
        else:
            cuts = set()
            t = self.arrive_s
            while t < self.depart_s:
                cuts.add(t)
                t += self.step_s
        starts = sorted(t for t in cuts if self.arrive_s <= t < self.depart_s)
        out = []
        for a, b in zip(starts, [*starts[1:], self.depart_s], strict=True):
            rate = float(trace.value(a))
            if rate > 0 and rate * (b - a) >= 1:
                out.append((a, b - a, rate))
        return out


@dataclass(frozen=True)
class SessionSpec:
    source: str
    rate: float
    frames: int
    deadline_s: float | None = None
    codec: str = "raw"
    candidates: tuple[str, ...] = ()  # device names the planner may use; () = every device
    sample: int | None = None  # every frame is the model's test sample k (its class known): accuracy
    max_in_flight: int | None = None
    objective: str | None = None  # every strategy's (planning.OBJECTIVES); None: each its own default
    battery_below: float | None = None  # the adaptive run's low-battery policy (%)
    priority: str = "normal"  # its priority class (docs/qos.md)
    dynamic: bool = False  # dynamic inference (docs/qos.md): per frame among the model and its variants


@dataclass(frozen=True)
class Fault:
    """One fault at ``at`` seconds into a run: ``action`` (ACTIONS) on a device or a link (``target``: one
    name, or two for a link). ``spec``: degrade's link fields; ``share``: overload's compute share."""

    at: float
    action: str
    target: tuple[str, ...]
    spec: dict[str, Any] = field(default_factory=dict)
    share: float | None = None

    def until(self, faults: tuple[Fault, ...], end: float) -> float:
        """When this fault ends: the first ``restore``/``revive`` of its target after it, else ``end``."""
        undo = {"cut": "restore", "degrade": "restore", "kill": "revive", "freeze": "thaw"}.get(self.action)
        later = [f.at for f in faults if f.action == undo and f.target == self.target and f.at > self.at]
        return min(later, default=end)

    @property
    def injects(self) -> bool:
        """A fault proper (not the end of one): what the report measures around."""
        return self.action in ("kill", "freeze", "cut", "degrade") or (
            self.action == "overload" and bool(self.share)
        )

    def describe(self) -> str:
        what = " - ".join(self.target)
        extra = f" {self.spec}" if self.spec else ("" if self.share is None else f" share {self.share:g}")
        return f"{self.at:g}s {self.action} {what}{extra}"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    model: str
    devices: tuple[DeviceSpec, ...]
    links: tuple[LinkSpec, ...]
    background: tuple[Background, ...]
    session: SessionSpec
    strategies: tuple[str, ...]
    window_s: float = 5.0
    cooldown_c: float | None = None  # wait until emulated temperatures fall below this before each run
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # per strategy: its planner parameters
    faults: tuple[Fault, ...] = ()  # in time order, each fault's end (``for_s``) included
    failover: tuple[str, ...] = (Failover.NONE.value,)  # the policies each strategy runs under
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    users: tuple[UserSpec, ...] = ()  # the other users sharing the fleet in every run

    @property
    def duration_s(self) -> float:
        return self.session.frames / self.session.rate

    def device(self, name: str) -> DeviceSpec:
        return next(d for d in self.devices if d.name == name)

    def link(self, a: str, b: str) -> LinkSpec | None:
        return next((x for x in self.links if {x.a, x.b} == {a, b}), None)


def load(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    try:
        return parse(data, path)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None


# --- the file's shape, declared (msgspec checks types, bounds and unknown fields; the rules across fields
# and against the rest of the scenario follow below) ---------------------------------------------------

Text = Annotated[str, Meta(min_length=1)]
Positive = Annotated[float, Meta(gt=0.0)]


class BatteryInput(Struct, forbid_unknown_fields=True):
    wh: Positive
    percent: Annotated[float, Meta(ge=0.0, le=100.0)] = 100.0


class DeviceInput(Struct, forbid_unknown_fields=True):
    name: Text
    profile: Text
    role: Literal["end", "edge"] = "end"
    serve_port: Annotated[int, Meta(ge=0, le=65535)] | None = None
    battery: BatteryInput | None = None


class LinkInput(Struct, forbid_unknown_fields=True):
    between: Annotated[list[Text], Meta(min_length=2, max_length=2)]
    bandwidth_bps: Any = UNSET  # a number or a trace (checked by the agent's parser, ``parse_trace``)
    rtt_s: Any = UNSET
    jitter_s: Any = UNSET
    loss: Any = UNSET


class BackgroundSessionInput(Struct, forbid_unknown_fields=True):
    model: Text
    source: Text
    rate: Positive
    duration_s: Positive
    at: Annotated[float, Meta(ge=0.0)] = 0.0


class BackgroundInput(Struct, forbid_unknown_fields=True):
    device: Text
    share: Any = UNSET  # a number or {steps: [[t, share]]}
    session: BackgroundSessionInput | UnsetType = UNSET


class SessionInput(Struct, forbid_unknown_fields=True):
    source: Text
    rate: Positive
    frames: Annotated[float, Meta(ge=1.0)] | UnsetType = UNSET
    duration_s: Positive | UnsetType = UNSET
    deadline_s: Positive | None = None
    codec: str = "raw"
    candidates: list[str] | None = None
    sample: Annotated[int, Meta(ge=0)] | None = None
    max_in_flight: Annotated[int, Meta(ge=1)] | None = None
    objective: Literal["latency", "energy", "energy_under_deadline"] | None = None  # planning.OBJECTIVES
    battery_below: Annotated[float, Meta(ge=0.0, le=100.0)] | None = None
    priority: PriorityName = "normal"
    dynamic: bool = False  # dynamic inference (needs deadline_s; not with a strategy that plans for itself)


Pair = Annotated[list[Text], Meta(min_length=2, max_length=2)]
PriorityName = Literal["low", "normal", "high", "critical"]  # edgeorch_wire.qos.PRIORITIES


class UserInput(Struct, forbid_unknown_fields=True):
    name: Text
    source: Text
    rate: Any  # a number or a trace: {steps: [[t, rate]]} or {random_walk: {...}}
    model: Text | UnsetType = UNSET  # the scenario's model by default
    edge: Text | UnsetType = UNSET  # where its frames are served (all offloaded); none: on its source
    deadline_s: Positive | None = None
    priority: PriorityName = "normal"
    arrive_s: Annotated[float, Meta(ge=0.0)] = 0.0
    depart_s: Positive | UnsetType = UNSET  # the scenario's end by default
    sample: Annotated[int, Meta(ge=0)] | None = None  # every frame is test sample k (accuracy, digits models)
    step_s: Positive = 2.0  # a random walk's segment: one session per step
    # frames between source and end at most; none: one per stage (a closed loop: the source holds frames back
    # while the edge is busy, so overload lowers its rate); a flood that does not wait sets it high
    max_in_flight: Annotated[int, Meta(ge=1, le=1024)] | None = None
    # dynamic inference (docs/qos.md): per frame the most accurate of the model and its variants whose
    # predicted latency meets deadline_s (which it needs); false: always the model itself
    dynamic: bool = False


class FaultInput(Struct, forbid_unknown_fields=True):
    """One of ``kill``/``revive``/``freeze``/``thaw``/``overload`` (a device) or
    ``cut``/``degrade``/``restore`` (a link)."""

    at: Annotated[float, Meta(ge=0.0)]
    kill: Text | UnsetType = UNSET
    revive: Text | UnsetType = UNSET
    freeze: Text | UnsetType = UNSET  # SIGSTOP: the agent hangs, its sockets stay open
    thaw: Text | UnsetType = UNSET
    overload: Text | UnsetType = UNSET
    cut: Pair | UnsetType = UNSET
    degrade: Pair | UnsetType = UNSET
    restore: Pair | UnsetType = UNSET
    share: Annotated[float, Meta(ge=0.0, lt=1.0)] | UnsetType = UNSET  # overload's; default 0.9
    for_s: Positive | UnsetType = UNSET  # undo it after this long (revive, restore, the share before)
    bandwidth_bps: Any = UNSET  # degrade's link fields, over the link's own
    rtt_s: Any = UNSET
    jitter_s: Any = UNSET
    loss: Any = UNSET


class ScenarioInput(Struct, forbid_unknown_fields=True):
    model: Text
    devices: Annotated[list[DeviceInput], Meta(min_length=1)]
    session: SessionInput
    name: Any = None
    description: Any = None
    links: list[LinkInput] | None = None
    background: list[BackgroundInput] | None = None
    strategies: Annotated[list[str | dict[str, dict[str, Any]]], Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["local", "offload", "device-edge", "adaptive"]
    )
    window_s: Annotated[float, Meta(ge=0.5)] = 5.0
    cooldown_c: float | None = None
    faults: list[FaultInput] | None = None
    failover: Annotated[list[str], Meta(min_length=1)] = msgspec.field(default_factory=lambda: ["none"])
    users: list[UserInput] | None = None


def parse(data: Any, path: Path | None = None) -> Scenario:
    base = path.parent if path else Path.cwd()
    if not isinstance(data, dict):
        raise ScenarioError("the scenario must be a mapping")
    try:
        given = msgspec.convert(data, ScenarioInput)
    except msgspec.ValidationError as exc:
        raise ScenarioError(str(explain(exc, ScenarioInput, data, "")).lstrip(".:").strip()) from None
    devices = tuple(_device(d, f"devices[{i}]", base) for i, d in enumerate(given.devices))
    names = [d.name for d in devices]
    if len(set(names)) != len(names):
        raise ScenarioError(f"devices: names must be unique, got {names}")
    links = tuple(_link(x, f"links[{i}]", names, base) for i, x in enumerate(given.links or []))
    raw_background = data.get("background") or []
    background = tuple(
        _background(b, raw, f"background[{i}]", names)
        for i, (b, raw) in enumerate(zip(given.background or [], raw_background, strict=True))
    )
    session = _session(given.session, names)
    if session.dynamic:
        chosen = [next(iter(s)) if isinstance(s, dict) else s for s in given.strategies]
        if session.deadline_s is None:
            raise ScenarioError("session.dynamic: it picks what meets a deadline: give deadline_s")
        if own := [s for s in chosen if s in SELF_PLANNING]:
            raise ScenarioError(f"session.dynamic: {', '.join(own)} chooses for itself; leave dynamic out")
    faults = _faults(given.faults or [], names, background, session.frames / session.rate, base)
    return Scenario(
        name=str(given.name or (path.stem if path else "scenario")),
        description=str(given.description or ""),
        model=given.model,
        devices=devices,
        links=links,
        background=background,
        session=session,
        strategies=tuple(
            _strategies([next(iter(s)) if isinstance(s, dict) else s for s in given.strategies])
        ),
        params=_params(given.strategies, names),
        window_s=given.window_s,
        cooldown_c=given.cooldown_c,
        faults=faults,
        failover=tuple(_policies(given.failover)),
        path=path,
        users=_users(given.users or [], names, given.model, session.frames / session.rate),
    )


def _users(given: list[UserInput], names: list[str], model: str, duration: float) -> tuple[UserSpec, ...]:
    out = []
    for i, u in enumerate(given):
        where = f"users[{i}]"
        for key in ("source", "edge"):
            name = getattr(u, key)
            if isinstance(name, str) and name not in names:
                raise ScenarioError(f"{where}.{key}: unknown device {name!r} (devices: {', '.join(names)})")
        if u.edge == u.source:
            raise ScenarioError(f"{where}.edge: the source itself; leave edge out to serve on the source")
        if u.dynamic and u.deadline_s is None:
            raise ScenarioError(f"{where}.dynamic: it picks what meets a deadline: give deadline_s")
        depart = duration if isinstance(u.depart_s, UnsetType) else u.depart_s
        if u.arrive_s >= duration:
            raise ScenarioError(
                f"{where}.arrive_s: {u.arrive_s:g} s is not before the run ends ({duration:g} s)"
            )
        if depart <= u.arrive_s:
            raise ScenarioError(f"{where}.depart_s: {depart:g} s is not after its arrival ({u.arrive_s:g} s)")
        if isinstance(u.rate, bool) or not isinstance(u.rate, int | float | dict):
            raise ScenarioError(f"{where}.rate: a number of frames per second or a trace ({{steps: ...}})")
        try:
            parse_trace(u.rate, f"{where}.rate")
        except LinkSpecError as exc:
            raise ScenarioError(str(exc)) from None
        if isinstance(u.rate, dict) and "csv" in u.rate:
            raise ScenarioError(f"{where}.rate: a number, {{steps: ...}} or {{random_walk: ...}}")
        values = [v for _, v in u.rate["steps"]] if isinstance(u.rate, dict) and "steps" in u.rate else []
        if isinstance(u.rate, int | float):
            values = [u.rate]
        if isinstance(u.rate, dict) and "random_walk" in u.rate:
            values = [u.rate["random_walk"].get("min", 0)]
        if any(float(v) < 0 for v in values) or (isinstance(u.rate, int | float) and u.rate <= 0):
            raise ScenarioError(f"{where}.rate: frames per second must be above 0 (a trace's may be 0)")
        user = UserSpec(
            u.name,
            u.source,
            model if isinstance(u.model, UnsetType) else u.model,
            u.rate,
            u.arrive_s,
            depart,
            u.priority,
            u.deadline_s,
            None if isinstance(u.edge, UnsetType) else u.edge,
            u.sample,
            u.step_s,
            u.max_in_flight,
            u.dynamic,
        )
        if not user.segments():
            raise ScenarioError(f"{where}.rate: gives no frame between its arrival and departure")
        out.append(user)
    seen = [u.name for u in out]
    if len(set(seen)) != len(seen) or "session" in seen:
        raise ScenarioError(f"users: names must be unique and not 'session', got {seen}")
    return tuple(out)


def _device(d: DeviceInput, where: str, base: Path) -> DeviceSpec:
    profile = d.profile
    if profile.endswith(".json"):
        profile = str((base / profile).resolve())
    try:
        load_profile(profile)
    except (ProfileError, OSError) as exc:
        raise ScenarioError(f"{where}.profile: {exc}") from None
    battery = None if d.battery is None else (d.battery.wh, d.battery.percent)
    return DeviceSpec(d.name, d.role, profile, d.serve_port, battery)


def _link(d: LinkInput, where: str, names: list[str], base: Path) -> LinkSpec:
    if d.between[0] == d.between[1]:
        raise ScenarioError(f"{where}.between must name two different devices")
    for name in d.between:
        if name not in names:
            raise ScenarioError(f"{where}.between: unknown device {name!r} (devices: {', '.join(names)})")
    spec = {}
    for name in FIELDS:
        value = getattr(d, name)
        if value is not UNSET:
            value = _csv_steps(value, f"{where}.{name}", base)
            try:
                parse_trace(value, f"{where}.{name}")
            except LinkSpecError as exc:
                raise ScenarioError(str(exc)) from None
            spec[name] = value
    return LinkSpec(d.between[0], d.between[1], spec)


def _csv_steps(value: Any, where: str, base: Path) -> Any:
    """A ``{csv: file}`` trace as steps (a control message may not make an agent read files)."""
    if not (isinstance(value, dict) and set(value) == {"csv"}):
        return value
    try:
        rows = read_csv(base / str(value["csv"]), f"{where}.csv")
    except LinkSpecError as exc:
        raise ScenarioError(str(exc)) from None
    if not rows:
        raise ScenarioError(f"{where}.csv: no time,value rows")
    return {"steps": rows}


def _background(b: BackgroundInput, raw: dict[str, Any], where: str, names: list[str]) -> Background:
    if b.device not in names:
        raise ScenarioError(f"{where}.device: unknown device {b.device!r}")
    if (b.share is UNSET) == (b.session is UNSET):
        raise ScenarioError(f"{where}: give either share (a compute share) or session (a request stream)")
    if isinstance(b.session, BackgroundSessionInput):
        if b.session.source not in names:
            raise ScenarioError(f"{where}.session.source: unknown device {b.session.source!r}")
        return Background(b.device, session=dict(raw["session"]))
    try:
        parse_trace(b.share, f"{where}.share")
    except LinkSpecError as exc:
        raise ScenarioError(str(exc)) from None
    if isinstance(b.share, dict) and "steps" not in b.share:
        raise ScenarioError(f"{where}.share: a number or {{steps: [[t, share], ...]}}")
    steps = b.share["steps"] if isinstance(b.share, dict) else [[0, b.share]]
    if any(not 0.0 <= float(v) < 1.0 for _, v in steps):
        raise ScenarioError(f"{where}.share: every share must be in [0, 1)")
    return Background(b.device, share=b.share)


def _session(d: SessionInput, names: list[str]) -> SessionSpec:
    if d.source not in names:
        raise ScenarioError(f"session.source: unknown device {d.source!r}")
    if not isinstance(d.frames, UnsetType):
        frames = int(d.frames)
    elif not isinstance(d.duration_s, UnsetType):
        frames = round(d.duration_s * d.rate)
    else:
        raise ScenarioError("session: give frames or duration_s")
    candidates = d.candidates or []
    if any(c not in names for c in candidates):
        raise ScenarioError(f"session.candidates must list scenario devices ({', '.join(names)})")
    if candidates and d.source not in candidates:
        candidates = [d.source, *candidates]
    return SessionSpec(
        d.source,
        d.rate,
        max(1, frames),
        d.deadline_s,
        d.codec,
        tuple(candidates),
        d.sample,
        d.max_in_flight,
        d.objective,
        d.battery_below,
        d.priority,
        d.dynamic,
    )


def _policies(value: list[str]) -> list[str]:
    for name in value:
        if name not in Failover.values:
            raise ScenarioError(f"failover: unknown policy {name!r} (known: {', '.join(Failover.values)})")
    if len(set(value)) != len(value):
        raise ScenarioError(f"failover: each policy once, got {value}")
    return list(value)


def _faults(
    given: list[FaultInput], names: list[str], background: tuple[Background, ...], duration: float, base: Path
) -> tuple[Fault, ...]:
    out: list[Fault] = []
    for i, f in enumerate(given):
        out += _fault(f, f"faults[{i}]", names, background, duration, base)
    return tuple(sorted(out, key=lambda x: x.at))


def _fault(
    f: FaultInput,
    where: str,
    names: list[str],
    background: tuple[Background, ...],
    duration: float,
    base: Path,
) -> list[Fault]:
    given = [a for a in ACTIONS if getattr(f, a) is not UNSET]
    if len(given) != 1:
        raise ScenarioError(f"{where}: give exactly one of {', '.join(ACTIONS)} (got {len(given)})")
    action = given[0]
    if f.at >= duration:
        raise ScenarioError(f"{where}.at: {f.at:g} s is not before the session ends ({duration:g} s)")
    target = getattr(f, action)
    target = tuple(target) if isinstance(target, list) else (target,)
    for name in target:
        if name not in names:
            raise ScenarioError(f"{where}.{action}: unknown device {name!r} (devices: {', '.join(names)})")
    if len(set(target)) != len(target):
        raise ScenarioError(f"{where}.{action} must name two different devices")
    spec = {}
    for name in FIELDS:
        value = getattr(f, name)
        if value is UNSET:
            continue
        if action != "degrade":
            raise ScenarioError(f"{where}.{name}: only a degrade takes link fields")
        value = _csv_steps(value, f"{where}.{name}", base)
        try:
            parse_trace(value, f"{where}.{name}")
        except LinkSpecError as exc:
            raise ScenarioError(str(exc)) from None
        spec[name] = value
    if action == "degrade" and not spec:
        raise ScenarioError(f"{where}: a degrade needs a link field ({', '.join(FIELDS)})")
    if f.share is not UNSET and action != "overload":
        raise ScenarioError(f"{where}.share: only an overload takes a share")
    if f.for_s is not UNSET and action in ("revive", "thaw", "restore"):
        raise ScenarioError(f"{where}.for_s: a {action} is the end of a fault, it lasts no time")
    share = (0.9 if f.share is UNSET else f.share) if action == "overload" else None
    fault = Fault(f.at, action, target, spec, share)
    if isinstance(f.for_s, UnsetType):
        return [fault]
    end = f.at + f.for_s
    undo = {"kill": "revive", "freeze": "thaw", "overload": "overload"}.get(action, "restore")
    before = next((b.share_at(end) for b in background if b.device == target[0] and b.share is not None), 0.0)
    return [fault, Fault(end, undo, target, share=before if action == "overload" else None)]


def _strategies(value: list[str]) -> list[str]:
    for name in value:
        if name not in STRATEGIES:
            raise ScenarioError(f"strategies: unknown strategy {name!r} (known: {', '.join(STRATEGIES)})")
    if len(set(value)) != len(value):
        raise ScenarioError(f"strategies: each strategy once, got {value}")
    return list(value)


def _params(value: list[str | dict[str, dict[str, Any]]], names: list[str]) -> dict[str, dict[str, Any]]:
    """``{split: {cut: 3, device: edge}}`` entries: a strategy with its parameters (device names as given in
    ``device``, ``devices`` and ``edge``, ``ans``'s; the runner makes them ids), checked as a request's are
    (``StrategyInfo.check``: ``{qoe-bandit: {split: ans, edge: edge}}`` composes the two learners)."""
    out = {}
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            continue
        if len(entry) != 1:
            raise ScenarioError(f"strategies[{i}]: one strategy per entry ({{name: {{parameters}}}})")
        ((name, params),) = entry.items()
        if name in STRATEGIES:
            try:  # names it does not take, combinations it can never plan with (qoe-bandit's split ans...)
                STRATEGIES[name].check(params)
            except PlanningError as exc:
                raise ScenarioError(f"strategies[{i}].{name}: {exc}") from None
        for key in DEVICE_PARAMS:
            given = params.get(key)
            for device in [given] if isinstance(given, str) else given or []:
                if device not in names:
                    raise ScenarioError(f"strategies[{i}].{name}.{key}: unknown device {device!r}")
        out[name] = dict(params)
    return out
