"""The oracle and the report's numbers: windows, calibration, ratios, percentiles, MAPE."""

from __future__ import annotations

import math

import pytest

from edgeorch.scenarios import oracle as o
from edgeorch.scenarios.spec import parse


def scenario():
    return parse({
        "model": "m", "window_s": 5,
        "devices": [{"name": "cam", "profile": "rpi4"}, {"name": "edge", "role": "edge", "profile": "edge-server"}],
        "links": [{"between": ["cam", "edge"], "bandwidth_bps": {"steps": [[0, 1e8], [10, 4e6]]}}],
        "background": [{"device": "edge", "share": {"steps": [[0, 0.0], [5, 0.5]]}}],
        "session": {"source": "cam", "rate": 2, "duration_s": 15},
    })  # fmt: skip


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
    runs = [{"cam": [(1.0, {"cpu.throttle_factor": 2.0}), (6.0, {"cpu.throttle_factor": 3.0})]},
            {"cam": [(2.0, {"cpu.throttle_factor": 1.5}), (3.0, {"temp.emulated": 70})]}]  # fmt: skip
    assert o.throttles(runs, 0, 5.0) == {"cam": 1.5}
    assert o.throttles(runs, 1, 5.0) == {"cam": 3.0}
    assert o.throttles(runs, 2, 5.0) == {}


def test_the_oracle_never_exceeds_what_some_strategy_achieved_in_a_window():
    predicted = {0: 0.05, 1: 0.05, 2: 0.2}
    measured = [{0: 0.07, 1: 0.04}, {2: 0.1}]
    assert o.calibrate(predicted, measured) == {0: 0.05, 1: 0.04, 2: 0.1}


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
