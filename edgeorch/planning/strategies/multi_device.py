"""``multi-device``: the optimal placement of the block chain over any sequence of devices/units (chain
DP)."""

from __future__ import annotations

import dataclasses
import math

from ..cost import Context, chain_plan, describe, latency_of, top_alternatives
from ..dp import optimal_chain
from ..energy import SourceJoules, plan_energy
from ..errors import PlanningError
from ..model import Problem
from ..plan import Alternative, Plan

OBJECTIVES = ("latency", "energy")


def chain_dp_plan(ctx: Context, strategy: str, sites: list[int]) -> Plan:
    """Plan from the chain DP over the given sites; runner-ups end on other sites."""
    best, others = optimal_chain(ctx, sites)
    alts = [Alternative(describe(ctx, a), latency_of(ctx, a)) for a in others]
    return chain_plan(ctx, strategy, best, top_alternatives(alts, describe(ctx, best)))


def run(problem: Problem, ctx: Context, objective: str = "latency") -> Plan:
    """``objective="energy"``: the placement costing the source device the fewest joules; with a deadline
    it misses, the latency-optimal one instead (noted)."""
    sites = list(range(len(ctx.sites)))
    if objective not in OBJECTIVES:
        raise PlanningError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if objective == "latency":
        return chain_dp_plan(ctx, "multi-device", sites)
    best, others = optimal_chain(ctx, sites, weights=SourceJoules(ctx))
    chosen = chain_plan(ctx, "multi-device", best)
    deadline = problem.deadline
    if deadline is not None and chosen.latency > deadline:
        fastest = chain_dp_plan(ctx, "multi-device", sites)
        note = f"the least-energy placement misses the deadline ({chosen.latency:.3g} s): the fastest instead"
        return dataclasses.replace(fastest, notes=(*fastest.notes, note))
    alts = [_alternative(ctx, a) for a in others if not math.isinf(latency_of(ctx, a))]
    return chain_plan(ctx, "multi-device", best, alts, ["objective: the source device's energy"])


def _alternative(ctx: Context, assignment: list[int]) -> Alternative:
    plan = chain_plan(ctx, "multi-device", assignment)
    joules = plan_energy(ctx, plan).total
    return Alternative(describe(ctx, assignment), plan.latency, energy=joules)
