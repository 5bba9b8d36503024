"""``ans``: the arms the source learns among, and the plan it starts on."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeorch.planning import Block, Device, Link, Model, PlanningError, Problem, Unit
from edgeorch.planning import plan as plan_with
from edgeorch.planning.cost import Context
from edgeorch.planning.strategies import ans
from edgeorch.planning.strategies.device_edge import cut_latency

from .instances import problems


def plan(problem: Problem, strategy: str, **params):
    return plan_with(problem, strategy, **params)


fast = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def three_devices() -> Problem:
    blocks = tuple(Block(i, f"b{i}", output_bytes=b) for i, b in enumerate((400_000, 50_000, 300_000, 1_000)))
    phone = Device("phone", units=(Unit("cpu", (0.05, 0.05, 0.05, 0.05)),))
    near = Device("near", units=(Unit("gpu", (0.01, 0.01, 0.01, 0.01)),))
    far = Device("far", units=(Unit("gpu", (0.01, 0.01, 0.01, 0.01)),))
    links = (
        Link("phone", "near", 2e6, 0.01),
        Link("phone", "far", 1e5, 0.05),
        Link("near", "far", 1e6, 0.01),
    )
    model = Model("net", blocks, input_bytes=600_000, result_bytes=1_000)
    return Problem(model, (phone, near, far), links, "phone")


def test_every_cut_not_dominated_is_an_arm_and_the_plan_is_the_fastest_of_them() -> None:
    problem = three_devices()
    result = plan(problem, "ans")
    ctx = Context(problem)
    predicted = [cut_latency(ctx, 0, 1, p) for p in range(5)]
    # Cut 3 sends 300 kB where cut 2 sends 50 kB, and runs block 2 on the phone (0.05 s) where the near
    # edge runs it in 0.01 s: cut 2 beats it on any link, so it is no arm.
    assert [a.cut for a in result.arms] == [0, 1, 2, 4]
    assert [a.predicted_s for a in result.arms] == pytest.approx([predicted[p] for p in (0, 1, 2, 4)])
    assert result.latency == pytest.approx(min(predicted))
    assert {s.device for s in result.stages} <= {"phone", "near"}  # the best edge: the near one
    assert result.arms[2].front_s == pytest.approx(0.10)  # two blocks on the phone
    assert result.arms[0].front_s == 0.0


def test_k_keeps_the_k_cuts_predicted_fastest_and_local() -> None:
    problem = three_devices()
    ctx = Context(problem)
    offloading = sorted((0, 1, 2), key=lambda p: (cut_latency(ctx, 0, 1, p), p))  # cut 3: dominated
    result = plan(problem, "ans", k=2)
    assert [a.cut for a in result.arms] == [*sorted(offloading[:2]), 4]


def test_a_named_edge_is_used_and_the_source_is_refused() -> None:
    result = plan(three_devices(), "ans", edge="far")
    assert {s.device for s in result.stages} <= {"phone", "far"}
    with pytest.raises(PlanningError, match="another device"):
        plan(three_devices(), "ans", edge="phone")
    with pytest.raises(PlanningError, match="unknown or offline"):
        plan(three_devices(), "ans", edge="nowhere")


def test_bad_k_and_other_objectives_are_refused() -> None:
    with pytest.raises(PlanningError, match="k must be"):
        plan(three_devices(), "ans", k=-1)
    with pytest.raises(PlanningError, match="latency"):
        plan(three_devices(), "ans", objective="energy")


def test_the_arms_serialise_and_other_plans_keep_their_shape() -> None:
    data = json.loads(json.dumps(plan(three_devices(), "ans").to_dict()))
    assert [a["cut"] for a in data["arms"]] == [0, 1, 2, 4]
    assert "arms" not in plan(three_devices(), "device-edge").to_dict()


@fast
@given(problems())
def test_the_plan_is_always_one_of_its_arms(problem: Problem) -> None:
    try:
        result = plan(problem, "ans")
    except PlanningError:
        return
    source_blocks = sum(s.last_block - s.first_block + 1 for s in result.stages if s.device == problem.source)
    assert source_blocks in {a.cut for a in result.arms}
    assert result.latency == pytest.approx(min(a.predicted_s for a in result.arms))


def _relinked(problem: Problem, a: str, b: str, bandwidth: float, rtt: float, loss: float) -> Problem:
    """``problem`` with every link between ``a`` and ``b`` replaced by one of these values."""
    links = tuple(
        replace(link, bandwidth=bandwidth, rtt=rtt, loss=loss) if {link.a, link.b} == {a, b} else link
        for link in problem.links
    )
    return replace(problem, links=links)


@fast
@given(
    problems(memory=True),
    st.lists(
        st.tuples(st.floats(1e4, 1e10), st.floats(0.0, 0.5), st.floats(0.0, 0.9)), min_size=1, max_size=4
    ),
)
def test_a_pruned_cut_never_beats_the_arms_whatever_the_link(problem: Problem, relinks) -> None:
    """The pruning rule (``ans.dominated``): on the arms' edge, with the source-edge link replaced by any
    bandwidth, round trip and loss, the fastest reachable cut is as fast as the fastest arm."""
    try:
        result = plan(problem, "ans")
    except PlanningError:
        return
    edge = result.arms[0].edge
    arms = {a.cut for a in result.arms}
    n = len(problem.model.blocks)
    for bandwidth, rtt, loss in relinks:
        ctx = Context(_relinked(problem, problem.source, edge, bandwidth, rtt, loss))
        times = {
            p: min(
                cut_latency(ctx, s, e, p)
                for s in ctx.device_sites(problem.source)
                for e in ctx.device_sites(edge)
            )
            for p in range(n + 1)
        }
        best_arm = min(times[p] for p in arms)
        assert best_arm <= min(times.values()) * (1 + 1e-9) + 1e-12


def test_cuts_whose_activation_outgrows_an_earlier_ones_are_pruned_and_the_rest_kept() -> None:
    """A mobilenet-like shape: the first block's output is larger than the raw input; later ones shrink."""
    sizes = (800_000, 300_000, 400_000, 100_000, 5_000)
    blocks = tuple(Block(i, f"b{i}", output_bytes=b) for i, b in enumerate(sizes))
    cam = Device("cam", units=(Unit("cpu", (0.02,) * 5),))
    edge = Device("edge", units=(Unit("gpu", (0.002,) * 5),))
    problem = Problem(
        Model("m", blocks, 600_000, 1_000), (cam, edge), (Link("cam", "edge", 1e7, 0.004),), "cam"
    )
    # cut 1 (800 kB > 600 kB raw) and cut 3 (400 kB > cut 2's 300 kB) are dominated; local (5) stays.
    assert [a.cut for a in plan(problem, "ans").arms] == [0, 2, 4, 5]
    # An edge slower than the camera: sending the raw input and running block 0 there is no better, so
    # nothing is pruned by bytes alone.
    slow = replace(edge, units=(Unit("gpu", (0.2,) * 5),))
    slow_problem = replace(problem, devices=(cam, slow))
    assert [a.cut for a in plan(slow_problem, "ans").arms] == [0, 1, 2, 3, 4, 5]
    # prune false: every reachable cut is an arm, as in the paper; the plan is still the fastest of them.
    unpruned = plan(problem, "ans", prune=False)
    assert [a.cut for a in unpruned.arms] == [0, 1, 2, 3, 4, 5]
    assert unpruned.latency == pytest.approx(plan(problem, "ans").latency)
    with pytest.raises(PlanningError, match="prune must be true or false"):
        plan(problem, "ans", prune="no")


