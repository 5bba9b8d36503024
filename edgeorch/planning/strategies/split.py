"""``split``: a fixed cut between the source and a named device (the best units of each)."""

from __future__ import annotations

from ..cost import Context, chain_plan, describe, device_of, latency_of, top_alternatives
from ..errors import PlanningError
from ..model import Problem
from ..plan import Alternative, Plan


def run(problem: Problem, ctx: Context, cut: int, device: str) -> Plan:
    """Blocks [0, cut) on the source, [cut, n) on ``device``."""
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
    candidates.sort(key=lambda c: c[0])
    if candidates[0][0] == float("inf"):
        raise PlanningError(f"cut {cut} to {device!r} breaks a memory limit or has no link")
    best = candidates[0][1]
    alts = [Alternative(describe(ctx, a), lat) for lat, a in candidates]
    return chain_plan(ctx, "split", best, top_alternatives(alts, describe(ctx, best)))
