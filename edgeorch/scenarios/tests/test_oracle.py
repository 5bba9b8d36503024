"""The oracle and the report's numbers: windows, calibration, ratios, percentiles, MAPE."""

from __future__ import annotations

import math

import pytest
from edgeorch_wire.profiles import Power, ThermalParams
from edgeorch_wire.thermal import ThermalModel
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeorch.scenarios import oracle as o
from edgeorch.scenarios.spec import parse


def scenario():
    return parse(
        {
            "model": "m",
            "window_s": 5,
            "devices": [
                {"name": "cam", "profile": "rpi4"},
                {"name": "edge", "role": "edge", "profile": "edge-server"},
            ],
            "links": [{"between": ["cam", "edge"], "bandwidth_bps": {"steps": [[0, 1e8], [10, 4e6]]}}],
            "background": [{"device": "edge", "share": {"steps": [[0, 0.0], [5, 0.5]]}}],
            "session": {"source": "cam", "rate": 2, "duration_s": 15},
        }
    )


def frames(latencies, rate=2.0):
    return [{"request_id": i, "ok": True, "latency_s": x, "t": i / rate} for i, x in enumerate(latencies)]


def test_windows_cover_the_session_and_read_conditions_at_their_middle():
    sc = scenario()
    assert o.windows(sc) == [0, 1, 2]
    assert o.link_conditions(sc, 0)[("cam", "edge")][0] == 1e8
    assert o.link_conditions(sc, 2)[("cam", "edge")][0] == 4e6
    assert o.shares(sc, 0) == {"edge": 0.0} and o.shares(sc, 1) == {"edge": 0.5}


def test_a_device_slowdown_folds_throttle_and_background_share():
    assert o.slowdowns({"cam": 2.0}, {"edge": 0.5}) == {"cam": 2.0, "edge": 2.0}


def test_the_throttle_of_a_window_is_the_lowest_any_run_reported_there():
    runs = [
        {"cam": [(1.0, {"cpu.throttle_factor": 2.0}), (6.0, {"cpu.throttle_factor": 3.0})]},
        {"cam": [(2.0, {"cpu.throttle_factor": 1.5}), (3.0, {"temp.emulated": 70})]},
    ]
    assert o.throttles(runs, 0, 5.0) == {"cam": 1.5}
    assert o.throttles(runs, 1, 5.0) == {"cam": 3.0}
    assert o.throttles(runs, 2, 5.0) == {}


def test_the_oracle_never_exceeds_what_some_strategy_achieved_in_a_window():
    predicted = {0: 0.05, 1: 0.05, 2: 0.2}
    measured = [{0: 0.07, 1: 0.04}, {2: 0.1}]
    assert o.calibrate(predicted, measured) == {0: 0.05, 1: 0.04, 2: 0.1}


def test_only_the_scenarios_model_calibrates_the_oracle():
    """A qoe-bandit's frames answered by a smaller variant are faster than any plan of the base model: they
    must not lower the base model's oracle (they did: learning/variants-bandwidth-collapse's window 2 at
    the variant's 1.0 ms where the model itself took 1.5)."""
    frames = [
        {"ok": True, "t": 0.5, "latency_s": 0.001, "model": "digits-cnn-quarter"},
        {"ok": True, "t": 1.0, "latency_s": 0.003, "model": "digits-cnn"},
        {"ok": True, "t": 1.5, "latency_s": 0.002},  # no model said: the session's own
        {"ok": False, "t": 1.5, "latency_s": 0.0001, "model": "digits-cnn"},
    ]
    assert o.measured_means(frames, 4.0) == {0: pytest.approx(0.002)}
    assert o.measured_means(frames, 4.0, "digits-cnn") == {0: pytest.approx(0.0025)}
    calibrated = o.calibrate({0: 0.004}, [o.measured_means(frames, 4.0, "digits-cnn")])
    assert calibrated == {0: pytest.approx(0.0025)}


