"""``local``: every block on the source device, on its fastest unit (or, by an energy objective, the unit
costing it the fewest joules)."""

from __future__ import annotations

from ..cost import Context, chain_plan, describe, latency_of, top_alternatives
from ..errors import PlanningError
from ..model import Problem
from ..objective import LATENCY, pick_chain
from ..plan import Alternative, Plan


def single_site_candidates(ctx: Context, sites: list[int]) -> list[tuple[float, list[int]]]:
    """(latency, assignment) of running the whole chain on each given site, fastest first."""
    n = len(ctx.blocks)
    out = [(latency_of(ctx, [s] * n), [s] * n) for s in sites]
    return sorted(out, key=lambda c: c[0])


def best_single_site(
    ctx: Context, strategy: str, sites: list[int], what: str, objective: str = LATENCY
) -> Plan:
    """The plan running everything on the best of ``sites``; runner-ups are the other sites."""
    unreachable = f"no {what} can hold the whole model (memory limits or missing links)"
    if objective != LATENCY:
        n = len(ctx.blocks)
        return pick_chain(ctx, strategy, [[s] * n for s in sites], objective, unreachable)
    candidates = single_site_candidates(ctx, sites)
    if not candidates or candidates[0][0] == float("inf"):
        raise PlanningError(unreachable)
    best = candidates[0][1]
    alts = [Alternative(describe(ctx, a), lat) for lat, a in candidates]
    return chain_plan(ctx, strategy, best, top_alternatives(alts, describe(ctx, best)))


def run(problem: Problem, ctx: Context, objective: str = LATENCY) -> Plan:
    sites = ctx.device_sites(problem.source)
    return best_single_site(ctx, "local", sites, "unit of the source device", objective)
