"""The first-order (RC) thermal model: a busy device heats, a hot one throttles, an idle one cools.

    dT/dt = (ambient + R * P(u) - T) / tau,    P(u) = idle_w + (busy_w - idle_w) * u

``u`` is the utilisation over a step. With ``u`` constant over a step the equation has an exact solution,
so a step of any length is stable:

    T(t + dt) = T_ss + (T(t) - T_ss) * exp(-dt / tau),    T_ss = ambient + R * P(u)

Clock fraction: 1 up to ``throttle_at_c``, then linear down to ``clock_floor`` at ``max_c`` (and held there
above it), the way DVFS governors step clocks down. The throttle factor is 1 / clock fraction (>= 1): the
multiplier on compute time, as ``cpu.throttle_factor`` reports it for a real device.

This is the one copy: the agent's emulation steps it (``ThermalModel``), the planner's thermal foresight
and the scenarios' oracle and report predict with it (``Heat``; its methods take numpy arrays too).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .profiles import Power, ThermalParams


def _clip(value: Any, low: float, high: float) -> Any:
    """``value`` within [low, high]: a number, or elementwise for a numpy array."""
    return value.clip(low, high) if hasattr(value, "clip") else min(high, max(low, value))


@dataclass(frozen=True)
class Heat:
    """A device's thermal model, as its profile gives it (``thermal`` and ``power``)."""

    ambient_c: float
    r_c_per_w: float
    tau_s: float
    throttle_at_c: float
    max_c: float
    clock_floor: float
    idle_w: float
    busy_w: float

    @classmethod
    def of(cls, params: ThermalParams, power: Power) -> Heat:
        p = params
        return cls(
            p.ambient_c,
            p.r_c_per_w,
            p.tau_s,
            p.throttle_at_c,
            p.max_c,
            p.clock_floor,
            power.idle_w,
            power.busy_w,
        )

    def watts(self, utilisation: Any) -> Any:
        return self.idle_w + (self.busy_w - self.idle_w) * _clip(utilisation, 0.0, 1.0)

    def steady_c(self, utilisation: Any) -> Any:
        """Where the temperature settles under constant ``utilisation``."""
        return self.ambient_c + self.r_c_per_w * self.watts(utilisation)

    @property
    def idle_c(self) -> float:
        """The idle steady state: a device switched on a while ago, doing nothing."""
        return float(self.steady_c(0.0))

    def after(self, temp_c: Any, utilisation: Any, seconds: float) -> Any:
        """The temperature ``seconds`` later at constant ``utilisation`` (the exact step)."""
        steady = self.steady_c(utilisation)
        return steady + (temp_c - steady) * math.exp(-seconds / self.tau_s)

    def clock_fraction(self, temp_c: Any) -> Any:
        hot = _clip((temp_c - self.throttle_at_c) / (self.max_c - self.throttle_at_c), 0.0, 1.0)
        return 1.0 - (1.0 - self.clock_floor) * hot

    def factor(self, temp_c: Any) -> Any:
        """The throttle factor (1 / clock fraction) at ``temp_c``."""
        return 1.0 / self.clock_fraction(temp_c)

    def can_throttle(self) -> bool:
        """Whether the device gets hot enough to throttle at full load."""
        return bool(self.steady_c(1.0) > self.throttle_at_c)


class ThermalModel:
    """The model stepped in time on an emulated device: ``busy()`` reports compute seconds (stages,
    profiling runs, background tenants; any thread), ``step()`` advances to now with the utilisation since
    the previous step. Thread-safe: stages report from their threads while telemetry reads the temperature.
    It starts at the idle steady state."""

    def __init__(self, params: ThermalParams, power: Power, clock: Callable[[], float] = time.monotonic):
        self.params = params
        self.power = power
        self.heat = Heat.of(params, power)
        self.temp_c = self.heat.idle_c
        self.utilisation = 0.0  # over the latest step
        self._clock = clock
        self._last = clock()
        self._busy = 0.0  # busy seconds reported since the last step
        self._lock = threading.Lock()

    def busy(self, seconds: float) -> None:
        """Report ``seconds`` of compute (any unit, any thread); they count in the next step's utilisation."""
        with self._lock:
            self._busy += max(0.0, seconds)

    def step(self) -> float:
        """Advance the model to now; returns the temperature in °C."""
        with self._lock:
            now = self._clock()
            elapsed = now - self._last
            if elapsed <= 0:
                return self.temp_c
            # Work reported at its end may span the previous step too: what exceeds this step carries over,
            # so a long stage heats the device over its whole duration rather than in one spike.
            counted = min(self._busy, elapsed)
            self._busy -= counted
            self.utilisation = counted / elapsed
            self.temp_c = self.heat.after(self.temp_c, self.utilisation, elapsed)
            self._last = now
            return self.temp_c

    def watts(self) -> float:
        return float(self.heat.watts(self.utilisation))

    def clock_fraction(self, temp_c: float | None = None) -> float:
        return float(self.heat.clock_fraction(self.temp_c if temp_c is None else temp_c))

    def throttle_factor(self) -> float:
        """1 / clock fraction at the current temperature (steps the model first)."""
        return 1.0 / self.clock_fraction(self.step())

    def steady_state_c(self, utilisation: float) -> float:
        """Where the temperature settles under constant ``utilisation`` (for tests and documentation)."""
        return float(self.heat.steady_c(utilisation))