def test_a_strategy_row_has_percentiles_misses_switches_and_its_ratio_to_the_oracle():
    fs = frames([0.1] * 10 + [1.0] * 10 + [0.1] * 9)  # 29 frames ok, the 30th failed
    fs.append({"request_id": 29, "ok": False, "latency_s": 60.0, "t": 14.5})
    oracle = {0: 0.1, 1: 0.1, 2: 0.1, 3: 0.1}
    row = o.summarise(fs, frames_expected=30, window_s=5, oracle=oracle, deadline_s=0.5, switches=2)
    assert row["frames_ok"] == 29 and row["missing"] == 0 and row["duplicates"] == 0
    assert row["deadline_misses"] == 11  # ten slow frames and one failed
    assert row["p50_s"] == pytest.approx(0.1) and row["p99_s"] == pytest.approx(1.0)
    assert row["mean_s"] == pytest.approx((19 * 0.1 + 10 * 1.0) / 29)
    assert row["oracle_ratio"] == pytest.approx(row["mean_s"] / 0.1)
    assert row["switches"] == 2


def test_missing_frames_count_as_deadline_misses():
    row = o.summarise(frames([0.1] * 5), frames_expected=8, window_s=5, oracle={0: 0.1})
    assert row["missing"] == 3 and row["deadline_misses"] == 3


def test_mape_uses_the_prediction_in_force_for_each_frame_after_the_warm_up():
    fs = frames([0.1, 0.1, 0.2, 0.2])
    assert o.mape(fs, [(0, 0.1), (2, 0.3)], steady_from_s=0.0) == pytest.approx((0 + 0 + 0.5 + 0.5) / 4)
    assert o.mape(fs, [(0, 0.1), (2, 0.3)], steady_from_s=1.0) == pytest.approx(0.5)
    assert o.mape(fs, [], 0.0) is None


def test_percentiles_interpolate_and_an_empty_list_has_none():
    assert o.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert o.percentile([], 0.5) is None


def test_the_oracle_row_weighs_windows_by_their_frames():
    row = o.oracle_row({0: 0.1, 1: 0.3}, {0: 3, 1: 1})
    assert row["mean_s"] == pytest.approx(0.15) and not math.isnan(row["p95_s"])


def test_the_report_records_per_window_the_arms_a_learning_run_chose_and_their_latency():
    from edgeorch.scenarios import report
    from edgeorch.scenarios.runner import StrategyRun

    rows = frames([0.04, 0.05, 0.2, 0.1, 0.3, 0.06])  # two per second: windows of 5 s hold frames 0-9
    for f, arm in zip(rows, [3, 3, 0, 11, 11, 11], strict=True):
        f["arm"] = arm
    rows[4]["ok"] = False  # a failed frame counts as chosen, not in the mean
    rows += [{**f, "t": f["t"] + 5.0, "request_id": f["request_id"] + 10} for f in frames([0.07], 2.0)]
    rows[-1]["arm"] = 11
    run = StrategyRun("ans", "s", "completed", "", rows, [], [])
    first = report.arms_in(run, 0, 5.0)
    assert first["cuts"] == {"11": 3, "3": 2, "0": 1}  # most taken first
    assert first["mean_s"] == pytest.approx((0.04 + 0.05 + 0.2 + 0.1 + 0.06) / 5)
    assert report.arms_in(run, 1, 5.0) == {"cuts": {"11": 1}, "mean_s": pytest.approx(0.07)}
    assert report.arms_in(StrategyRun("local", "s", "completed", "", frames([0.1]), [], []), 0, 5.0) is None
    text = report.markdown(
        {
            "scenario": "x",
            "window_s": 5.0,
            "strategies": {},
            "windows": [
                {"window": 0, "plan": "cam[0-9]", "oracle_s": 0.05, "arms": {"ans": first}},
                {"window": 1, "plan": "cam[0-9]", "oracle_s": 0.05, "arms": {}},
            ],
        }
    )
    assert "ans's arms per window (cut x frames): 0s 11x3, 3x2, 0x1 (90.0 ms); 5s none (– ms)" in text


