"""``energy``: Neurosurgeon's energy mode — the single cut between the source and an edge (or all-local)
that costs the source device the fewest joules (``energy.plan_energy``); with a deadline, the fewest among
the cuts that meet it (the fastest cut when none does, noted). That is ``device-edge`` by the objective
``energy_under_deadline`` (this strategy's default), except that with no edge online it still plans the
source's own units; another objective ranks the same cuts by it."""

from __future__ import annotations

from ..cost import Context
from ..model import Problem
from ..objective import UNDER_DEADLINE
from ..plan import Plan
from .device_edge import by_objective


def run(problem: Problem, ctx: Context, objective: str = UNDER_DEADLINE) -> Plan:
    sources = ctx.device_sites(problem.source)
    edges = [e for dev in ctx.edges() for e in ctx.device_sites(dev)] or sources
    return by_objective(ctx, "energy", edges, objective)
