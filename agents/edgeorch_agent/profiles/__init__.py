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
``throttle_at_c`` the clock falls linearly to ``clock_floor`` at ``max_c`` (see ``emulation.thermal``).
``power`` and ``thermal`` are null for ``host``: the real machine, its real sensors.

``load_profile(name)`` also accepts a path to a JSON file of the same shape (a custom device).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

UNIT_NAMES = ("cpu", "gpu", "npu")
CLASSES = ("end", "edge")


class ProfileError(ValueError):
    """A profile is unknown or malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Unit:
    name: str
    speed: float
    shm_bandwidth_bps: float


@dataclass(frozen=True)
class Power:
    idle_w: float
    busy_w: float


@dataclass(frozen=True)
class ThermalParams:
    ambient_c: float
    r_c_per_w: float  # thermal resistance: steady-state rise above ambient per watt
    tau_s: float  # RC time constant
    throttle_at_c: float
    max_c: float
    clock_floor: float  # the clock fraction at (and above) max_c


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    description: str
    device_class: str
    speed: float
    units: tuple[Unit, ...]
    memory_limit_bytes: int | None
    power: Power | None
    thermal: ThermalParams | None

    def unit(self, name: str | None = None) -> Unit:
        """The named unit, or the default (first) one; ``ProfileError`` if the device has no such unit."""
        if name is None:
            return self.units[0]
        for unit in self.units:
            if unit.name == name:
                return unit
        raise ProfileError(f"{self.name} has no {name} unit (it has {', '.join(u.name for u in self.units)})")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["class"] = data.pop("device_class")
        data["units"] = [asdict(u) for u in self.units]
        return data


def list_profiles() -> list[str]:
    """The names of the profiles shipped with the agent, sorted."""
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
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read profile {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ProfileError(f"profile {path} is not valid JSON: {exc}") from None
    return profile_from_dict(data, where=str(getattr(path, "name", path)))


def profile_from_dict(data: Any, where: str = "profile") -> DeviceProfile:
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected a JSON object")
    name = _text(data, "name", where)
    device_class = _text(data, "class", where)
    if device_class not in CLASSES:
        raise ProfileError(f"{where}: 'class' must be one of {', '.join(CLASSES)}, not {device_class!r}")
    units = data.get("units")
    if not isinstance(units, list) or not units:
        raise ProfileError(f"{where}: 'units' must be a non-empty list")
    memory = data.get("memory_limit_bytes")
    if memory is not None and (not isinstance(memory, int) or isinstance(memory, bool) or memory <= 0):
        raise ProfileError(f"{where}: 'memory_limit_bytes' must be a positive integer or null")
    return DeviceProfile(
        name=name,
        description=_text(data, "description", where),
        device_class=device_class,
        speed=_number(data, "speed", where),
        units=tuple(_unit(u, f"{where}: units[{i}]") for i, u in enumerate(units)),
        memory_limit_bytes=memory,
        power=_power(data.get("power"), f"{where}: power"),
        thermal=_thermal(data.get("thermal"), f"{where}: thermal"),
    )


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ProfileError(f"{where}: {key!r} must be a non-empty string")
    return value


def _number(data: dict[str, Any], key: str, where: str, minimum: float = 0.0, strict: bool = True) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProfileError(f"{where}: {key!r} must be a finite number")
    if value < minimum or (strict and value == minimum):
        raise ProfileError(f"{where}: {key!r} must be {'>' if strict else '>='} {minimum}, not {value}")
    return float(value)


def _unit(data: Any, where: str) -> Unit:
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected an object")
    name = _text(data, "name", where)
    if name not in UNIT_NAMES:
        raise ProfileError(f"{where}: 'name' must be one of {', '.join(UNIT_NAMES)}, not {name!r}")
    return Unit(name, _number(data, "speed", where), _number(data, "shm_bandwidth_bps", where))


def _power(data: Any, where: str) -> Power | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected an object or null")
    power = Power(_number(data, "idle_w", where, strict=False), _number(data, "busy_w", where))
    if power.busy_w < power.idle_w:
        raise ProfileError(f"{where}: 'busy_w' must be at least 'idle_w'")
    return power


def _thermal(data: Any, where: str) -> ThermalParams | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected an object or null")
    params = ThermalParams(
        ambient_c=_number(data, "ambient_c", where, minimum=-273.15),
        r_c_per_w=_number(data, "r_c_per_w", where, strict=False),
        tau_s=_number(data, "tau_s", where),
        throttle_at_c=_number(data, "throttle_at_c", where, minimum=-273.15),
        max_c=_number(data, "max_c", where, minimum=-273.15),
        clock_floor=_number(data, "clock_floor", where),
    )
    if params.max_c <= params.throttle_at_c:
        raise ProfileError(f"{where}: 'max_c' must be above 'throttle_at_c'")
    if params.clock_floor > 1.0:
        raise ProfileError(f"{where}: 'clock_floor' is a clock fraction in (0, 1]")
    return params
