"""Background tenants: other users of an emulated device, so that this agent's own stages really queue.

A ``BackgroundTenant`` is a thread that, every ``period`` seconds, occupies one of the device's units for
``share * period`` seconds, then leaves it idle for the rest of the period. Stages need the same unit
(``EmulatedDevice.occupy``), so a stage arriving during a tenant's burst waits for it: its queueing is real,
not computed. The tenant's busy time heats the device like any other work (``EmulatedDevice.busy``).
``share`` can change while it runs (the ``tenant`` message).

The tenant holds the unit without using this host's processor: the emulated device's processor is the unit,
and it is taken. Burning a host core instead would slow every other emulated device sharing this host, which
on real hardware has processors of its own.
"""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager
from typing import Protocol


class Occupiable(Protocol):
    """What a tenant needs of the device it shares (``EmulatedDevice``)."""

    def occupy(self, unit: str | None = None) -> AbstractContextManager[float]: ...

    def busy(self, seconds: float) -> None: ...


DEFAULT_PERIOD = 0.05  # short enough that a stage waits at most one burst, long enough to cost little


class BackgroundTenant:
    def __init__(
        self, device: Occupiable, share: float, period: float = DEFAULT_PERIOD, unit: str | None = None
    ):
        self.device = device
        self.period = period
        self.unit = unit
        self.share = check_share(share)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="edgeorch-tenant", daemon=True)

    def start(self) -> BackgroundTenant:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * self.period + 1.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            share = self.share
            if share > 0:
                self._burst(share * self.period)
            self._stop.wait((1.0 - share) * self.period)

    def _burst(self, seconds: float) -> None:
        with self.device.occupy(self.unit):
            began = time.perf_counter()
            self._stop.wait(seconds)
            held = time.perf_counter() - began
        self.device.busy(held)


def check_share(share: float) -> float:
    # A share of 1 would hold the unit forever: this agent's stages would never run.
    if not 0.0 <= share < 1.0:
        raise ValueError(f"a background load share must be in [0, 1), not {share}")
    return float(share)
