"""Every optimal strategy equals exhaustive enumeration on small random problems."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeorch.planning import Problem, plan
from edgeorch.planning.cost import INF, Context
from edgeorch.planning.strategies.dag_mincut import DagCosts

from .instances import dag_problems, exhaustive, exhaustive_device_edge, exhaustive_pipeline, problems

fast = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(problems())
def test_device_edge_equals_exhaustive_search(problem: Problem) -> None:
    ctx = Context(problem)
    assert plan(problem, "device-edge").latency == pytest.approx(exhaustive_device_edge(ctx))


@fast
@given(problems())
def test_multi_device_equals_exhaustive_search(problem: Problem) -> None:
    ctx = Context(problem)
    assert plan(problem, "multi-device").latency == pytest.approx(exhaustive(ctx, range(len(ctx.sites))))


@fast
@given(problems(max_blocks=5))
def test_on_device_equals_exhaustive_search_over_the_source_units(problem: Problem) -> None:
    ctx = Context(problem)
    best = exhaustive(ctx, ctx.device_sites(problem.source))
    assert plan(problem, "on-device").latency == pytest.approx(best)


@fast
@given(problems(max_blocks=6), st.integers(1, 3), st.permutations(["d0", "d1", "d2"]))
def test_pipeline_equals_exhaustive_search_over_contiguous_partitions(
    problem: Problem, k: int, order
) -> None:
    chain = [d for d in order if d in {dev.id for dev in problem.devices}]
    ctx = Context(problem)
    result = plan(problem, "pipeline", k=k, devices=chain)
    assert 1 / result.throughput == pytest.approx(exhaustive_pipeline(ctx, chain, k))


@fast
@given(problems(max_blocks=5))
def test_pipeline_throughput_is_set_by_its_slowest_stage(problem: Problem) -> None:
    result = plan(problem, "pipeline")
    slowest = max([result.input_transfer] + [s.compute + s.transfer for s in result.stages])
    assert result.throughput == pytest.approx(1 / slowest)
    assert len({s.device for s in result.stages}) == len(result.stages)


@fast
@given(dag_problems())
def test_dag_mincut_equals_exhaustive_search_over_all_node_assignments(problem: Problem) -> None:
    ctx = Context(problem)
    best = INF
    for edge in ctx.edges():
        costs = DagCosts(ctx, edge)
        names = [n.name for n in problem.model.dag]
        for bits in itertools.product((False, True), repeat=len(names)):
            best = min(best, costs.latency({v for v, b in zip(names, bits, strict=True) if b}))
    assert plan(problem, "dag-mincut").latency == pytest.approx(best)


@fast
@given(problems())
def test_adaptive_is_the_better_of_device_edge_and_multi_device(problem: Problem) -> None:
    best = min(plan(problem, "device-edge").latency, plan(problem, "multi-device").latency)
    result = plan(problem, "adaptive")
    assert result.strategy == "adaptive"
    assert result.latency == pytest.approx(best)
