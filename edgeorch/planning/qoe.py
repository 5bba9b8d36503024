"""Model-variant selection by a QoE contextual bandit (issue #22 item 3; the bandit model selection of
CogMI 2019 in RESEARCH.md): per device, which variant of a model (the base, narrower, quantised...:
``MLModel.variants``) gives the best quality of experience, learned from what the runs measure and what users
say, with no model of the world.

**QoE.** A frame's (or window's) reward is ``qoe(accuracy, latency_s, ...)``::

    QoE = w_acc · accuracy − w_lat · latency_s / latency_ref − w_energy · energy_j / energy_ref

(``QoEWeights``; the operator sets the weights and references: with latency_ref the deadline, a frame at its
deadline costs ``w_lat``), blended with explicit feedback when a user gives a score in [0, 1] for that frame
or window: ``(1 − w_user) · QoE + w_user · score``.

**Algorithm: disjoint LinUCB** (Li et al., WWW 2010), one ridge regression per arm (variant) over the shared
context x — the device's features (its profile's speed, live throttle and load) and the model's (MACs,
bytes), scaled to order 1::

    A_a = λI + Σ x xᵀ,  s_a = Σ x,  b_a = Σ r x,  θ_a = A_a⁻¹ (b_a − r̄ s_a)
    choose  argmax_a  r̄ + θ_aᵀ x + α · sqrt(xᵀ A_a⁻¹ x)

each arm regressing its rewards' difference from r̄, the mean reward of every arm so far (the ridge prior
then says "as good as the rest", not "worth 0": an arm not yet tried is optimistic, not ignored, whatever
the scale of the QoE). So each variant's expected QoE is a function of the conditions, and a device class
learns its own best variant. ``estimates`` says each arm's estimate, width and pulls (what the API shows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class QoEWeights:
    accuracy: float = 1.0
    latency: float = 0.5
    energy: float = 0.0
    latency_ref_s: float = 0.1  # e.g. the deadline
    energy_ref_j: float = 1.0
    user: float = 0.5  # how much a user's score counts against the measured QoE


def qoe(
    accuracy: float,
    latency_s: float,
    energy_j: float | None = None,
    weights: QoEWeights | None = None,
    user_score: float | None = None,
) -> float:
    """The reward of one frame or window (see the module docstring)."""
    w = weights or QoEWeights()
    for name, value in (("accuracy", accuracy), ("latency_s", latency_s)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
    value = w.accuracy * accuracy - w.latency * latency_s / w.latency_ref_s
    if energy_j is not None and w.energy:
        value -= w.energy * energy_j / w.energy_ref_j
    if user_score is not None:
        if not 0.0 <= user_score <= 1.0:
            raise ValueError(f"a user's score is between 0 and 1, not {user_score!r}")
        value = (1 - w.user) * value + w.user * user_score
    return value


@dataclass
class QoEBandit:
    """Disjoint LinUCB over ``arms`` (variant names) with contexts of length ``dim``."""

    arms: list[str]
    dim: int
    alpha: float = 0.5
    ridge: float = 1.0
    A: dict[str, np.ndarray] = field(default_factory=dict)
    b: dict[str, np.ndarray] = field(default_factory=dict)
    s: dict[str, np.ndarray] = field(default_factory=dict)
    pulls: dict[str, int] = field(default_factory=dict)
    reward_sum: float = 0.0

    def __post_init__(self) -> None:
        if not self.arms or len(set(self.arms)) != len(self.arms):
            raise ValueError("a QoE bandit needs distinct arms (the model's variants)")
        for arm in self.arms:
            self.A.setdefault(arm, self.ridge * np.eye(self.dim))
            self.b.setdefault(arm, np.zeros(self.dim))
            self.s.setdefault(arm, np.zeros(self.dim))
            self.pulls.setdefault(arm, 0)

    @property
    def mean_reward(self) -> float:
        """r̄: every arm's rewards so far, averaged (0 before the first)."""
        count = sum(self.pulls.values())
        return self.reward_sum / count if count else 0.0

    def _x(self, context) -> np.ndarray:
        x = np.asarray(context, dtype=np.float64)
        if x.shape != (self.dim,) or not np.all(np.isfinite(x)):
            raise ValueError(f"a context is {self.dim} finite numbers, not {list(context)!r}")
        return x

    def estimates(self, context) -> dict[str, dict[str, float]]:
        """Per arm: the expected QoE in this context, the confidence width, the upper bound, the pulls."""
        x, out, prior = self._x(context), {}, self.mean_reward
        for arm in self.arms:
            inverse = np.linalg.inv(self.A[arm])
            mean = prior + float(x @ inverse @ (self.b[arm] - prior * self.s[arm]))
            width = self.alpha * math.sqrt(max(float(x @ inverse @ x), 0.0))
            out[arm] = {"estimate": mean, "width": width, "upper": mean + width, "pulls": self.pulls[arm]}
        return out

    def choose(self, context) -> str:
        """The variant with the highest upper bound (the first listed on a tie)."""
        est = self.estimates(context)
        return max(self.arms, key=lambda a: est[a]["upper"])

    def update(self, arm: str, context, reward: float) -> None:
        if arm not in self.A:
            raise ValueError(f"unknown arm {arm!r}; arms: {', '.join(self.arms)}")
        if not math.isfinite(reward):
            raise ValueError(f"a reward must be finite, not {reward!r}")
        x = self._x(context)
        self.A[arm] += np.outer(x, x)
        self.b[arm] += reward * x
        self.s[arm] += x
        self.pulls[arm] += 1
        self.reward_sum += reward

    def to_dict(self) -> dict[str, Any]:
        return {
            "arms": list(self.arms),
            "dim": self.dim,
            "alpha": self.alpha,
            "ridge": self.ridge,
            "A": {a: m.tolist() for a, m in self.A.items()},
            "b": {a: v.tolist() for a, v in self.b.items()},
            "s": {a: v.tolist() for a, v in self.s.items()},
            "pulls": dict(self.pulls),
            "reward_sum": self.reward_sum,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QoEBandit:
        bandit = cls(list(data["arms"]), int(data["dim"]), float(data["alpha"]), float(data["ridge"]))
        for arm in bandit.arms:
            A = np.asarray(data["A"][arm], dtype=np.float64)
            b = np.asarray(data["b"][arm], dtype=np.float64)
            s = np.asarray(data["s"][arm], dtype=np.float64)
            if A.shape != (bandit.dim, bandit.dim) or b.shape != (bandit.dim,) or s.shape != (bandit.dim,):
                raise ValueError(f"the saved state of {arm!r} does not fit a context of {bandit.dim}")
            bandit.A[arm], bandit.b[arm], bandit.s[arm] = A, b, s
            bandit.pulls[arm] = int(data["pulls"][arm])
        bandit.reward_sum = float(data["reward_sum"])
        return bandit
