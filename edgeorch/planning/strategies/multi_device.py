"""``multi-device``: the optimal placement of the block chain over any sequence of devices/units (chain
DP)."""

from __future__ import annotations

from ..cost import Context, chain_plan, describe, latency_of, top_alternatives
from ..dp import optimal_chain
from ..model import Problem
from ..plan import Alternative, Plan


def chain_dp_plan(ctx: Context, strategy: str, sites: list[int]) -> Plan:
    """Plan from the chain DP over the given sites; runner-ups end on other sites."""
    best, others = optimal_chain(ctx, sites)
    alts = [Alternative(describe(ctx, a), latency_of(ctx, a)) for a in others]
    return chain_plan(ctx, strategy, best, top_alternatives(alts, describe(ctx, best)))


def run(problem: Problem, ctx: Context) -> Plan:
    return chain_dp_plan(ctx, "multi-device", list(range(len(ctx.sites))))
