"""The Neurosurgeon-style regression recovers a known linear truth and degrades with noise."""

from __future__ import annotations

import random

import pytest

from edgeorch.planning import Block, Device, LatencyPredictor, Model, OpFeatures, Problem, Profile, Unit, plan
from edgeorch.planning.predict import evaluate_mape

# seconds per MAC / input byte / output byte and a fixed cost, per op class, on the reference device
TRUTH = {
    "conv": (2e-10, 1e-10, 1e-10, 2e-4),
    "gemm": (4e-10, 2e-10, 0.0, 1e-4),
    "pool": (0.0, 5e-10, 5e-10, 5e-5),
    "elementwise": (0.0, 3e-10, 3e-10, 2e-5),
}


def random_block(rng: random.Random) -> dict[str, OpFeatures]:
    ops = rng.sample(sorted(TRUTH), rng.randint(1, 3))
    return {op: OpFeatures(rng.uniform(1e6, 1e9), rng.uniform(1e4, 1e7), rng.uniform(1e4, 1e7)) for op in ops}


def true_seconds(features: dict[str, OpFeatures], speed: float) -> float:
    total = 0.0
    for op, f in features.items():
        w_macs, w_in, w_out, fixed = TRUTH[op]
        total += w_macs * f.macs + w_in * f.input_bytes + w_out * f.output_bytes + fixed
    return total * speed


def profiles(rng: random.Random, key: str, count: int, noise: float, speed: float = 1.0) -> list[Profile]:
    out = []
    for _ in range(count):
        f = random_block(rng)
        out.append(Profile(key, f, true_seconds(f, speed) * (1 + rng.gauss(0, noise))))
    return out


def test_the_regression_recovers_a_linear_truth_with_small_error() -> None:
    rng = random.Random(1)
    train, test = profiles(rng, "jetson/gpu", 200, 0.02), profiles(rng, "jetson/gpu", 100, 0.0)
    assert evaluate_mape(train, test) < 0.03


def test_the_error_grows_with_measurement_noise() -> None:
    rng = random.Random(2)
    test = profiles(rng, "pi/cpu", 100, 0.0)
    errors = [evaluate_mape(profiles(rng, "pi/cpu", 60, noise), test) for noise in (0.01, 0.1, 0.3)]
    assert errors == sorted(errors)
    assert errors[0] < 0.02 < errors[-1]


def test_a_device_with_few_profiles_is_scaled_by_its_speed_against_the_reference() -> None:
    rng = random.Random(3)
    train = profiles(rng, "server/gpu", 100, 0.01) + profiles(rng, "pi/cpu", 3, 0.01, speed=8.0)
    test = profiles(rng, "pi/cpu", 50, 0.0, speed=8.0)
    assert evaluate_mape(train, test, reference="server/gpu") < 0.05


def test_the_planner_predicts_times_for_a_never_profiled_model() -> None:
    rng = random.Random(4)
    predictor = LatencyPredictor().fit(profiles(rng, "pi/cpu", 100, 0.01))
    features = [random_block(rng) for _ in range(3)]
    blocks = tuple(Block(i, f"b{i}", features=f) for i, f in enumerate(features))
    pi = Device("pi", units=(Unit("cpu", profile_key="pi/cpu"),))
    result = plan(Problem(Model("new", blocks, 0, 0), (pi,), (), "pi"), "local", predictor=predictor)
    assert result.latency == pytest.approx(sum(true_seconds(f, 1.0) for f in features), rel=0.05)
