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
    bandit = QoEBandit(list(VARIANTS), dim=2, alpha=0.3)
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


def test_estimates_are_disjoint_linucb():
    bandit = QoEBandit(["a", "b"], dim=2, alpha=0.7, ridge=2.0)
    samples = [("a", [1.0, 2.0], 0.3), ("a", [1.0, 0.5], 0.8), ("b", [1.0, 1.0], 0.1)]
    for arm, x, r in samples:
        bandit.update(arm, x, r)
    x = np.array([1.0, 1.5])
    got = bandit.estimates(x)
    prior = np.mean([r for _, _, r in samples])  # r̄: every arm's rewards
    for arm in ("a", "b"):
        A, b = 2.0 * np.eye(2), np.zeros(2)
        for a, xs, r in samples:
            if a == arm:
                A, b = A + np.outer(xs, xs), b + (r - prior) * np.asarray(xs)
        mean = prior + x @ np.linalg.inv(A) @ b
        width = 0.7 * math.sqrt(x @ np.linalg.inv(A) @ x)
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
