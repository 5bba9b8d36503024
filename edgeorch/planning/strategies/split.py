"""``split``: a fixed cut between the source and a named device (the best units of each)."""

from __future__ import annotations

from ..cost import Context, chain_plan, describe, device_of, latency_of, top_alternatives
from ..errors import PlanningError
from ..model import Problem
from ..objective import LATENCY, pick_chain
from ..plan import Alternative, Plan


def run(problem: Problem, ctx: Context, cut: int, device: str, objective: str = LATENCY) -> Plan:
    """Blocks [0, cut) on the source, [cut, n) on ``device`` (the units of each the objective prefers)."""
    n = len(ctx.blocks)
    if not 0 <= cut <= n:
        raise PlanningError(f"cut must be between 0 and {n}, got {cut}")
    device_of(ctx, device)
    candidates = [
        (latency_of(ctx, a), a)
        for s in ctx.device_sites(problem.source)
        for e in ctx.device_sites(device)
        for a in [[s] * cut + [e] * (n - cut)]
    ]
    unreachable = f"cut {cut} to {device!r} breaks a memory limit or has no link"
    if objective != LATENCY:
        return pick_chain(ctx, "split", [a for _, a in candidates], objective, unreachable)
    candidates.sort(key=lambda c: c[0])
    if candidates[0][0] == float("inf"):
        raise PlanningError(unreachable)
    best = candidates[0][1]
    alts = [Alternative(describe(ctx, a), lat) for lat, a in candidates]
    return chain_plan(ctx, "split", best, top_alternatives(alts, describe(ctx, best)))
