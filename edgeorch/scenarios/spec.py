"""Scenario files (docs/scenarios.md): devices, links with traces, background load, a session, strategies.

``load(path)`` reads and checks a YAML file and returns a ``Scenario``; every mistake is a ``ScenarioError``
naming the field (``links[0].bandwidth_bps.steps[1]``). Link traces use the agent's own trace kinds
(constant, ``steps``, ``random_walk``; ``csv`` is read here, relative to the file, and sent as steps), so the
agents replay exactly what the runner records.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from edgeorch_wire.links import FIELDS, LinkSpecError, parse_trace
from edgeorch_wire.profiles import ProfileError, load_profile

from edgeorch.planning import STRATEGIES

ROLES = ("end", "edge")
ORACLE = "oracle"


class ScenarioError(ValueError):
    """A scenario file that cannot run; the message names the file and the field."""


@dataclass(frozen=True)
class DeviceSpec:
    name: str
    role: str
    profile: str  # a shipped profile name or a .json path (resolved against the scenario file)


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
class SessionSpec:
    source: str
    rate: float
    frames: int
    deadline_s: float | None = None
    codec: str = "raw"
    candidates: tuple[str, ...] = ()  # device names the planner may use; () = every device


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
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

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


def parse(data: Any, path: Path | None = None) -> Scenario:
    base = path.parent if path else Path.cwd()
    top = _mapping(data, "the scenario")
    _known(top, "the scenario", {"name", "description", "model", "devices", "links", "background", "session",
                                  "strategies", "window_s", "cooldown_c"})  # fmt: skip
    devices = tuple(
        _device(d, f"devices[{i}]", base) for i, d in enumerate(_list(top, "devices", required=True))
    )
    names = [d.name for d in devices]
    if len(set(names)) != len(names):
        raise ScenarioError(f"devices: names must be unique, got {names}")
    links = tuple(_link(x, f"links[{i}]", names, base) for i, x in enumerate(_list(top, "links")))
    background = tuple(
        _background(b, f"background[{i}]", names) for i, b in enumerate(_list(top, "background"))
    )
    session = _session(top.get("session"), names)
    strategies = tuple(_strategies(top.get("strategies", ["local", "offload", "device-edge", "adaptive"])))
    return Scenario(
        name=str(top.get("name") or (path.stem if path else "scenario")),
        description=str(top.get("description") or ""),
        model=_str(top, "model", "the scenario", required=True),
        devices=devices, links=links, background=background, session=session, strategies=strategies,
        window_s=_num(top.get("window_s", 5.0), "window_s", minimum=0.5),
        cooldown_c=None if top.get("cooldown_c") is None else _num(top["cooldown_c"], "cooldown_c"),
        path=path,
    )  # fmt: skip


def _device(data: Any, where: str, base: Path) -> DeviceSpec:
    d = _mapping(data, where)
    _known(d, where, {"name", "role", "profile"})
    role = str(d.get("role", "end"))
    if role not in ROLES:
        raise ScenarioError(f"{where}.role must be one of {', '.join(ROLES)}, not {role!r}")
    profile = _str(d, "profile", where, required=True)
    if profile.endswith(".json"):
        profile = str((base / profile).resolve())
    try:
        load_profile(profile)
    except (ProfileError, OSError) as exc:
        raise ScenarioError(f"{where}.profile: {exc}") from None
    return DeviceSpec(_str(d, "name", where, required=True), role, profile)


def _link(data: Any, where: str, names: list[str], base: Path) -> LinkSpec:
    d = _mapping(data, where)
    _known(d, where, {"between", *FIELDS})
    between = d.get("between")
    if not isinstance(between, list) or len(between) != 2 or between[0] == between[1]:
        raise ScenarioError(f"{where}.between must name two different devices")
    for name in between:
        if name not in names:
            raise ScenarioError(f"{where}.between: unknown device {name!r} (devices: {', '.join(names)})")
    spec = {}
    for name in FIELDS:
        if name in d:
            value = _csv_steps(d[name], f"{where}.{name}", base)
            try:
                parse_trace(value, f"{where}.{name}")
            except LinkSpecError as exc:
                raise ScenarioError(str(exc)) from None
            spec[name] = value
    return LinkSpec(str(between[0]), str(between[1]), spec)


def _csv_steps(value: Any, where: str, base: Path) -> Any:
    """A ``{csv: file}`` trace as steps (a control message may not make an agent read files)."""
    if not (isinstance(value, dict) and set(value) == {"csv"}):
        return value
    rows = []
    try:
        with open(base / str(value["csv"]), newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                try:
                    rows.append([float(row[0]), float(row[1])])
                except (ValueError, IndexError):
                    continue  # a header
    except OSError as exc:
        raise ScenarioError(f"{where}.csv: {exc}") from None
    if not rows:
        raise ScenarioError(f"{where}.csv: no time,value rows")
    return {"steps": rows}


def _background(data: Any, where: str, names: list[str]) -> Background:
    d = _mapping(data, where)
    _known(d, where, {"device", "share", "session"})
    device = _str(d, "device", where, required=True)
    if device not in names:
        raise ScenarioError(f"{where}.device: unknown device {device!r}")
    if ("share" in d) == ("session" in d):
        raise ScenarioError(f"{where}: give either share (a compute share) or session (a request stream)")
    if "share" in d:
        try:
            trace = parse_trace(d["share"], f"{where}.share")
        except LinkSpecError as exc:
            raise ScenarioError(str(exc)) from None
        steps = (
            d["share"]["steps"]
            if isinstance(d["share"], dict) and "steps" in d["share"]
            else [[0, d["share"]]]
        )
        if isinstance(d["share"], dict) and "steps" not in d["share"]:
            raise ScenarioError(f"{where}.share: a number or {{steps: [[t, share], ...]}}")
        if any(not 0.0 <= float(v) < 1.0 for _, v in steps):
            raise ScenarioError(f"{where}.share: every share must be in [0, 1)")
        del trace
        return Background(device, share=d["share"])
    s = _mapping(d["session"], f"{where}.session")
    _known(s, f"{where}.session", {"model", "source", "rate", "at", "duration_s"})
    _str(s, "model", f"{where}.session", required=True)
    source = _str(s, "source", f"{where}.session", required=True)
    if source not in names:
        raise ScenarioError(f"{where}.session.source: unknown device {source!r}")
    for key in ("rate", "duration_s"):
        _num(s.get(key), f"{where}.session.{key}", minimum=1e-9)
    _num(s.get("at", 0), f"{where}.session.at", minimum=0.0)
    return Background(device, session=dict(s))


def _session(data: Any, names: list[str]) -> SessionSpec:
    d = _mapping(data, "session")
    _known(d, "session", {"source", "rate", "frames", "duration_s", "deadline_s", "codec", "candidates"})
    source = _str(d, "source", "session", required=True)
    if source not in names:
        raise ScenarioError(f"session.source: unknown device {source!r}")
    rate = _num(d.get("rate"), "session.rate", minimum=1e-9)
    if "frames" in d:
        frames = int(_num(d["frames"], "session.frames", minimum=1))
    else:
        frames = round(_num(d.get("duration_s"), "session.duration_s", minimum=1e-9) * rate)
    deadline = (
        None if d.get("deadline_s") is None else _num(d["deadline_s"], "session.deadline_s", minimum=1e-9)
    )
    candidates = d.get("candidates") or []
    if not isinstance(candidates, list) or any(c not in names for c in candidates):
        raise ScenarioError(f"session.candidates must list scenario devices ({', '.join(names)})")
    if candidates and source not in candidates:
        candidates = [source, *candidates]
    return SessionSpec(source, rate, max(1, frames), deadline, str(d.get("codec", "raw")), tuple(candidates))


def _strategies(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ScenarioError("strategies must be a non-empty list")
    out = []
    for name in value:
        if name not in STRATEGIES:
            raise ScenarioError(f"strategies: unknown strategy {name!r} (known: {', '.join(STRATEGIES)})")
        out.append(str(name))
    return out


# --- small checks ----------------------------------------------------------------------------------


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{where} must be a mapping")
    return value


def _list(data: dict[str, Any], key: str, required: bool = False) -> list[Any]:
    value = data.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise ScenarioError(f"{key} must be a {'non-empty ' if required else ''}list")
    return value


def _known(data: dict[str, Any], where: str, allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")


def _str(data: dict[str, Any], key: str, where: str, required: bool = False) -> str:
    value = data.get(key)
    if value is None and required:
        raise ScenarioError(f"{where}.{key} is required")
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}.{key} must be a non-empty string")
    return value


def _num(value: Any, where: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(f"{where} must be a number, not {value!r}")
    if minimum is not None and value < minimum:
        raise ScenarioError(f"{where} must be at least {minimum:g}")
    return float(value)
