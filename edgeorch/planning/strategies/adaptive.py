"""``adaptive``: for a one-shot plan, the better of device-edge and multi-device by the objective (live
re-planning is separate)."""

from __future__ import annotations

from dataclasses import replace

from ..cost import Context
from ..errors import PlanningError
from ..model import Problem
from ..objective import LATENCY, Option, choose, source_joules
from ..plan import Alternative, Plan
from . import device_edge, multi_device


def run(problem: Problem, ctx: Context, objective: str = LATENCY) -> Plan:
    plans = []
    for module in (device_edge, multi_device):
        try:
            plans.append(module.run(problem, ctx, objective=objective))
        except PlanningError:
            continue
    if not plans:
        raise PlanningError("neither device-edge nor multi-device has a plan")
    weigh = objective != LATENCY
    options = [Option(p.latency, source_joules(ctx, p) if weigh else None, p) for p in plans]
    chosen, _ = choose(options, objective, problem.deadline)
    best = chosen.item
    others = [
        Alternative(f"{o.item.strategy} plan", o.latency, energy=o.joules) for o in options if o is not chosen
    ]
    return replace(best, strategy="adaptive", alternatives=tuple(others) + best.alternatives)
