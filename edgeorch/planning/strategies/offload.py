"""``offload``: the raw input to the best single edge node, the result back."""

from __future__ import annotations

from ..cost import Context
from ..errors import PlanningError
from ..model import Problem
from ..objective import LATENCY
from ..plan import Plan
from .local import best_single_site


def run(problem: Problem, ctx: Context, objective: str = LATENCY) -> Plan:
    sites = [s for dev in ctx.edges() for s in ctx.device_sites(dev)]
    if not sites:
        raise PlanningError("no edge device is online")
    return best_single_site(ctx, "offload", sites, "online edge device", objective)
