"""A run's energy: the source device's joules for one traced request, predicted and emulated.

No agent measures power yet, so "measured" energy is *emulated*: the run's traced compute seconds on the
source and its measured latency priced by the source's profile power model (``planning.energy``'s formula,
``idle_w x latency + (busy_w - idle_w) x compute``) plus the plan's predicted radio joules (the radio is not
traced). docs/energy.md.
"""

from __future__ import annotations

from typing import Any

from edgeorch import planning

from .assembly import device_power

HOW = "emulated: traced compute and latency x the source's profile power model, plus the planned radio"


def run_energy(plan: dict | None, trace: list | None, latency_s: float | None, source) -> dict[str, Any]:
    """``{predicted_j, emulated_j, how}`` for one request of a run from ``source`` (a Device row)."""
    planned = (plan or {}).get("energy") or {}
    power = device_power(source)
    emulated = None
    if power is not None and latency_s is not None:
        compute = sum(
            float(t.get("compute_s") or 0.0)
            for t in trace or []
            if isinstance(t, dict) and str(t.get("device")) == str(source.pk)
        )
        emulated = emulated_joules(power, latency_s, compute, float(planned.get("radio") or 0.0))
    return {"predicted_j": planned.get("total"), "emulated_j": emulated, "how": HOW}


def emulated_joules(power: planning.Power, latency_s: float, compute_s: float, radio_j: float) -> float:
    return power.idle_w * latency_s + (power.busy_w - power.idle_w) * min(compute_s, latency_s) + radio_j
