"""A first-order (RC) thermal model: a busy device heats, a hot one throttles, an idle one cools.

    dT/dt = (ambient + R * P(u) - T) / tau,    P(u) = idle_w + (busy_w - idle_w) * u

``u`` is the utilisation since the previous step: the busy seconds reported through ``busy()`` (stage
compute, profiling runs, background tenants) over the elapsed time. With ``u`` constant over a step the
equation has an exact solution, so a step of any length is stable:

    T(t + dt) = T_ss + (T(t) - T_ss) * exp(-dt / tau),    T_ss = ambient + R * P(u)

Clock fraction: 1 up to ``throttle_at_c``, then linear down to ``clock_floor`` at ``max_c`` (and held there
above it), the way DVFS governors step clocks down. The throttle factor is 1 / clock fraction (>= 1): the
multiplier on compute time, as ``cpu.throttle_factor`` reports it for a real device. The model starts at
the idle steady state ``ambient + R * idle_w``: a device switched on a while ago, doing nothing.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ..profiles import Power, ThermalParams


class ThermalModel:
    """Thread-safe: stages report busy time from their own threads while telemetry reads the temperature."""

    def __init__(self, params: ThermalParams, power: Power, clock: Callable[[], float] = time.monotonic):
        self.params = params
        self.power = power
        # A device that has been on a while and idle: it starts at its idle steady state, not at ambient.
        self.temp_c = params.ambient_c + params.r_c_per_w * power.idle_w
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
            steady = self.params.ambient_c + self.params.r_c_per_w * self.watts()
            self.temp_c = steady + (self.temp_c - steady) * math.exp(-elapsed / self.params.tau_s)
            self._last = now
            return self.temp_c

    def watts(self) -> float:
        return self.power.idle_w + (self.power.busy_w - self.power.idle_w) * self.utilisation

    def clock_fraction(self, temp_c: float | None = None) -> float:
        p = self.params
        temp = self.temp_c if temp_c is None else temp_c
        if temp <= p.throttle_at_c:
            return 1.0
        hot = min(1.0, (temp - p.throttle_at_c) / (p.max_c - p.throttle_at_c))
        return 1.0 - (1.0 - p.clock_floor) * hot

    def throttle_factor(self) -> float:
        """1 / clock fraction at the current temperature (steps the model first)."""
        return 1.0 / self.clock_fraction(self.step())

    def steady_state_c(self, utilisation: float) -> float:
        """Where the temperature settles under constant ``utilisation`` (for tests and documentation)."""
        watts = self.power.idle_w + (self.power.busy_w - self.power.idle_w) * utilisation
        return self.params.ambient_c + self.params.r_c_per_w * watts