# --- the thermal bound -----------------------------------------------------------------------------

HOT = ThermalParams(
    ambient_c=25.0, r_c_per_w=12.0, tau_s=5.0, throttle_at_c=62.0, max_c=72.0, clock_floor=0.4
)
PI = Power(idle_w=2.7, busy_w=6.4)
LOCAL = o.Option(0.07, 0.07, "local")  # fast, all of it on the camera: heats it
SPLIT = o.Option(0.11, 0.02, "split")  # slower, little of it on the camera
IDLE_C = 25.0 + 12.0 * 2.7


def simulate(choose, options, frames=120, interval=0.2, start=IDLE_C, heat_scale=1.0):
    """Mean latency of a plan sequence, ``choose(temperature) -> option``, on the agents' own thermal model
    (``emulation.thermal``), stepped as the emulated device steps it: throttle read at a frame's start, its
    compute reported as busy time."""
    now = [0.0]
    model = ThermalModel(HOT, PI, clock=lambda: now[0])
    model.temp_c = start
    total = 0.0
    for _ in range(frames):
        f = model.throttle_factor()
        option = choose(model.temp_c, options)
        total += option.latency_s + option.heated_s * (f - 1.0)
        model.busy(option.heated_s * heat_scale * f)
        now[0] += interval
    return total / frames


def bound(options, frames=120, interval=0.2, start=IDLE_C, heat_scale=1.0):
    path = o.thermal_path(
        [options] * frames, interval_s=interval, params=HOT, power=PI, start_c=start, heat_scale=heat_scale
    )
    return sum(latency for _, latency in path) / frames


def always(label):
    return lambda temp, options: next(x for x in options if x.label == label)


def above(limit):
    return lambda temp, options: SPLIT if temp > limit else LOCAL


def test_a_single_placement_is_simulated_as_the_emulated_device_heats():
    assert bound([LOCAL]) == pytest.approx(simulate(always("local"), [LOCAL]), rel=0.01)
    assert bound([LOCAL]) <= simulate(always("local"), [LOCAL]) + 1e-12  # rounded cool, never warm


def test_a_device_that_heats_cannot_stay_cool_in_the_bound():
    # The previous oracle assumed the cool camera computing locally (70 ms) all along; no plan achieves that.
    assert bound([LOCAL, SPLIT]) > LOCAL.latency_s * 1.2


@pytest.mark.parametrize("choose", [always("local"), always("split"), above(60.0), above(64.0), above(68.0)])
def test_the_thermal_bound_is_below_every_plan_sequence(choose):
    assert bound([LOCAL, SPLIT]) <= simulate(choose, [LOCAL, SPLIT]) + 1e-12


@settings(max_examples=40, deadline=None)
@given(
    local=st.floats(0.02, 0.2),
    split=st.floats(0.05, 0.4),
    heated=st.floats(0.0, 1.0),
    start=st.floats(50.0, 70.0),
    limits=st.lists(st.floats(55.0, 75.0), min_size=1, max_size=3),
    scale=st.floats(0.3, 1.0),
)
def test_no_threshold_policy_beats_the_bound(local, split, heated, start, limits, scale):
    options = [o.Option(local, local, "local"), o.Option(split, split * heated, "split")]

    def policy(temp, opts, limits=sorted(limits)):
        return opts[1] if any(temp > x for x in limits[:1]) else opts[0]

    best = bound(options, frames=60, start=start, heat_scale=scale)
    for choose in (always("local"), always("split"), policy):
        assert best <= simulate(choose, options, frames=60, start=start, heat_scale=scale) + 1e-12


def test_the_heated_device_starts_at_its_coolest_and_every_frame_needs_a_placement():
    assert bound([LOCAL], start=30.0) <= bound([LOCAL], start=IDLE_C)
    with pytest.raises(ValueError):
        o.thermal_path([[LOCAL], []], interval_s=0.2, params=HOT, power=PI, start_c=IDLE_C)
