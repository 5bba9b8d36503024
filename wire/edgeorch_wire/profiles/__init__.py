"""Device profiles: what an emulated device is, as data (one JSON file per profile in this directory).

A profile says how much slower (or faster) than the host running the agent a device class computes, which
processing units it has, how much memory, how much power it draws and how it heats and throttles::

    {"name": "rpi4", "description": "...", "class": "end" | "edge",
     "speed": 6.0,                       # time multiplier vs this host (6.0 = six times as long)
     "units": [{"name": "cpu" | "gpu" | "npu", "speed": 1.0, "shm_bandwidth_bps": 3.2e10}, ...],
     "memory_limit_bytes": 4294967296 | null,
     "power": {"idle_w": 2.7, "busy_w": 6.4} | null,
     "thermal": {"ambient_c": 25, "r_c_per_w": 9, "tau_s": 60, "throttle_at_c": 80, "max_c": 85,
                 "clock_floor": 0.4} | null}

A unit's ``speed`` multiplies the profile's (the first unit is the default and usually 1.0); its
``shm_bandwidth_bps`` (bits/s) is what a hand-over between two units of the device costs. Above
``throttle_at_c`` the clock falls linearly to ``clock_floor`` at ``max_c`` (``edgeorch_wire.thermal``).
``power`` and ``thermal`` are null for ``host``: the real machine, its real sensors.

The schema is the Structs below (msgspec checks a file against them); ``load_profile(name)`` also accepts a
path to a JSON file of the same shape (a custom device). The control plane lists the same files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from ..checks import MAX_FLOAT, Invalid, explain

UNIT_NAMES = ("cpu", "gpu", "npu")
CLASSES = ("end", "edge")

Text = Annotated[str, Meta(min_length=1)]
PositiveFinite = Annotated[float, Meta(gt=0.0, le=MAX_FLOAT)]
NonNegativeFinite = Annotated[float, Meta(ge=0.0, le=MAX_FLOAT)]
Celsius = Annotated[float, Meta(gt=-273.15, le=MAX_FLOAT)]


class ProfileError(ValueError):
    """A profile is unknown or malformed; the message names the file and the field."""


class Unit(Struct, frozen=True):
    name: Literal["cpu", "gpu", "npu"]
    speed: PositiveFinite
    shm_bandwidth_bps: PositiveFinite


class Power(Struct, frozen=True):
    idle_w: NonNegativeFinite
    busy_w: PositiveFinite

    def __post_init__(self) -> None:
        if self.busy_w < self.idle_w:
            raise ValueError("'busy_w' must be at least 'idle_w'")


class ThermalParams(Struct, frozen=True):
    ambient_c: Celsius
    r_c_per_w: NonNegativeFinite  # thermal resistance: steady-state rise above ambient per watt
    tau_s: PositiveFinite  # RC time constant
    throttle_at_c: Celsius
    max_c: Celsius
    clock_floor: Annotated[float, Meta(gt=0.0, le=1.0)]  # the clock fraction at (and above) max_c

    def __post_init__(self) -> None:
        if self.max_c <= self.throttle_at_c:
            raise ValueError("'max_c' must be above 'throttle_at_c'")


class DeviceProfile(Struct, frozen=True):
    name: Text
    description: Text
    device_class: Literal["end", "edge"] = msgspec.field(name="class")
    speed: PositiveFinite = 1.0
    units: Annotated[tuple[Unit, ...], Meta(min_length=1)] = ()
    memory_limit_bytes: Annotated[int, Meta(gt=0)] | None = None
    power: Power | None = None
    thermal: ThermalParams | None = None

    def unit(self, name: str | None = None) -> Unit:
        """The named unit, or the default (first) one; ``ProfileError`` if the device has no such unit."""
        if name is None:
            return self.units[0]
        for unit in self.units:
            if unit.name == name:
                return unit
        raise ProfileError(f"{self.name} has no {name} unit (it has {', '.join(u.name for u in self.units)})")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data


_REQUIRED = ("class", "speed", "units")  # required in a file, though declared with defaults above


def list_profiles() -> list[str]:
    """The names of the shipped profiles, sorted."""
    return sorted(p.name.removesuffix(".json") for p in _directory().iterdir() if p.name.endswith(".json"))


def load_profile(name: str) -> DeviceProfile:
    """A shipped profile by name, or a profile file by path; ``ProfileError`` saying what is wrong."""
    if name.endswith(".json"):
        return _load_file(Path(name))
    if name not in list_profiles():
        raise ProfileError(f"unknown device profile {name!r} (known: {', '.join(list_profiles())})")
    return _load_file(_directory() / f"{name}.json")


def _directory() -> Any:
    return resources.files(__name__)


def _load_file(path: Any) -> DeviceProfile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read profile {path}: {exc.strerror or exc}") from None
    try:
        data = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise ProfileError(f"profile {path} is not valid JSON: {exc}") from None
    return profile_from_dict(data, where=str(getattr(path, "name", path)))


def profile_from_dict(data: Any, where: str = "profile") -> DeviceProfile:
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected a JSON object")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise ProfileError(f"{where}: field {missing[0]!r} is required")
    try:
        return msgspec.convert(data, DeviceProfile)
    except msgspec.ValidationError as exc:
        problem: Invalid = explain(exc, DeviceProfile, data, "")
        raise ProfileError(f"{where}: {str(problem).lstrip('.').removeprefix(': ')}") from None
