"""The re-planning decision of ``adaptive``: estimates from frame traces, drift, hysteresis, evaluation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeorch.planning import Block, Device, Link, Model, Problem, Unit, plan
from edgeorch.planning.adaptive import (
    Conditions,
    Policy,
    apply,
    drift,
    evaluate,
    ewma,
    observe,
    pair,
    placement,
    should_replan,
    should_switch,
)

MB = 1e6


def problem(bandwidth: float = 10 * MB, edge_throttle: float = 1.0) -> Problem:
    """A phone (slow) and an edge (10x faster); three blocks whose activations shrink."""
    blocks = tuple(Block(i, f"b{i}", 1e6, out, 0.0) for i, out in enumerate((400e3, 100e3, 4e3)))
    model = Model("m", blocks, input_bytes=600e3, result_bytes=4e3)
    phone = Device("phone", units=(Unit("cpu", (0.04, 0.04, 0.04)),))
    edge = Device("edge", units=(Unit("cpu", (0.004, 0.004, 0.004)),))
    if edge_throttle != 1.0:
        from edgeorch.planning import DeviceState

        edge = Device("edge", units=edge.units, state=DeviceState(edge_throttle))
    return Problem(model, (phone, edge), (Link("phone", "edge", bandwidth, 0.002),), "phone")


def test_ewma_starts_at_the_first_sample_and_moves_by_alpha():
    assert ewma(None, 4.0, 0.5) == 4.0
    assert ewma(4.0, 8.0, 0.25) == 5.0


def test_it_estimates_a_links_bandwidth_from_the_bytes_and_transfer_time_of_a_cut():
    p = plan(problem(), "split", cut=1, device="edge").to_dict()
    p["devices"] = [{"id": "phone", "throttle": 1.0}, {"id": "edge", "throttle": 1.0}]
    frame = {"ok": True, "latency_s": 0.1, "trace": [
        {"stage": 0, "device": "phone", "queue_s": 0, "compute_s": 0.04, "transfer_s": 0.401},
        {"stage": 1, "device": "edge", "queue_s": 0, "compute_s": 0.008, "transfer_s": 0.0},
    ]}  # fmt: skip
    got = observe(
        Conditions(), p, [frame], input_bytes=600e3, source="phone", rtt={pair("phone", "edge"): 0.002}
    )
    assert got.bandwidth[pair("phone", "edge")] == pytest.approx(400e3 / 0.4)
    assert got.slowdown == {"phone": pytest.approx(1.0), "edge": pytest.approx(1.0)}


def test_it_reads_a_slower_device_from_compute_and_queueing_beyond_the_profile():
    p = plan(problem(), "split", cut=1, device="edge").to_dict()
    frame = {"ok": True, "latency_s": 0.1, "trace": [
        {"stage": 0, "device": "phone", "queue_s": 0.0, "compute_s": 0.08, "transfer_s": 0.05},
        {"stage": 1, "device": "edge", "queue_s": 0.008, "compute_s": 0.016, "transfer_s": 0.0},
    ]}  # fmt: skip
    got = observe(Conditions(), p, [frame], input_bytes=600e3, source="phone", policy=Policy(alpha=1.0))
    assert got.slowdown["phone"] == pytest.approx(2.0)
    assert got.slowdown["edge"] == pytest.approx(3.0)


def test_the_input_transfer_of_an_offloaded_frame_is_what_the_trace_leaves_unexplained():
    p = plan(problem(), "offload").to_dict()
    frame = {"ok": True, "latency_s": 0.312, "trace": [
        {"stage": 0, "device": "edge", "queue_s": 0.0, "compute_s": 0.012, "transfer_s": 0.0},
    ]}  # fmt: skip
    got = observe(Conditions(), p, [frame], input_bytes=600e3, source="phone")
    assert got.bandwidth[pair("phone", "edge")] == pytest.approx(600e3 / 0.3)


def test_failed_frames_and_traces_of_another_placement_are_ignored():
    p = plan(problem(), "split", cut=1, device="edge").to_dict()
    frames = [
        {"ok": False, "latency_s": 9, "trace": []},
        {"ok": True, "latency_s": 1, "trace": [{"compute_s": 9}]},
    ]
    assert observe(Conditions(), p, frames, input_bytes=1, source="phone") == Conditions()


def test_drift_names_each_condition_beyond_the_threshold():
    base = Conditions({("a", "b"): 10 * MB}, {"a": 1.0})
    assert drift(base, Conditions({("a", "b"): 11 * MB}, {"a": 1.2}), 0.25) == []
    reasons = drift(base, Conditions({("a", "b"): 1 * MB}, {"a": 2.0}), 0.25)
    assert len(reasons) == 2 and "-90%" in reasons[0] and "x2.00" in reasons[1]


@pytest.mark.parametrize(
    ("since", "now_bw", "act", "words"),
    [
        (1.0, 1 * MB, False, "cooling down"),
        (3.0, 1 * MB, True, "drift"),
        (3.0, 9 * MB, False, "no drift"),
        (11.0, 9 * MB, True, "periodic"),
    ],
)
def test_it_replans_on_drift_or_period_but_not_while_cooling_down(since, now_bw, act, words):
    base = Conditions({("a", "b"): 10 * MB})
    d = should_replan(base, Conditions({("a", "b"): now_bw}), since, Policy(cooldown_s=2, period_s=10))
    assert d.act is act and words in d.reason


@pytest.mark.parametrize(
    ("current", "candidate", "same", "act"),
    [
        (0.1, 0.05, True, False),
        (0.1, 0.095, False, False),
        (0.1, 0.085, False, True),
        (0.1, math.inf, False, False),
    ],
)
def test_it_switches_only_to_another_placement_faster_by_the_margin(current, candidate, same, act):
    assert should_switch(current, candidate, same, Policy(margin=0.1)).act is act


def test_evaluating_a_plans_own_placement_gives_its_predicted_latency():
    pr = problem()
    for strategy in ("local", "offload", "device-edge"):
        p = plan(pr, strategy)
        assert evaluate(pr, placement(p.to_dict())) == pytest.approx(p.latency)


def test_a_placement_on_an_unknown_device_cannot_run():
    assert evaluate(problem(), (("ghost", "cpu", 0, 2),)) == math.inf


def test_a_bandwidth_collapse_moves_the_best_plan_on_device_and_recovery_moves_it_back():
    fast = problem(50 * MB)
    before = plan(fast, "adaptive")
    collapsed = apply(fast, Conditions({pair("phone", "edge"): 0.05 * MB}))
    after = plan(collapsed, "adaptive")
    assert before.stages[-1].device == "edge" and {s.device for s in after.stages} == {"phone"}
    current = evaluate(collapsed, placement(before.to_dict()))
    assert should_switch(current, after.latency, False).act
    back = plan(apply(collapsed, Conditions({pair("phone", "edge"): 50 * MB})), "adaptive")
    assert placement(back.to_dict()) == placement(before.to_dict())


def test_a_hot_edge_is_avoided_once_its_slowdown_is_known():
    slow_edge = apply(problem(50 * MB), Conditions(slowdown={"edge": 40.0}))
    assert {s.device for s in plan(slow_edge, "adaptive").stages} == {"phone"}


@settings(max_examples=60, deadline=None)
@given(
    bw=st.floats(0.01 * MB, 100 * MB),
    throttle=st.floats(1.0, 20.0),
    margin=st.floats(0.0, 0.5),
)
def test_the_switch_decision_never_picks_a_plan_predicted_slower_than_the_current_one(bw, throttle, margin):
    pr = apply(problem(), Conditions({pair("phone", "edge"): bw}, {"edge": throttle}))
    best = plan(pr, "adaptive")
    for strategy in ("local", "offload"):
        current = evaluate(pr, placement(plan(problem(), strategy).to_dict()))
        decision = should_switch(current, best.latency, False, Policy(margin=margin))
        assert best.latency <= current + 1e-12
        if decision.act:
            assert best.latency < current * (1 - margin)


def test_a_sample_far_from_the_estimate_restarts_the_average_at_once():
    assert ewma(100.0, 4.0, 0.5, jump=0.5) == 4.0
    assert ewma(100.0, 80.0, 0.5, jump=0.5) == 90.0


def test_a_device_running_two_stages_is_judged_on_both_together():
    p = plan(problem(), "split", cut=1, device="edge").to_dict()
    # phone, edge, then back to the phone for a (nearly free) last stage that waited 10 ms behind the next frame
    p["stages"] = [*p["stages"], {**p["stages"][0], "compute": 0.0001}]
    p["cut_tensors"] = [*p["cut_tensors"], {"bytes": 4e3}]
    frame = {"ok": True, "latency_s": 0.2, "trace": [
        {"device": "phone", "queue_s": 0.0, "compute_s": 0.04, "transfer_s": 0.05},
        {"device": "edge", "queue_s": 0.0, "compute_s": 0.008, "transfer_s": 0.01},
        {"device": "phone", "queue_s": 0.01, "compute_s": 0.0001, "transfer_s": 0.0},
    ]}  # fmt: skip
    got = observe(Conditions(), p, [frame], input_bytes=600e3, source="phone", policy=Policy(alpha=1.0))
    assert got.slowdown["phone"] == pytest.approx(0.0501 / 0.0401)
