"""``device-edge``: the Neurosurgeon argmin of T(p), p = 0..n, over the source's units and every edge unit; by
an energy objective, the cut costing the source the fewest joules (Neurosurgeon's energy mode)."""

from __future__ import annotations

from ..cost import INF, Context, chain_plan, describe, top_alternatives
from ..errors import PlanningError
from ..model import Problem
from ..objective import LATENCY, cut_assignments, pick_chain
from ..plan import Alternative, Plan


def cut_latency(ctx: Context, src: int, edge: int, p: int) -> float:
    """Neurosurgeon T(p): blocks [0, p) on ``src``, [p, n) on ``edge`` (another device), with prefix sums."""
    n = len(ctx.blocks)
    if p == 0:
        return _tail(ctx, ctx.origin, edge, 0, ctx.problem.model.input_bytes)
    head = (
        ctx.transfer(ctx.origin, src, ctx.problem.model.input_bytes)
        + ctx.wait(src)
        + ctx.compute(src, 0, p - 1)
    )
    if not ctx.fits(ctx.sites[src].device, ctx.memory(0, p - 1)):
        return INF
    if p == n:
        return head + ctx.transfer(src, ctx.target, ctx.problem.model.result_bytes)
    return head + _tail(ctx, src, edge, p, ctx.blocks[p - 1].output_bytes)


def _tail(ctx: Context, sender: int, edge: int, p: int, nbytes: float) -> float:
    """Send ``nbytes`` to the edge, which queues, runs [p, n) and returns the result."""
    n = len(ctx.blocks)
    if not ctx.fits(ctx.sites[edge].device, ctx.memory(p, n - 1)):
        return INF
    return (
        ctx.transfer(sender, edge, nbytes)
        + ctx.wait(edge)
        + ctx.compute(edge, p, n - 1)
        + ctx.cut_cost(edge, p - 1)
        + ctx.transfer(edge, ctx.target, ctx.problem.model.result_bytes)
    )


def best_per_cut(ctx: Context, source: str) -> list[tuple[float, list[int]]]:
    """For each cut p, the best (latency, assignment) over source units x edge units."""
    n = len(ctx.blocks)
    edge_sites = [e for dev in ctx.edges() for e in ctx.device_sites(dev)]
    if not edge_sites:
        raise PlanningError("no edge device is online")
    best: list[tuple[float, list[int]]] = []
    for p in range(n + 1):
        lat, s, e = min(
            (cut_latency(ctx, s, e, p), s, e) for s in ctx.device_sites(source) for e in edge_sites
        )
        best.append((lat, [s] * p + [e] * (n - p)))
    return best


def run(problem: Problem, ctx: Context, objective: str = LATENCY) -> Plan:
    if objective != LATENCY:
        edges = [e for dev in ctx.edges() for e in ctx.device_sites(dev)]
        if not edges:
            raise PlanningError("no edge device is online")
        return by_objective(ctx, "device-edge", edges, objective)
    per_cut = best_per_cut(ctx, problem.source)
    lat, assignment = min(per_cut, key=lambda c: c[0])
    if lat == INF:
        raise PlanningError("the memory limits exclude every device-edge placement")
    alts = [Alternative(f"T({p}): " + describe(ctx, a), t) for p, (t, a) in enumerate(per_cut)]
    chosen = alts[per_cut.index((lat, assignment))].description
    return chain_plan(ctx, "device-edge", assignment, top_alternatives(alts, chosen))


def by_objective(ctx: Context, strategy: str, edges: list[int], objective: str) -> Plan:
    """Every cut over the source's units x ``edges``, ranked by ``objective`` (exact: all are tried)."""
    unreachable = "the memory limits or missing links exclude every cut"
    return pick_chain(ctx, strategy, cut_assignments(ctx, edges), objective, unreachable)
