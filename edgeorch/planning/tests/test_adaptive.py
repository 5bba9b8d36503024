"""The re-planning decision of ``adaptive``: estimates from frame traces, drift, hysteresis, evaluation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeorch.planning import Block, Device, Link, Model, Problem, Unit, plan
from edgeorch.planning.adaptive import (
    Conditions,
    Heat,
    Policy,
    apply,
    block_factors,
    calibrate,
    calibration_samples,
    device_key,
    drift,
    evaluate,
    fold,
    foresee,
    foreseen,
    involved,
    link_key,
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


def test_it_estimates_a_links_bandwidth_from_the_bytes_and_transfer_time_of_a_cut():
    p = plan(problem(), "split", cut=1, device="edge").to_dict()
    p["devices"] = [{"id": "phone", "throttle": 1.0}, {"id": "edge", "throttle": 1.0}]
    frame = {
        "ok": True,
        "latency_s": 0.1,
        "trace": [
            {"stage": 0, "device": "phone", "queue_s": 0, "compute_s": 0.04, "transfer_s": 0.401},
            {"stage": 1, "device": "edge", "queue_s": 0, "compute_s": 0.008, "transfer_s": 0.0},
        ],
    }
    got = observe(
        Conditions(), p, [frame], input_bytes=600e3, source="phone", rtt={pair("phone", "edge"): 0.002}
    )
    assert got.bandwidth[pair("phone", "edge")] == pytest.approx(400e3 / 0.4)
    assert got.slowdown == {"phone": pytest.approx(1.0), "edge": pytest.approx(1.0)}


def test_it_reads_a_slower_device_from_compute_and_queueing_beyond_the_profile():
    p = plan(problem(), "split", cut=1, device="edge").to_dict()
    frame = {
        "ok": True,
        "latency_s": 0.1,
        "trace": [
            {"stage": 0, "device": "phone", "queue_s": 0.0, "compute_s": 0.08, "transfer_s": 0.05},
            {"stage": 1, "device": "edge", "queue_s": 0.008, "compute_s": 0.016, "transfer_s": 0.0},
        ],
    }
    got = observe(Conditions(), p, [frame], input_bytes=600e3, source="phone")
    assert got.slowdown["phone"] == pytest.approx(2.0)
    assert got.slowdown["edge"] == pytest.approx(3.0)


def test_the_input_transfer_of_an_offloaded_frame_is_what_the_trace_leaves_unexplained():
    p = plan(problem(), "offload").to_dict()
    frame = {
        "ok": True,
        "latency_s": 0.312,
        "trace": [
            {"stage": 0, "device": "edge", "queue_s": 0.0, "compute_s": 0.012, "transfer_s": 0.0},
        ],
    }
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
        (1.0, 3 * MB, False, "cooling down"),
        (3.0, 3 * MB, True, "drift"),
        (3.0, 9 * MB, False, "no drift"),
        (11.0, 9 * MB, True, "periodic"),
    ],
)
def test_it_replans_on_drift_or_period_but_not_while_cooling_down(since, now_bw, act, words):
    base = Conditions({("a", "b"): 10 * MB})
    d = should_replan(base, Conditions({("a", "b"): now_bw}), since, Policy(cooldown_s=2, period_s=10))
    assert d.act is act and words in d.reason


def test_a_heating_devices_temperature_is_a_drift_of_its_own():
    base, policy = Conditions({("a", "b"): 10 * MB}, {"cam": 1.0}), Policy(cooldown_s=2, heat_drift_c=1.5)
    same = Conditions({("a", "b"): 10 * MB}, {"cam": 1.0})  # its throttle has not shown yet
    assert not should_replan(base, same, 3.0, policy, ("cam", 57.5, 58.5)).act
    d = should_replan(base, same, 3.0, policy, ("cam", 57.5, 59.2))
    assert d.act and "57.5 -> 59.2 C" in d.reason
    assert not should_replan(base, same, 1.0, policy, ("cam", 57.5, 65.0)).act  # still cooling down


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


def test_a_device_running_two_stages_is_judged_on_both_together():
    p = plan(problem(), "split", cut=1, device="edge").to_dict()
    # phone, edge, then back to the phone for a (nearly free) last stage that waited 10 ms behind the next
    # frame
    p["stages"] = [*p["stages"], {**p["stages"][0], "compute": 0.0001}]
    p["cut_tensors"] = [*p["cut_tensors"], {"bytes": 4e3}]
    frame = {
        "ok": True,
        "latency_s": 0.2,
        "trace": [
            {"device": "phone", "queue_s": 0.0, "compute_s": 0.04, "transfer_s": 0.05},
            {"device": "edge", "queue_s": 0.0, "compute_s": 0.008, "transfer_s": 0.01},
            {"device": "phone", "queue_s": 0.01, "compute_s": 0.0001, "transfer_s": 0.0},
        ],
    }
    got = observe(Conditions(), p, [frame], input_bytes=600e3, source="phone")
    assert got.slowdown["phone"] == pytest.approx(0.0501 / 0.0401)


# --- the robust estimator ----------------------------------------------------------------------------


def camera_frame(compute_s: float) -> dict:
    """A frame of the all-local plan of ``problem()`` (0.12 s profiled on the phone)."""
    return {
        "ok": True,
        "latency_s": compute_s,
        "trace": [{"device": "phone", "queue_s": 0.0, "compute_s": compute_s}],
    }


def local_plan() -> dict:
    return plan(problem(), "local").to_dict()


def test_a_single_noisy_frame_does_not_move_the_estimate():
    steady = observe(Conditions(), local_plan(), [camera_frame(0.12)] * 4, input_bytes=1, source="phone")
    assert steady.slowdown["phone"] == pytest.approx(1.0)
    spiked = observe(steady, local_plan(), [camera_frame(0.24)], input_bytes=1, source="phone")
    assert spiked.slowdown["phone"] == pytest.approx(1.0)  # x2 on one frame: the host, not the device
    after = observe(spiked, local_plan(), [camera_frame(0.12)], input_bytes=1, source="phone")
    assert after.slowdown["phone"] == pytest.approx(1.0)


def test_frames_beyond_the_jump_in_a_row_are_a_new_level_at_once():
    steady = observe(Conditions(), local_plan(), [camera_frame(0.12)] * 5, input_bytes=1, source="phone")
    two = observe(steady, local_plan(), [camera_frame(0.3)] * 2, input_bytes=1, source="phone")
    assert two.slowdown["phone"] == pytest.approx(1.0)  # a burst of host load lasts a frame or two
    hot = observe(two, local_plan(), [camera_frame(0.3)], input_bytes=1, source="phone")
    assert hot.slowdown["phone"] == pytest.approx(2.5)
    assert hot.recent[device_key("phone")] == pytest.approx((2.5, 2.5, 2.5))


def test_a_gradual_rise_is_followed_by_the_median():
    samples: tuple[float, ...] = ()
    for x in (1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6):
        samples = fold(samples, x, Policy())
    assert samples == pytest.approx((1.2, 1.3, 1.4, 1.5, 1.6))  # the median, 1.4, lags two frames


def test_a_link_collapse_is_a_change_point_on_its_first_frame_but_a_device_spike_is_not():
    policy = Policy()
    assert fold((10e6, 10e6, 10e6), 0.4e6, policy, policy.leap) == (0.4e6,)
    assert fold((1.0, 1.0, 1.0), 10.0, policy) == (1.0, 1.0, 1.0, 10.0)  # devices: no leap alone


def test_outliers_on_both_sides_are_not_a_change_point():
    policy = Policy()
    samples = fold(fold((1.0, 1.0, 1.0), 1.8, policy), 0.5, policy)
    assert samples == (1.0, 1.0, 1.0, 1.8, 0.5)


@settings(max_examples=80, deadline=None)
@given(
    level=st.floats(0.2, 5.0),
    noise=st.lists(st.floats(0.8, 1.25), min_size=5, max_size=30),
    spike=st.floats(1.6, 50.0),
    at=st.integers(0, 29),
)
def test_no_single_spike_moves_a_device_estimate_by_more_than_the_noise(level, noise, spike, at):
    samples: tuple[float, ...] = ()
    for k, x in enumerate(noise):
        samples = fold(samples, level * x, Policy())
        if k == at % len(noise) and k >= 2:
            samples = fold(samples, level * spike, Policy())
        estimate = sorted(samples)[len(samples) // 2] if len(samples) % 2 else None
        if estimate is not None:
            assert level * 0.8 - 1e-12 <= estimate <= level * 1.25 + 1e-12


def test_the_spread_of_an_estimate_is_its_relative_median_absolute_deviation():
    c = Conditions(recent={device_key("a"): (1.0, 1.2, 0.8, 1.0, 1.0), device_key("b"): (1.0, 3.0)})
    assert c.spread([device_key("a")]) == pytest.approx(0.0)
    assert Conditions(recent={device_key("a"): (1.0, 1.2, 0.8)}).spread([device_key("a")]) == pytest.approx(
        0.2
    )
    assert c.spread([device_key("b"), "link:x|y"]) == 0.0  # two samples tell no spread


def test_a_placement_rests_on_the_links_it_crosses_and_the_devices_it_runs_on():
    stages = (("phone", "cpu", 0, 0), ("edge", "cpu", 1, 2))
    assert involved(stages, "phone") == {
        link_key(pair("phone", "edge")),
        device_key("phone"),
        device_key("edge"),
    }
    assert involved((("phone", "cpu", 0, 2),), "phone") == {device_key("phone")}


# --- switching costs -----------------------------------------------------------------------------


def test_noise_widens_the_margin_a_switch_must_beat():
    assert should_switch(0.1, 0.085, False, Policy(margin=0.1)).act
    assert not should_switch(0.1, 0.085, False, Policy(margin=0.1), noise=0.1).act
    assert should_switch(0.1, 0.075, False, Policy(margin=0.1), noise=0.1).act


def test_going_back_to_a_placement_just_left_needs_twice_the_margin():
    assert not should_switch(0.1, 0.085, False, Policy(margin=0.1), back=True).act
    assert should_switch(0.1, 0.075, False, Policy(margin=0.1), back=True).act


def test_however_noisy_the_estimates_a_collapse_still_switches():
    assert should_switch(1.0, 0.5, False, Policy(margin=0.1, max_margin=0.4), noise=5.0).act
    assert not should_switch(1.0, 0.65, False, Policy(margin=0.1, max_margin=0.4), noise=5.0).act


def test_a_collapse_does_not_wait_out_the_cooldown_but_a_drift_does():
    base = Conditions({("a", "b"): 10 * MB})
    policy = Policy(cooldown_s=2, leap=8)
    assert should_replan(base, Conditions({("a", "b"): 0.4 * MB}), 0.5, policy).act
    assert not should_replan(base, Conditions({("a", "b"): 5 * MB}), 0.5, policy).act


def test_a_remembered_calibration_is_compute_over_profiled_at_full_speed():
    p = plan(problem(), "split", cut=1, device="edge").to_dict()
    p["devices"] = [{"id": "phone", "throttle": 2.0}, {"id": "edge", "throttle": 1.0}]  # planned while hot
    p["stages"][0]["compute"] = 0.08  # ... so 0.04 s at full speed
    trace = [
        {"device": "phone", "queue_s": 0.5, "compute_s": 0.06, "end": 10.0},  # the wait is not a bias
        {"device": "edge", "queue_s": 0.0, "compute_s": 0.004, "end": 10.1},
    ]
    got = calibration_samples(p, [trace], lambda device, at: 1.5 if device == "phone" else 1.0, ["phone"])
    assert got == {("phone", "cpu", 0, 0): [pytest.approx(0.06 / (0.04 * 1.5))]}
    p["stages"][0]["profiled"] = 0.05  # a plan that says its profiled compute (one already calibrated)
    got = calibration_samples(p, [trace], lambda device, at: 1.0, ["phone", "edge"])
    assert got == {
        ("phone", "cpu", 0, 0): [pytest.approx(0.06 / 0.05)],
        ("edge", "cpu", 1, 2): [pytest.approx(0.5)],
    }


def test_a_calibration_applies_to_the_blocks_it_was_measured_on_not_to_the_whole_device():
    """The camera ran only its first block in a split session, 2x faster than profiled (its per-block profile
    overestimates it): that says nothing about its other blocks, so all-local is not 2x faster too."""
    calibrated = calibrate(problem(), [("phone", "cpu", 0, 0, 0.5)])
    phone = next(d for d in calibrated.devices if d.id == "phone")
    assert phone.units[0].times == pytest.approx((0.02, 0.04, 0.04))
    assert evaluate(calibrated, (("phone", "cpu", 0, 2),)) == pytest.approx(0.10)  # not 0.5 x 0.12
    # so the split it was measured on stays the better plan (as a whole-device factor of 0.5 would not say)
    split = placement(plan(calibrated, "split", cut=1, device="edge").to_dict())
    assert evaluate(calibrated, split) < evaluate(calibrated, (("phone", "cpu", 0, 2),))
    assert plan(calibrated, "adaptive").stages[0].last_block == 0
    # The bug it replaces: one factor for the whole phone predicted all-local at 0.06 s (really 0.10 s) and
    # kept a block more there than the measurement warrants.
    as_one_factor = apply(problem(), Conditions(slowdown={"phone": 0.5}))
    assert evaluate(as_one_factor, (("phone", "cpu", 0, 2),)) == pytest.approx(0.06)
    assert plan(as_one_factor, "adaptive").stages[0].last_block > 0


def test_nested_spans_leave_the_longer_span_what_the_shorter_does_not_explain():
    times = (0.01, 0.01, 0.02, 0.04)
    # [0-1] measured at 0.5; [0-3] at 0.75 of its 0.08 s: 0.06 s, of which 0.01 s is [0-1]'s, so 0.05 s
    # for blocks 2-3's 0.06 s profiled
    got = block_factors(times, {(0, 3): 0.75, (0, 1): 0.5})
    assert got == pytest.approx([0.5, 0.5, 0.05 / 0.06, 0.05 / 0.06])
    assert block_factors(times, {(2, 2): 2.0}) == [None, None, 2.0, None]
    assert block_factors(times, {(0, 1): 0.5, (0, 3): 0.01})[2] == pytest.approx(0.01 / 4)  # bounded
    assert calibrate(problem(), []) == problem()


def test_a_device_factor_however_far_it_moves_waits_out_the_cooldown():
    base = Conditions(slowdown={"a": 1.0})
    assert not should_replan(base, Conditions(slowdown={"a": 10.0}), 0.5, Policy(cooldown_s=2)).act
    assert should_replan(base, Conditions(slowdown={"a": 10.0}), 2.5, Policy(cooldown_s=2)).act


# --- thermal foresight -------------------------------------------------------------------------------

ENCLOSURE = Heat(25.0, 12.0, 5.0, 62.0, 72.0, 0.4, 2.7, 6.4)  # scenarios/profiles/rpi4-hot-enclosure.json


def test_a_placement_that_heats_the_device_is_foreseen_slower_than_it_is_now():
    cool = 57.4
    local = foreseen(0.07, 0.07, ENCLOSURE, cool, rate=5, horizon_s=10)
    split = foreseen(0.10, 0.02, ENCLOSURE, cool, rate=5, horizon_s=10)
    assert local > 0.1 > split  # fast while cool, throttled within seconds
    assert split == pytest.approx(0.10)


def test_a_hot_device_left_idle_is_foreseen_cooling():
    hot = 70.0
    assert foreseen(0.1, 0.0, ENCLOSURE, hot, rate=5, horizon_s=10) == pytest.approx(0.1)
    light = foreseen(0.1, 0.05, ENCLOSURE, hot, rate=5, horizon_s=10)
    assert light < 0.1  # the device cools as it works less: its stages speed up


def test_a_device_that_cannot_reach_its_threshold_is_never_foreseen_throttled():
    server = Heat(22.0, 0.2, 300.0, 85.0, 95.0, 0.7, 60.0, 300.0)
    assert not server.can_throttle()
    assert foreseen(0.05, 0.05, server, 40.0, rate=5, horizon_s=10) == pytest.approx(0.05)


def test_foresight_prefers_a_plan_that_keeps_a_hot_prone_device_cool_over_one_fastest_now():
    pr = problem(bandwidth=5 * MB)  # offload 132 ms, none of it on the phone; faster plans compute there

    def on_phone(stages):
        return sum(last - first + 1 for device, _, first, last in stages if device == "phone")

    fastest = placement(plan(pr, "adaptive").to_dict())
    assert on_phone(fastest) >= 2 and evaluate(pr, fastest) < 0.125
    ranked = foresee(pr, "phone", ENCLOSURE, 57.4, rate=5, horizon_s=10, also=[fastest])
    scores = {stages: score for score, stages in ranked}
    assert len(scores) == 4  # every cut of the chain to the edge, local and offload included
    assert on_phone(ranked[0][1]) < on_phone(fastest) and ranked[0][0] < scores[fastest]
    assert scores[fastest] > evaluate(pr, fastest)  # foreseen as the phone throttles


def test_by_energy_a_switch_must_save_joules_by_the_margin():
    from edgeorch.planning.adaptive import judge

    assert judge("energy", None, (0.1, 1.0), (0.3, 0.5), False).act  # slower, but half the joules
    quiet = judge("energy", None, (0.1, 1.0), (0.05, 0.95), False)
    assert not quiet.act and "J" in quiet.reason  # faster, but 5% fewer joules is within the margin
    assert not judge("latency", None, (0.1, 1.0), (0.3, 0.5), False).act  # by latency: slower is worse


def test_under_a_deadline_the_deadline_comes_before_the_joules():
    from edgeorch.planning.adaptive import judge

    objective = "energy_under_deadline"
    missing = judge(objective, 0.2, (0.1, 1.0), (0.3, 0.1), False)
    assert not missing.act and "deadline" in missing.reason
    assert judge(objective, 0.2, (0.3, 0.1), (0.15, 2.0), False).act  # meets it again, at any price
    assert judge(objective, 0.2, (0.5, 0.1), (0.3, 2.0), False).act  # both miss: the faster
    assert judge(objective, 0.2, (0.1, 1.0), (0.15, 0.5), False).act  # both meet: the cheaper
    assert not judge(objective, 0.2, (0.1, 1.0), (0.15, 0.5), True).act  # the same placement


def test_a_placements_estimate_is_its_latency_and_the_sources_joules():
    import dataclasses

    from edgeorch.planning import Power
    from edgeorch.planning.adaptive import estimate

    base = problem()
    phone = dataclasses.replace(base.devices[0], power=Power(2.0, 6.0))
    priced = dataclasses.replace(base, devices=(phone, base.devices[1]))
    chosen = plan(priced, "device-edge")
    latency, joules = estimate(priced, placement(chosen.to_dict()))
    assert latency == pytest.approx(chosen.latency)
    assert joules == pytest.approx(chosen.energy.total)  # type: ignore[union-attr]
    assert estimate(priced, [("gone", "cpu", 0, 2)]) == (math.inf, None)


def test_a_dropped_frame_still_measures_the_links_it_crossed_but_not_the_devices():
    """A frame a stage dropped (its deadline out of reach: docs/qos.md) crossed the hops up to that stage:
    they are measured; its computes, incomplete, are not."""
    p = plan(problem(), "split", cut=1, device="edge").to_dict()
    dropped_at_edge = {
        "ok": False,
        "dropped": True,
        "latency_s": 0.45,
        "trace": [
            {"stage": 0, "device": "phone", "queue_s": 0, "compute_s": 0.04, "transfer_s": 0.401},
            {"stage": 1, "device": "edge", "queue_s": 0.0, "dropped": True},
        ],
    }
    got = observe(
        Conditions(),
        p,
        [dropped_at_edge],
        input_bytes=600e3,
        source="phone",
        rtt={pair("phone", "edge"): 0.002},
    )
    assert got.bandwidth[pair("phone", "edge")] == pytest.approx(400e3 / 0.4)
    assert got.slowdown == {}
    offloaded = plan(problem(), "offload").to_dict()
    dropped_on_arrival = {
        "ok": False,
        "dropped": True,
        "latency_s": 0.3,
        "trace": [{"stage": 0, "device": "edge", "queue_s": 0.0, "dropped": True}],
    }
    got = observe(Conditions(), offloaded, [dropped_on_arrival], input_bytes=600e3, source="phone")
    assert got.bandwidth[pair("phone", "edge")] == pytest.approx(600e3 / 0.3)
    # A failed frame that was not dropped says nothing, as before.
    assert (
        observe(
            Conditions(),
            offloaded,
            [{**dropped_on_arrival, "dropped": False}],
            input_bytes=600e3,
            source="phone",
        )
        == Conditions()
    )
