"""A cut's ``cut_penalty`` (the catalog's fusion_penalty: layout conversions and broken fusions of splitting
there) is compute the stage after the cut pays, a fraction of the whole model's time on its site; the
planners count it, so they avoid a penalised cut unless it saves more than it costs."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeorch.planning import Block, Device, Link, Model, Problem, Unit, plan
from edgeorch.planning.cost import Context

from .instances import exhaustive, exhaustive_device_edge, exhaustive_pipeline, problems

fast = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def phone_and_edge(penalties=(0.0, 0.0, 0.0)) -> Problem:
    """Two cuts crossing the same bytes, after blocks 0 and 1; block 1 costs the phone 2 ms more than the
    edge, so without penalties the earlier cut is faster by 2 ms."""
    blocks = tuple(Block(i, f"b{i}", output_bytes=10_000, cut_penalty=p) for i, p in enumerate(penalties))
    phone = Device("phone", units=(Unit("cpu", (0.1, 0.012, 1.0)),))
    edge = Device("edge", units=(Unit("cpu", (0.01, 0.01, 0.1)),))
    model = Model("net", blocks, input_bytes=10_000_000, result_bytes=1_000)
    return Problem(model, (phone, edge), (Link("phone", "edge", 1e7, 0.0),), "phone")


def cut_after(result) -> int:
    return result.stages[0].last_block


@pytest.mark.parametrize("strategy", ["device-edge", "multi-device"])
def test_the_planner_avoids_a_penalised_cut_when_another_costs_the_same(strategy) -> None:
    assert cut_after(plan(phone_and_edge(), strategy)) == 0  # without penalties: the earlier cut
    assert cut_after(plan(phone_and_edge((0.5, 0.0, 0.0)), strategy)) == 1


@pytest.mark.parametrize("strategy", ["device-edge", "multi-device"])
def test_a_penalty_smaller_than_the_saving_does_not_move_the_cut(strategy) -> None:
    # Cutting after block 0 instead of 1 saves 2 ms; a 1% penalty costs 1% of the edge's 0.12 s: 1.2 ms.
    assert cut_after(plan(phone_and_edge((0.01, 0.0, 0.0)), strategy)) == 0


def test_the_stage_after_a_cut_pays_the_penalty_of_the_whole_model_on_its_site() -> None:
    result = plan(phone_and_edge((0.0, 0.2, 0.0)), "split", cut=2, device="edge")
    assert result.stages[0].compute == pytest.approx(0.112)
    assert result.stages[1].compute == pytest.approx(0.1 + 0.2 * 0.12)  # 20% of 0.12 s, the edge's whole
    assert result.latency == pytest.approx(sum(s.time for s in result.stages) + result.input_transfer)


@st.composite
def penalised(draw: st.DrawFn) -> Problem:
    problem = draw(problems())
    blocks = tuple(
        dataclasses.replace(b, cut_penalty=draw(st.floats(0.0, 0.5))) for b in problem.model.blocks
    )
    return dataclasses.replace(problem, model=dataclasses.replace(problem.model, blocks=blocks))


@fast
@given(penalised())
def test_multi_device_with_penalties_equals_exhaustive_search(problem: Problem) -> None:
    ctx = Context(problem)
    assert plan(problem, "multi-device").latency == pytest.approx(exhaustive(ctx, range(len(ctx.sites))))


@fast
@given(penalised())
def test_device_edge_with_penalties_equals_exhaustive_search(problem: Problem) -> None:
    ctx = Context(problem)
    assert plan(problem, "device-edge").latency == pytest.approx(exhaustive_device_edge(ctx))


@fast
@given(penalised(), st.integers(1, 3))
def test_pipeline_with_penalties_equals_exhaustive_search(problem: Problem, k: int) -> None:
    chain = [d.id for d in problem.devices]
    ctx = Context(problem)
    result = plan(problem, "pipeline", k=k, devices=chain)
    assert 1 / result.throughput == pytest.approx(exhaustive_pipeline(ctx, chain, k))
    slowest = max([result.input_transfer] + [s.compute + s.transfer for s in result.stages])
    assert result.throughput == pytest.approx(1 / slowest)
