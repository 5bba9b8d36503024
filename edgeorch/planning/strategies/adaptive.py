"""``adaptive``: for a one-shot plan, the better of device-edge and multi-device (live re-planning is
separate)."""

from __future__ import annotations

from dataclasses import replace

from ..cost import Context
from ..errors import PlanningError
from ..model import Problem
from ..plan import Alternative, Plan
from . import device_edge, multi_device


def run(problem: Problem, ctx: Context) -> Plan:
    plans = []
    for module in (device_edge, multi_device):
        try:
            plans.append(module.run(problem, ctx))
        except PlanningError:
            continue
    if not plans:
        raise PlanningError("neither device-edge nor multi-device has a plan")
    best = min(plans, key=lambda p: p.latency)
    others = [Alternative(f"{p.strategy} plan", p.latency) for p in plans if p is not best]
    return replace(best, strategy="adaptive", alternatives=tuple(others) + best.alternatives)
