"""What a strategy minimises where it has a choice (docs/energy.md, "Objectives").

``latency`` (the default): the strategy's own criterion — the fastest plan (``pipeline``: the most frames
per second). ``energy``: the plan costing the source device the fewest joules (``energy.plan_energy``),
whatever its latency: a deadline is only noted when missed. ``energy_under_deadline``: the fewest joules
among the plans that meet ``Problem.deadline``, the fastest when none does (noted); without a deadline, as
``energy``.

Each strategy searches its own space (device-edge: single cuts; multi-device: any chain; pipeline: its
partitions; ...) and ranks its candidates with ``choose``. The space's fastest plan is always among them,
so ``energy_under_deadline`` never returns a plan that misses the deadline when one of the space meets it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from .cost import Context, chain_plan, describe, latency_of
from .energy import plan_energy
from .errors import PlanningError
from .plan import Alternative, Plan

OBJECTIVES = ("latency", "energy", "energy_under_deadline")
LATENCY, ENERGY, UNDER_DEADLINE = OBJECTIVES

T = TypeVar("T")


def check(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise PlanningError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    return objective


@dataclass(frozen=True)
class Option(Generic[T]):
    """A candidate: its latency, the source's joules (None when not weighed) and what it is."""

    latency: float
    joules: float | None
    item: T

    def key(self, objective: str) -> tuple[float, float]:
        """What ``objective`` sorts by: seconds first, or joules first (ties broken by the other)."""
        joules = math.inf if self.joules is None else self.joules
        return (self.latency, joules) if objective == LATENCY else (joules, self.latency)


def source_joules(ctx: Context, plan: Plan) -> float:
    """The source device's joules for one inference of ``plan`` (a PlanningError without a power model)."""
    joules = plan_energy(ctx, plan).total
    if joules is None:
        raise PlanningError("the source device has no power model: its energy is unknown")
    return joules


def choose(
    options: Sequence[Option[T]], objective: str, deadline: float | None
) -> tuple[Option[T], list[str]]:
    """The option ``objective`` prefers, and notes saying why (a PlanningError when none is reachable)."""
    finite = [o for o in options if math.isfinite(o.latency)]
    if not finite:
        raise PlanningError("no candidate placement is reachable")
    fastest = min(finite, key=lambda o: o.key(LATENCY))
    if objective == LATENCY:
        return fastest, []
    if objective == UNDER_DEADLINE and deadline is not None:
        meeting = [o for o in finite if o.latency <= deadline]
        if not meeting:
            return fastest, [f"no placement meets the deadline of {deadline:g} s: the fastest"]
        return min(meeting, key=lambda o: o.key(objective)), [
            f"objective: the source device's energy within the deadline of {deadline:g} s"
        ]
    best = min(finite, key=lambda o: o.key(objective))
    notes = ["objective: the source device's energy"]
    if deadline is not None and best.latency > deadline:
        notes.append(f"it misses the deadline of {deadline:g} s (objective energy does not keep it)")
    return best, notes


def chain_options(
    ctx: Context, strategy: str, assignments: Iterable[Sequence[int]], objective: str
) -> list[Option[list[int]]]:
    """Each distinct reachable assignment with its latency, and its source joules unless by latency."""
    out: list[Option[list[int]]] = []
    seen: set[tuple[int, ...]] = set()
    for assignment in assignments:
        if tuple(assignment) in seen:
            continue
        seen.add(tuple(assignment))
        latency = latency_of(ctx, assignment)
        if math.isinf(latency):
            continue
        plan = chain_plan(ctx, strategy, assignment)
        joules = None if objective == LATENCY else source_joules(ctx, plan)
        out.append(Option(latency, joules, list(assignment)))
    return out


def pick_chain(
    ctx: Context,
    strategy: str,
    assignments: Iterable[Sequence[int]],
    objective: str,
    unreachable: str,
    notes: Sequence[str] = (),
) -> Plan:
    """The plan of the assignment ``objective`` prefers among ``assignments`` (``unreachable``: the
    PlanningError's message when none can run); the next three as alternatives, with their joules."""
    options = chain_options(ctx, strategy, assignments, objective)
    if not options:
        raise PlanningError(unreachable)
    best, why = choose(options, objective, ctx.problem.deadline)
    chosen = describe(ctx, best.item)
    ranked = sorted(options, key=lambda o: o.key(objective))
    alts = [Alternative(describe(ctx, o.item), o.latency, energy=o.joules) for o in ranked]
    others = [a for a in alts if a.description != chosen][:3]
    return chain_plan(ctx, strategy, best.item, others, [*why, *notes])


def cut_assignments(ctx: Context, edges: Sequence[int]) -> list[list[int]]:
    """Every single cut p = 0..n: blocks [0, p) on one of the source's units, [p, n) on one of ``edges``."""
    n = len(ctx.blocks)
    sources = ctx.device_sites(ctx.problem.source)
    return [[s] * p + [e] * (n - p) for p in range(n + 1) for s in sources for e in edges]
