"""The RC thermal model on a fake clock: heating, throttling, cooling, exact steps."""

from __future__ import annotations

import pytest
from edgeorch_wire.profiles import Power, ThermalParams
from edgeorch_wire.thermal import ThermalModel

PARAMS = ThermalParams(
    ambient_c=25.0, r_c_per_w=10.0, tau_s=60.0, throttle_at_c=70.0, max_c=90.0, clock_floor=0.5
)
POWER = Power(idle_w=1.0, busy_w=7.0)  # steady state: 35 °C idle, 95 °C fully busy


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(model: ThermalModel, clock: Clock, seconds: float, utilisation: float, step: float = 1.0) -> None:
    for _ in range(round(seconds / step)):
        model.busy(utilisation * step)
        clock.now += step
        model.step()


def make() -> tuple[ThermalModel, Clock]:
    clock = Clock()
    return ThermalModel(PARAMS, POWER, clock), clock


def test_a_fully_busy_device_heats_to_its_steady_state():
    model, clock = make()
    assert model.temp_c == 35.0  # switched on a while ago and idle: its idle steady state, not ambient
    run(model, clock, 10 * PARAMS.tau_s, 1.0)
    assert model.temp_c == pytest.approx(model.steady_state_c(1.0), abs=0.01) == pytest.approx(95.0)
    assert model.watts() == pytest.approx(7.0)


def test_a_hot_device_crosses_the_threshold_and_throttles_down_to_its_clock_floor():
    model, clock = make()
    run(model, clock, 30, 1.0)
    assert model.temp_c < PARAMS.throttle_at_c and model.throttle_factor() == 1.0
    run(model, clock, 90, 1.0)
    assert PARAMS.throttle_at_c < model.temp_c < PARAMS.max_c
    assert 1.0 < model.throttle_factor() < 2.0
    run(model, clock, 600, 1.0)  # 95 °C is above max_c: the clock sits at its floor
    assert model.throttle_factor() == pytest.approx(1 / PARAMS.clock_floor)


def test_an_idle_device_cools_back_toward_ambient_and_stops_throttling():
    model, clock = make()
    run(model, clock, 600, 1.0)
    run(model, clock, 600, 0.0)
    assert model.temp_c == pytest.approx(model.steady_state_c(0.0), abs=0.01) == pytest.approx(35.0)
    assert model.throttle_factor() == 1.0


def test_the_throttle_factor_is_never_below_one():
    model, _ = make()
    for temp in (-40.0, 25.0, 70.0, 80.0, 90.0, 200.0):
        assert 1.0 <= 1.0 / model.clock_fraction(temp) <= 1 / PARAMS.clock_floor
    assert model.clock_fraction(80.0) == pytest.approx(0.75)  # linear between threshold and max


def test_one_long_step_equals_many_short_ones():
    fine, fine_clock = make()
    coarse, coarse_clock = make()
    run(fine, fine_clock, 200, 0.5, step=0.1)
    run(coarse, coarse_clock, 200, 0.5, step=200.0)
    assert coarse.temp_c == pytest.approx(fine.temp_c, abs=1e-6)


def test_work_reported_at_its_end_heats_over_the_steps_it_spans():
    model, clock = make()
    clock.now = 1.0
    model.busy(3.0)  # a 3 s computation reported after 1 s: the rest carries over
    model.step()
    assert model.utilisation == 1.0
    clock.now = 4.0
    model.step()
    assert model.utilisation == pytest.approx(2.0 / 3.0)
