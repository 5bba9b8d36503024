"""``energy``: Neurosurgeon's energy mode — the single cut between the source and an edge (or all-local)
that costs the source device the fewest joules (``energy.plan_energy``); with a deadline, the fewest among
the cuts that meet it (the fastest cut when none does, noted)."""

from __future__ import annotations

import math

from ..cost import Context, chain_plan, describe, latency_of
from ..energy import plan_energy
from ..errors import PlanningError
from ..model import Problem
from ..plan import Alternative, Plan


def candidates(ctx: Context) -> list[tuple[float, float, list[int]]]:
    """(source joules, latency, assignment) of every cut p = 0..n over source units x edge units."""
    n = len(ctx.blocks)
    sources = ctx.device_sites(ctx.problem.source)
    edges = [e for dev in ctx.edges() for e in ctx.device_sites(dev)] or sources
    out = []
    seen: set[tuple[int, ...]] = set()
    for p in range(n + 1):
        for s in sources:
            for e in edges:
                assignment = [s] * p + [e] * (n - p)
                latency = latency_of(ctx, assignment)
                if tuple(assignment) in seen or math.isinf(latency):
                    continue
                seen.add(tuple(assignment))
                joules = plan_energy(ctx, chain_plan(ctx, "energy", assignment)).total
                if joules is None:
                    raise PlanningError("the source device has no power model: its energy is unknown")
                out.append((joules, latency, assignment))
    return out


def run(problem: Problem, ctx: Context) -> Plan:
    options = candidates(ctx)
    if not options:
        raise PlanningError("the memory limits or missing links exclude every cut")
    deadline = problem.deadline
    meeting = [c for c in options if deadline is None or c[1] <= deadline]
    notes = []
    if meeting:
        joules, latency, best = min(meeting, key=lambda c: (c[0], c[1]))
    else:
        joules, latency, best = min(options, key=lambda c: (c[1], c[0]))
        notes.append(f"no cut meets the deadline of {deadline:g} s: the fastest is chosen")
    chosen = describe(ctx, best)
    alts = [Alternative(describe(ctx, a), t, energy=j) for j, t, a in sorted(options, key=lambda c: c[0])]
    others = [a for a in alts if a.description != chosen][:3]
    return chain_plan(ctx, "energy", best, others, notes)
