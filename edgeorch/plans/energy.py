"""A run's energy: the source device's joules per request, predicted and emulated.

No agent measures power yet, so "measured" energy is *emulated*: a request's traced compute seconds on the
source and its measured latency priced by the source's profile power model (``planning.energy``'s formula,
``idle_w x latency + (busy_w - idle_w) x compute``) plus the plan's predicted radio joules (the radio is not
traced). docs/energy.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .assembly import device_power

HOW = "emulated: traced compute and latency x the source's profile power model, plus the planned radio"


def run_energy(plan: dict | None, trace: list | None, latency_s: float | None, source) -> dict[str, Any]:
    """``{predicted_j, emulated_j, how}`` for one request of a run from ``source`` (a Device row)."""
    return mean_energy(plan, [] if latency_s is None else [(trace, latency_s)], source)


def mean_energy(plan: dict | None, requests: Iterable[tuple[list | None, float]], source) -> dict[str, Any]:
    """``run_energy`` over (trace, latency_s) requests, ``emulated_j`` their mean (the profile read once)."""
    planned = (plan or {}).get("energy") or {}
    power = device_power(source)
    radio = float(planned.get("radio") or 0.0)
    joules: list[float] = []
    for trace, latency in requests:
        if power is None:
            break
        compute = sum(
            float(t.get("compute_s") or 0.0)
            for t in trace or []
            if isinstance(t, dict) and str(t.get("device")) == str(source.pk)
        )
        joules.append(power.idle_w * latency + (power.busy_w - power.idle_w) * min(compute, latency) + radio)
    emulated = sum(joules) / len(joules) if joules else None
    return {"predicted_j": planned.get("total"), "emulated_j": emulated, "how": HOW}
