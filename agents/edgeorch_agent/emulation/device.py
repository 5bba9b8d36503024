"""An emulated device: a profile brought to life on this host.

``EmulatedDevice`` is what the executor and the telemetry sampler see:

- ``scale(unit)``: the compute-time multiplier now, ``profile.speed * unit.speed * throttle factor``, read at
  every stage start (the throttle changes as the device heats); stages stretch their real onnxruntime
  compute to it by sleeping (``runtime.Stage.compute``). A multiplier below 1 (a device faster than this
  host) cannot be emulated by waiting: such stages run at the host's speed.
- ``occupy(unit)``: each unit runs one computation at a time, stage or background tenant, first come first
  served: on an emulated device stages queue for its units as they would on the real one. (The executor's
  stages first take turns on a unit by priority and deadline, ``executor.units``: only one of them at a
  time asks here, against a background tenant or a profiling run.)
- ``busy(seconds)``: reported after every computation; feeds the thermal model's utilisation.
- ``collect()``: a telemetry collector for the emulated metrics (see ``EMULATED_METRICS``).
- ``set_battery(capacity_wh, percent)``: a battery the device's power drains (``EmulatedBattery``),
  reported as ``battery.percent`` and ``battery.plugged`` (0.0): a battery-powered camera whose charge
  falls as it works.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from edgeorch_wire.profiles import DeviceProfile
from edgeorch_wire.thermal import ThermalModel

from .tenants import BackgroundTenant, check_share

# Metrics this module reports instead of the host's sensors (declared in hello.inventory.emulated_metrics).
THERMAL_METRICS = ("temp.emulated", "cpu.throttle_factor", "power.watts")
EMULATED_METRICS = ("emulated", "tenant.share")
BATTERY_METRICS = ("battery.percent", "battery.plugged")


class EmulatedBattery:
    """A battery of ``capacity_wh`` at ``percent``, drained by the watts it is told of (``drain``): the
    charge falls by the joules drawn since the previous call over the capacity. Never charged."""

    def __init__(
        self, capacity_wh: float, percent: float = 100.0, clock: Callable[[], float] = time.monotonic
    ):
        if not capacity_wh > 0 or not 0.0 <= percent <= 100.0:
            raise ValueError("a battery needs a positive capacity (Wh) and a charge of 0..100 %")
        self.capacity_j = capacity_wh * 3600.0
        self.percent = float(percent)
        self._clock = clock
        self._last = clock()

    def drain(self, watts: float) -> float:
        """Draw ``watts`` since the previous call; returns the charge left (%)."""
        now = self._clock()
        spent = max(0.0, watts) * max(0.0, now - self._last)
        self._last = now
        self.percent = max(0.0, self.percent - 100.0 * spent / self.capacity_j)
        return self.percent


class EmulatedDevice:
    def __init__(
        self,
        profile: DeviceProfile,
        unit: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.profile = profile
        self.default_unit = profile.unit(unit).name  # ProfileError for a unit the device lacks
        self.thermal = (
            ThermalModel(profile.thermal, profile.power, clock)
            if profile.thermal is not None and profile.power is not None
            else None
        )
        self._units = {u.name: threading.Lock() for u in profile.units}
        self._tenant: BackgroundTenant | None = None
        self._clock = clock
        self.battery: EmulatedBattery | None = None

    # --- compute -------------------------------------------------------------------------------------

    def scale(self, unit: str | None = None) -> float:
        speed = self.profile.speed * self.profile.unit(unit or self.default_unit).speed
        return speed * self.throttle_factor()

    def throttle_factor(self) -> float:
        return self.thermal.throttle_factor() if self.thermal is not None else 1.0

    @contextmanager
    def occupy(self, unit: str | None = None) -> Iterator[float]:
        """Hold ``unit`` (default: the device's default unit); yields how long this waited for it."""
        lock = self._units[self.profile.unit(unit or self.default_unit).name]
        asked = time.perf_counter()
        with lock:
            yield time.perf_counter() - asked

    def busy(self, seconds: float) -> None:
        if self.thermal is not None:
            self.thermal.busy(seconds)

    def handover_s(self, nbytes: int, source: str | None, target: str | None) -> float:
        """What moving ``nbytes`` between two of the device's units costs (0 within one unit)."""
        a = self.profile.unit(source or self.default_unit)
        b = self.profile.unit(target or self.default_unit)
        if a.name == b.name:
            return 0.0
        return 8.0 * nbytes / min(a.shm_bandwidth_bps, b.shm_bandwidth_bps)

    # --- background tenants --------------------------------------------------------------------------

    @property
    def background_load(self) -> float:
        return self._tenant.share if self._tenant is not None else 0.0

    def set_background_load(self, share: float) -> None:
        """Keep the default unit busy ``share`` of the time (0 stops the tenant)."""
        share = check_share(share)
        if self._tenant is not None and share > 0:
            self._tenant.share = share
        elif self._tenant is not None:
            self._tenant.stop()
            self._tenant = None
        elif share > 0:
            self._tenant = BackgroundTenant(self, share).start()

    def close(self) -> None:
        if self._tenant is not None:
            self._tenant.stop()
            self._tenant = None

    # --- battery -------------------------------------------------------------------------------------

    def set_battery(self, capacity_wh: float, percent: float = 100.0) -> None:
        """Run on a battery of ``capacity_wh`` at ``percent``, drained by the device's power."""
        self.battery = EmulatedBattery(capacity_wh, percent, self._clock)

    def watts(self) -> float:
        """The device's power now: its thermal model's (idle to busy with its utilisation), else its
        profile's idle power (no model of its load), else 0."""
        if self.thermal is not None:
            return float(self.thermal.watts())
        return self.profile.power.idle_w if self.profile.power is not None else 0.0

    # --- telemetry -----------------------------------------------------------------------------------

    def emulated_metrics(self) -> list[str]:
        battery = BATTERY_METRICS if self.battery is not None else ()
        return sorted((*EMULATED_METRICS, *(THERMAL_METRICS if self.thermal else ()), *battery))

    def collect(self) -> dict[str, float]:
        metrics = {"emulated": 1.0, "tenant.share": self.background_load}
        if self.thermal is not None:
            metrics["cpu.throttle_factor"] = round(self.throttle_factor(), 4)  # steps the model to now
            metrics["temp.emulated"] = round(self.thermal.temp_c, 3)
            metrics["power.watts"] = round(self.thermal.watts(), 3)
        if self.battery is not None:
            metrics["battery.percent"] = round(self.battery.drain(self.watts()), 3)
            metrics["battery.plugged"] = 0.0
        return metrics

    def inventory(self, host: dict[str, Any]) -> dict[str, Any]:
        """``host``'s inventory as this device presents it: its memory, its units, its emulated metrics."""
        memory = host.get("memory_bytes")
        if self.profile.memory_limit_bytes is not None:
            memory = min(memory or self.profile.memory_limit_bytes, self.profile.memory_limit_bytes)
        return {
            **host,
            "memory_bytes": memory,
            "emulated_metrics": self.emulated_metrics(),
            "emulated_units": [u.name for u in self.profile.units],
            "emulated_speed": self.profile.speed,
        }
