"""The QoE bandit on a synthetic fleet with a known best variant per device class: it learns each class's own
best variant, its regret flattens (sublinear), its estimates are disjoint LinUCB's formulas, and bad input is
refused."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from edgeorch.planning.qoe import QoEBandit, QoEWeights, qoe

# Variants of the digits CNN: accuracy, and compute in ms on an unthrottled device.
VARIANTS = {"full": (0.989, 40.0), "narrow": (0.964, 12.0), "int8": (0.960, 8.0)}
WEIGHTS = QoEWeights(accuracy=5.0, latency=0.2, latency_ref_s=0.1)


def context(throttle: float) -> list[float]:
    """The device's features: a bias, its throttle (1 = full speed, 10 = a hot, loaded Pi)."""
    return [1.0, throttle]


def expected_qoe(variant: str, throttle: float) -> float:
    accuracy, ms = VARIANTS[variant]
    return qoe(accuracy, ms * throttle / 1e3, weights=WEIGHTS)


def test_the_qoe_is_what_its_formula_says():
    assert qoe(0.9, 0.05, weights=WEIGHTS) == pytest.approx(5 * 0.9 - 0.2 * 0.5)
    assert qoe(0.9, 0.05, weights=WEIGHTS, user_score=1.0) == pytest.approx(0.5 * 4.4 + 0.5 * 1.0)
    energetic = QoEWeights(energy=0.2, energy_ref_j=0.5)
    assert qoe(1.0, 0.0, 0.25, energetic) == pytest.approx(1.0 - 0.2 * 0.5)


def test_each_device_class_learns_its_own_best_variant_and_regret_flattens():
    rng = np.random.default_rng(7)
    classes = {"cool": 1.0, "hot": 10.0}
    best = {name: max(VARIANTS, key=lambda v: expected_qoe(v, th)) for name, th in classes.items()}
    assert best == {"cool": "full", "hot": "int8"}  # the known answer: it depends on the context
    bandit = QoEBandit(list(VARIANTS), dim=2)
    regret, chosen = [], {name: [] for name in classes}
    for t in range(3000):
        name = "cool" if t % 2 else "hot"
        x = context(classes[name])
        arm = bandit.choose(x)
        chosen[name].append(arm)
        reward = expected_qoe(arm, classes[name]) + rng.normal(0, 0.02)
        bandit.update(arm, x, reward)
        regret.append(expected_qoe(best[name], classes[name]) - expected_qoe(arm, classes[name]))
    for name in classes:  # the best fixed variant in hindsight, per class
        assert chosen[name][-500:].count(best[name]) >= 475
    cumulative = np.cumsum(regret)
    first, second = cumulative[1499], cumulative[-1] - cumulative[1499]
    assert second < 0.25 * first  # it flattens: the second half adds far less regret than the first


# The digits CNN's variants as build_zoo measures them: accuracy only (their times hardly differ).
DIGITS = {"full": 0.9889, "narrow": 0.9667, "quarter": 0.9311, "int8": 0.9889, "int8-dynamic": 0.985}


@pytest.mark.parametrize("seed", range(5))
def test_small_gaps_and_little_noise_are_learned_in_tens_of_windows(seed):
    """The digits variants differ by 0.4-6 points and a window's QoE moves by about 0.01: the width scaled to
    that noise rules the worse ones out within tens of windows (in reward units, alpha 0.5, it took
    hundreds: regret 0.30-0.37 in windows 30-59 and 0.43-0.55 in 60-119, qoe.py's docstring)."""
    rng = np.random.default_rng(seed)
    bandit = QoEBandit(list(DIGITS), dim=3)
    best, regret, chosen = max(DIGITS.values()), [], []
    for _ in range(120):
        x = [1.0, 1.0, 2.5 + rng.normal(0, 0.3)]  # bias, throttle, the host's load
        arm = bandit.choose(x)
        bandit.update(arm, x, DIGITS[arm] - 0.04 + rng.normal(0, 0.01))
        regret.append(best - DIGITS[arm])
        chosen.append(arm)
    assert chosen[:5] == list(DIGITS)  # each tried once first
    assert sum(regret[60:]) < 0.4 * sum(regret[:60])  # it flattens: the second half adds far less
    assert chosen[-30:].count("quarter") == 0 and chosen[-30:].count("narrow") <= 1
    assert 0.005 < bandit.noise() < 0.03  # the noise as measured, not the prior's 0.1


def test_estimates_are_disjoint_linucb():
    bandit = QoEBandit(["a", "b"], dim=2, alpha=0.7, ridge=2.0, beta=1.5, sigma0=0.2, nu0=3.0)
    samples = [("a", [1.0, 2.0], 0.3), ("a", [1.0, 0.5], 0.8), ("b", [1.0, 1.0], 0.1)]
    for arm, x, r in samples:
        bandit.update(arm, x, r)
    x = np.array([1.0, 1.5])
    got = bandit.estimates(x)
    rewards = np.array([r for _, _, r in samples])
    prior = rewards.mean()  # r̄: every arm's rewards
    residual, dof = 0.0, 0
    for arm in ("a", "b"):  # each arm's ridge fit of r - r̄, its residual and penalty
        X = np.array([xs for a, xs, _ in samples if a == arm])
        y = np.array([r for a, _, r in samples if a == arm]) - prior
        theta = np.linalg.solve(2.0 * np.eye(2) + X.T @ X, X.T @ y)
        residual += np.sum((y - X @ theta) ** 2) + 2.0 * theta @ theta
        dof += max(len(y) - 2, 0)
    sigma = math.sqrt((3.0 * 0.2**2 + residual) / (3.0 + dof))
    assert bandit.noise() == pytest.approx(sigma)
    radius = 0.7 * sigma + 1.5 * math.sqrt(2.0) * rewards.std()
    for arm in ("a", "b"):
        A, b = 2.0 * np.eye(2), np.zeros(2)
        for a, xs, r in samples:
            if a == arm:
                A, b = A + np.outer(xs, xs), b + (r - prior) * np.asarray(xs)
        mean = prior + x @ np.linalg.inv(A) @ b
        width = radius * math.sqrt(x @ np.linalg.inv(A) @ x)
        assert got[arm]["estimate"] == pytest.approx(mean) and got[arm]["width"] == pytest.approx(width)
    restored = QoEBandit.from_dict(json.loads(json.dumps(bandit.to_dict())))
    assert restored.to_dict() == bandit.to_dict()


def test_bad_input_is_refused():
    bandit = QoEBandit(["a"], dim=2)
    with pytest.raises(ValueError, match="2 finite numbers"):
        bandit.choose([1.0])
    with pytest.raises(ValueError, match="unknown arm"):
        bandit.update("z", [1.0, 1.0], 0.5)
    with pytest.raises(ValueError, match="finite"):
        bandit.update("a", [1.0, 1.0], float("inf"))
    with pytest.raises(ValueError, match="between 0 and 1"):
        qoe(0.9, 0.1, user_score=2.0)
    with pytest.raises(ValueError, match="distinct"):
        QoEBandit(["a", "a"], dim=1)
