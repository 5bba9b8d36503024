"""Every strategy takes an objective (latency, energy, energy_under_deadline): it changes the plan where the
energy model says it must, and ``energy_under_deadline`` never misses a deadline that a plan of the
strategy's space meets (hypothesis against brute force)."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeorch.planning import (
    STRATEGIES,
    Block,
    DagNode,
    Device,
    Link,
    Model,
    PlanningError,
    Power,
    Problem,
    Unit,
    plan,
)
from edgeorch.planning.cost import Context, chain_plan, latency_of
from edgeorch.planning.objective import OBJECTIVES, source_joules
from edgeorch.planning.strategies.dag_mincut import DagCosts, dag_plan
from edgeorch.planning.strategies.pipeline import best_partition, default_chains, pipeline_plan

from .instances import dag_problems, priced, problems

fast = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHAIN_STRATEGIES = ("local", "offload", "device-edge", "energy", "multi-device", "on-device", "adaptive")


def costly_input(kind: str = "lte") -> Problem:
    """8 Mbit of input over 100 Mbit/s: offloading it is faster (0.11 s against 0.3 s) but its radio costs
    the camera more joules than computing locally (cheap in time, costly in energy)."""
    model = Model("big-input", (Block(0, "b0", output_bytes=1e6), Block(1, "b1", output_bytes=1e3)), 1e6, 1e3)
    devices = (
        Device("cam", units=(Unit("cpu", (0.15, 0.15)),), power=Power(2.0, 6.0)),
        Device("srv", units=(Unit("gpu", (0.015, 0.015)),), power=Power(50.0, 200.0)),
    )
    return Problem(model, devices, (Link("cam", "srv", 12.5e6, kind=kind),), "cam")


def on_camera(p) -> int:
    return sum(1 for s in p.stages if s.device == "cam" for _ in range(s.first_block, s.last_block + 1))


@pytest.mark.parametrize("strategy", ["device-edge", "multi-device", "adaptive", "pipeline"])
def test_an_energy_objective_keeps_the_work_on_the_camera_when_its_radio_is_dear(strategy):
    fast_plan = plan(costly_input(), strategy)
    frugal = plan(costly_input(), strategy, objective="energy")
    assert on_camera(fast_plan) == 0 and on_camera(frugal) == 2, (fast_plan.stages, frugal.stages)
    assert frugal.energy.total < fast_plan.energy.total  # type: ignore[union-attr, operator]
    assert frugal.latency > fast_plan.latency
    assert (fast_plan.objective, frugal.objective) == ("latency", "energy")
    assert frugal.to_dict()["objective"] == "energy"


@pytest.mark.parametrize("strategy", ["device-edge", "multi-device", "adaptive", "pipeline"])
def test_energy_under_a_deadline_offloads_again_when_local_would_miss_it(strategy):
    bounded = dataclasses.replace(costly_input(), deadline=0.2)
    assert on_camera(plan(bounded, strategy, objective="energy")) == 2  # energy alone ignores the deadline
    chosen = plan(bounded, strategy, objective="energy_under_deadline")
    assert chosen.latency <= 0.2 and on_camera(chosen) == 0


def test_offload_by_energy_takes_the_edge_behind_the_cheaper_radio():
    """The LTE edge is reached faster (100 against 40 Mbit/s), the Wi-Fi edge for fewer joules."""
    model = Model("m", (Block(0, "b0", output_bytes=1e3),), 1e6, 1e3)
    devices = (
        Device("cam", units=(Unit("cpu", (0.3,)),), power=Power(2.0, 6.0)),
        Device("near", units=(Unit("gpu", (0.01,)),), power=Power(50.0, 200.0)),
        Device("far", units=(Unit("gpu", (0.01,)),), power=Power(50.0, 200.0)),
    )
    links = (Link("cam", "near", 12.5e6, kind="lte"), Link("cam", "far", 5e6, kind="wifi"))
    problem = Problem(model, devices, links, "cam")
    assert plan(problem, "offload").stages[0].device == "near"
    assert plan(problem, "offload", objective="energy").stages[0].device == "far"


def test_dag_mincut_by_energy_cuts_after_the_small_tensor_when_the_radio_is_dear():
    nodes = (
        DagNode("in", {"cam": 0.001, "srv": 0.001}, 1e6, ("conv",)),
        DagNode("conv", {"cam": 0.15, "srv": 0.015}, 1e3, ("head",)),
        DagNode("head", {"cam": 0.15, "srv": 0.015}, 1e3, ()),
    )
    problem = costly_input()
    dag = Problem(Model("dag", (), 0.0, 1e3, nodes), problem.devices, problem.links, "cam")
    quick = plan(dag, "dag-mincut")
    assert quick.stages[0].nodes == ("in",)  # the 1 MB input node's output goes up the link
    frugal = plan(dag, "dag-mincut", objective="energy")
    assert frugal.stages[0].nodes == ("in", "conv") and frugal.objective == "energy"  # 1 kB goes up
    assert frugal.energy.total < quick.energy.total  # type: ignore[union-attr, operator]


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_strategy_takes_every_objective_and_refuses_another(strategy):
    params = {"cut": 1, "device": "srv"} if strategy == "split" else {}
    problem = costly_input()
    if strategy == "dag-mincut":
        nodes = (
            DagNode("a", {"cam": 0.1, "srv": 0.01}, 1e3, ("b",)),
            DagNode("b", {"cam": 0.1, "srv": 0.01}),
        )
        problem = Problem(Model("dag", (), 0.0, 0.0, nodes), problem.devices, problem.links, "cam")
    for objective in OBJECTIVES:
        if objective not in (STRATEGIES[strategy].objectives or OBJECTIVES):  # ans learns delays alone
            with pytest.raises(PlanningError, match="objective is latency"):
                plan(problem, strategy, objective=objective, **params)
            continue
        assert plan(problem, strategy, objective=objective, **params).objective == objective
    assert plan(problem, strategy, **params).objective == STRATEGIES[strategy].objective
    with pytest.raises(PlanningError, match="objective"):
        plan(problem, strategy, objective="battery", **params)
    assert STRATEGIES[strategy].to_dict()["objective"] in OBJECTIVES


def test_an_energy_objective_needs_the_sources_power_model():
    problem = costly_input()
    bare = Device("cam", units=(Unit("cpu", (0.15, 0.15)),))
    unknown = Problem(problem.model, (bare, problem.devices[1]), problem.links, "cam")
    assert plan(unknown, "device-edge").energy.total is None  # type: ignore[union-attr]
    with pytest.raises(PlanningError, match="power model"):
        plan(unknown, "device-edge", objective="energy")


# --- energy_under_deadline against brute force -------------------------------------------------------


def chain_space(strategy: str, ctx: Context) -> Iterator[list[int]]:
    """Every assignment the strategy may choose among."""
    n = len(ctx.blocks)
    source = ctx.device_sites(ctx.problem.source)
    edges = [e for d in ctx.edges() for e in ctx.device_sites(d)]
    if strategy == "local":
        return ([s] * n for s in source)
    if strategy == "offload":
        return ([e] * n for e in edges)
    if strategy in ("device-edge", "energy"):
        return ([s] * p + [e] * (n - p) for p in range(n + 1) for s in source for e in edges or source)
    sites = source if strategy == "on-device" else range(len(ctx.sites))
    return (list(a) for a in itertools.product(sites, repeat=n))


def priced_options(ctx: Context, assignments) -> list[tuple[float, float]]:
    """(latency, source joules) of every reachable assignment."""
    out = []
    for a in assignments:
        latency = latency_of(ctx, a)
        if not math.isinf(latency):
            out.append((latency, source_joules(ctx, chain_plan(ctx, "brute", a))))
    return out


EXACT = {"local", "offload", "device-edge", "energy"}  # they try every option: the cheapest, exactly


def check_under_deadline(chosen, options: list[tuple[float, float]], deadline: float, exact: bool) -> None:
    meeting = [j for t, j in options if t <= deadline]
    assert chosen.objective == "energy_under_deadline"
    if meeting:
        assert chosen.latency <= deadline + 1e-9, "it misses a deadline some plan meets"
        assert chosen.energy.total >= min(meeting) - 1e-9
        if exact:
            assert chosen.energy.total == pytest.approx(min(meeting), rel=1e-9, abs=1e-12)
    else:
        assert chosen.latency == pytest.approx(min(t for t, _ in options))


@fast
@given(priced(problems(max_blocks=3)), st.sampled_from(CHAIN_STRATEGIES))
def test_energy_under_deadline_never_misses_a_deadline_a_chain_plan_meets(problem, strategy):
    ctx = Context(problem)
    space = "multi-device" if strategy == "adaptive" else strategy
    options = priced_options(ctx, chain_space(space, ctx))
    chosen = plan(problem, strategy, objective="energy_under_deadline")
    check_under_deadline(chosen, options, problem.deadline, strategy in EXACT)
    fastest = plan(problem, strategy)
    if fastest.latency <= problem.deadline:  # never dearer than the fastest plan that meets it
        assert chosen.energy.total <= fastest.energy.total + 1e-9  # type: ignore[union-attr, operator]


@fast
@given(priced(problems(max_blocks=3)), st.sampled_from(CHAIN_STRATEGIES))
def test_objective_energy_finds_the_cheapest_plan_of_the_space(problem, strategy):
    ctx = Context(problem)
    space = "multi-device" if strategy == "adaptive" else strategy
    cheapest = min(j for _, j in priced_options(ctx, chain_space(space, ctx)))
    chosen = plan(problem, strategy, objective="energy")
    assert chosen.energy.total == pytest.approx(cheapest, rel=1e-9, abs=1e-12)  # type: ignore[union-attr]


@fast
@given(priced(problems(max_blocks=3)), st.sampled_from(["local", "on-device"]))
def test_on_one_device_the_fastest_plan_is_the_cheapest(problem, strategy):
    """Every unit of a device draws its busy power, and waiting its idle power: a slower plan there never
    costs fewer joules, so the objective never changes a single-device choice."""
    by_time, by_energy = plan(problem, strategy), plan(problem, strategy, objective="energy")
    assert by_energy.energy.total == pytest.approx(by_time.energy.total)  # type: ignore[union-attr]


@fast
@given(priced(dag_problems(max_nodes=6)))
def test_dag_mincut_energy_under_deadline_never_misses_a_deadline_a_partition_meets(problem):
    ctx = Context(problem)
    options = []
    for edge in ctx.edges():
        costs = DagCosts(ctx, edge)
        names = [n.name for n in problem.model.dag]
        for bits in itertools.product((False, True), repeat=len(names)):
            part = {v for v, b in zip(names, bits, strict=True) if b}
            latency = costs.latency(part)
            if not math.isinf(latency):
                options.append((latency, source_joules(ctx, dag_plan(costs, part, []))))
    chosen = plan(problem, "dag-mincut", objective="energy_under_deadline")
    check_under_deadline(chosen, options, problem.deadline, exact=False)
    assert plan(problem, "dag-mincut", objective="energy").energy.total >= min(j for _, j in options) - 1e-9


@fast
@given(priced(problems(max_blocks=4)))
def test_pipeline_energy_under_deadline_ranks_its_partitions(problem):
    """A pipeline chooses among its partitions (the best for each chain and stage count): by
    ``energy_under_deadline``, the cheapest of those within the deadline, else the fastest."""
    ctx = Context(problem)
    parts = [p for c in default_chains(ctx, problem.source) for p in best_partition(ctx, c, len(c), {})]
    options = []
    for part in parts:
        if math.isfinite(part.bottleneck):
            candidate = pipeline_plan(ctx, part, [])
            options.append((candidate.latency, source_joules(ctx, candidate)))
    chosen = plan(problem, "pipeline", objective="energy_under_deadline")
    check_under_deadline(chosen, options, problem.deadline, exact=True)
