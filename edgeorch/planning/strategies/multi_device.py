"""``multi-device``: the optimal placement of the block chain over any sequence of devices/units (chain
DP)."""

from __future__ import annotations

import math

from ..cost import INF, Context, chain_plan, describe, latency_of, top_alternatives
from ..dp import Seconds, optimal_chain
from ..energy import SourceJoules, plan_energy
from ..model import Problem
from ..objective import LATENCY, UNDER_DEADLINE
from ..plan import Alternative, Plan


def chain_dp_plan(ctx: Context, strategy: str, sites: list[int]) -> Plan:
    """Plan from the chain DP over the given sites; runner-ups end on other sites."""
    best, others = optimal_chain(ctx, sites)
    alts = [Alternative(describe(ctx, a), latency_of(ctx, a)) for a in others]
    return chain_plan(ctx, strategy, best, top_alternatives(alts, describe(ctx, best)))


def run(problem: Problem, ctx: Context, objective: str = LATENCY) -> Plan:
    """By ``objective="energy"``: the placement costing the source device the fewest joules, whatever its
    latency; by ``energy_under_deadline``, the cheapest the Lagrangian search finds within the deadline
    (``within_deadline``) when the least-energy one misses it."""
    return objective_plan(ctx, "multi-device", list(range(len(ctx.sites))), objective)


def objective_plan(ctx: Context, strategy: str, sites: list[int], objective: str) -> Plan:
    """The chain DP over ``sites`` by ``objective``: in seconds, or in the source's joules."""
    if objective == LATENCY:
        return chain_dp_plan(ctx, strategy, sites)
    joules = SourceJoules(ctx)
    best, others = optimal_chain(ctx, sites, weights=joules)
    notes = ["objective: the source device's energy"]
    deadline = ctx.problem.deadline
    if deadline is not None and latency_of(ctx, best) > deadline:
        if objective == UNDER_DEADLINE:
            best, note = within_deadline(ctx, sites, joules, deadline)
        else:
            note = f"it misses the deadline of {deadline:g} s (objective energy does not keep it)"
        notes.append(note)
    alts = [_alternative(ctx, a) for a in others if not math.isinf(latency_of(ctx, a)) and a != best]
    return chain_plan(ctx, strategy, best, alts, notes)


class _Priced(Seconds):
    """Joules plus ``price`` x seconds: the Lagrangian of least energy under a latency bound."""

    def __init__(self, joules: SourceJoules, price: float) -> None:
        super().__init__(joules.ctx)
        self.joules, self.price, self.seconds = joules, price, Seconds(joules.ctx)

    def compute(self, site: int) -> float:
        return self.joules.compute(site) + self.price

    def transfer(self, a: int, b: int) -> tuple[float, float]:
        (ef, ep), (tf, tp) = self.joules.transfer(a, b), self.seconds.transfer(a, b)
        return (INF, INF) if tp == INF else (ef + self.price * tf, ep + self.price * tp)

    def wait(self, site: int) -> float:
        return self.joules.wait(site) + self.price * self.seconds.wait(site)


def within_deadline(
    ctx: Context, sites: list[int], joules: SourceJoules, deadline: float, steps: int = 40
) -> tuple[list[int], str]:
    """The cheapest placement found that meets ``deadline``: minimise joules + price x seconds, raising the
    price (W) until the plan is fast enough, then bisecting it. Exact on the lower convex hull of
    (latency, energy); a placement inside the hull can be missed (the constrained problem is a resource-
    constrained shortest path). When even the fastest placement misses, the fastest."""
    fastest, _ = optimal_chain(ctx, sites)
    if latency_of(ctx, fastest) > deadline:
        return fastest, f"no placement meets the deadline of {deadline:g} s: the fastest"
    feasible, low, high = fastest, 0.0, 1.0
    for _ in range(steps):  # a price high enough to meet the deadline
        candidate, _ = optimal_chain(ctx, sites, weights=_Priced(joules, high))
        if latency_of(ctx, candidate) <= deadline:
            feasible = _cheaper(ctx, feasible, candidate)
            break
        low, high = high, high * 4
    for _ in range(steps):
        price = (low + high) / 2
        candidate, _ = optimal_chain(ctx, sites, weights=_Priced(joules, price))
        if latency_of(ctx, candidate) <= deadline:
            feasible, high = _cheaper(ctx, feasible, candidate), price
        else:
            low = price
    return (
        feasible,
        f"the least-energy placement misses the deadline of {deadline:g} s: the cheapest within it",
    )


def _cheaper(ctx: Context, a: list[int], b: list[int]) -> list[int]:
    return min((a, b), key=lambda x: plan_energy(ctx, chain_plan(ctx, "multi-device", x)).total or 0.0)


def _alternative(ctx: Context, assignment: list[int]) -> Alternative:
    plan = chain_plan(ctx, "multi-device", assignment)
    joules = plan_energy(ctx, plan).total
    return Alternative(describe(ctx, assignment), plan.latency, energy=joules)