def catalog_blocks() -> list[dict]:
    """Three blocks as the catalog records them (``MLModel.blocks``)."""
    return [
        {
            "input_bytes": 4000,
            "macs_by_category": {"conv": 100, "act": 10},
            "op_counts": {"conv": 1, "act": 1},
        },
        {"input_bytes": 1000, "macs_by_category": {"conv": 50, "fc": 0}, "op_counts": {"conv": 1}},
        {"input_bytes": 200, "macs_by_category": {"fc": 20, "other": 4}, "op_counts": {"fc": 1, "other": 2}},
    ]


def test_an_arms_context_is_its_back_ends_work_and_the_bytes_at_its_cut_each_scaled_to_order_one():
    x = ans.contexts(catalog_blocks(), [0, 1, 2, 3])
    assert ans.CONTEXT_FEATURES == ("constant", "cut_bytes", "macs_conv", "macs_fc", "macs_other", "ops")
    # Back end of cut 0: everything (conv 150, fc 20, other 14 MACs, 6 ops); of cut 2: the last block.
    assert x[0] == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert x[1] == [1.0, 0.25, round(50 / 150, 6), 1.0, round(4 / 14, 6), round(4 / 6, 6)]
    assert x[2] == [1.0, 0.05, 0.0, 1.0, round(4 / 14, 6), 0.5]
    assert x[3] == [0.0] * 6  # the local arm: nothing to learn
    assert all(0.0 <= v <= 1.0 for row in x for v in row)


def test_a_feature_no_arm_has_stays_zero():
    blocks = [{"input_bytes": 8, "macs_by_category": {"conv": 5}, "op_counts": {"conv": 1}}] * 2
    assert ans.contexts(blocks, [1]) == [[1.0, 1.0, 1.0, 0.0, 0.0, 1.0]]
