"""The catalog's per-cut fusion_penalty reaches the planner (catalog.fusion, planning.cost): each block
carries the penalty of the cut after it, and a split there pays it in the next stage's compute."""

from __future__ import annotations

import pytest

from edgeorch import planning
from edgeorch.plans.assembly import build_problem, planning_model

pytestmark = pytest.mark.django_db


def test_each_block_carries_the_penalty_of_the_cut_after_it(convnet):
    cuts = list(convnet.cut_points.order_by("index"))
    blocks = planning_model(convnet).blocks
    assert len(blocks) == len(cuts) + 1
    assert [b.cut_penalty for b in blocks[:-1]] == [c.fusion_penalty for c in cuts]
    assert blocks[-1].cut_penalty == 0.0  # no cut after the last block
    assert any(c.fusion_penalty > 0 for c in cuts) and not all(c.recommended for c in cuts)


def test_a_split_at_a_penalised_cut_pays_it_after_the_cut(convnet, phone, edge):
    problem = build_problem(convnet, [phone, edge], phone)
    cut = max(range(len(problem.model.blocks) - 1), key=lambda i: problem.model.blocks[i].cut_penalty)
    split = planning.plan(problem, "split", cut=cut + 1, device=str(edge.pk))
    alone = planning.plan(problem, "local")
    assert len(split.stages) == 2
    ctx = planning.Context(problem)
    whole_on_edge = ctx.compute(ctx.site_index(str(edge.pk), 0), 0, len(problem.model.blocks) - 1)
    edge_part = ctx.compute(ctx.site_index(str(edge.pk), 0), cut + 1, len(problem.model.blocks) - 1)
    penalty = problem.model.blocks[cut].cut_penalty * whole_on_edge
    assert penalty > 0
    assert split.stages[1].compute == pytest.approx(edge_part + penalty)
    assert alone.stages[0].compute == pytest.approx(sum(ctx.times[ctx.site_index(str(phone.pk), 0)]))
