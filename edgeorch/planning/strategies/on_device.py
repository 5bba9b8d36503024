"""``on-device``: the optimum over the source device's own processing units (shared-memory transfers)."""

from __future__ import annotations

from ..cost import Context
from ..errors import PlanningError
from ..model import Problem
from ..objective import LATENCY
from ..plan import Plan
from .multi_device import objective_plan


def run(problem: Problem, ctx: Context, objective: str = LATENCY) -> Plan:
    if not ctx.fits(problem.source, ctx.memory(0, len(ctx.blocks) - 1)):
        raise PlanningError(f"the model does not fit in the memory of {problem.source!r}")
    return objective_plan(ctx, "on-device", ctx.device_sites(problem.source), objective)
