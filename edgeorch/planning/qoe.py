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
context x — the device's features now (``jobs.services.selection.CONTEXT``: a bias, its throttle factor,
its load), of order 1. The device's profile features (its class's speed, power) and the model's (a
variant's MACs, bytes, accuracy) are constant within one device's bandit and one arm's regression: they
are fixed effects there, which the bias carries, not coordinates. They would be coordinates in a bandit
shared across devices (hybrid LinUCB's shared part over device x model features), which would let a new
device start from its class's experience; that is not built::

    A_a = λI + Σ x xᵀ,  s_a = Σ x,  b_a = Σ r x,  θ_a = A_a⁻¹ (b_a − r̄ s_a)
    choose  argmax_a  r̄ + θ_aᵀ x + width_a(x)                   (width: below)

each arm regressing its rewards' difference from r̄, the mean reward of every arm so far (the ridge prior
then says "as good as the rest", not "worth 0": an arm not yet tried is optimistic, not ignored, whatever
the scale of the QoE). So each variant's expected QoE is a function of the conditions, and a device class
learns its own best variant. An arm never pulled is tried first (UCB's initialisation: one window each,
in the listed order). ``estimates`` says each arm's estimate, width and pulls (what the API shows).

**The width is in units of the rewards' own scale.** LinUCB's confidence radius (OFUL, Abbasi-Yadkori et
al., NeurIPS 2011) is σ·sqrt(d log(…)) + sqrt(λ)·S times sqrt(xᵀA⁻¹x): σ the noise, S a bound on |θ|.
A QoE's scale is the operator's (its weights) and its noise the fleet's (how much a window's latency
moves), so both are estimated from the rewards: σ̂ from the ridge fits' residuals pooled over the arms,
with a prior of ν₀ windows at σ₀, and S as β times Ŝ, the rewards' standard deviation about r̄::

    R_a = Σ (r − r̄)² − c_aᵀ A_a⁻¹ c_a,  c_a = b_a − r̄ s_a      (the ridge fit's residual, penalty included)
    σ̂² = (ν₀ σ₀² + Σ_a R_a) / (ν₀ + Σ_a max(n_a − d, 0))
    width = (α σ̂ + β sqrt(λ) Ŝ) · sqrt(xᵀ A_a⁻¹ x)                (α = 2, β = 2, σ₀ = 0.1, ν₀ = 1)

With a fixed α of 0.5 in reward units (the rule before), a window's QoE that moves by 0.01 needed about
(0.5 / Δ)² windows to rule out a variant Δ worse: ~500 for the digits CNN's half-width variant (0.022 less
accurate). Simulated on its five variants (tests/test_qoe.py's: each window's QoE its measured accuracy
less a fixed latency term, noise 0.01; 120 windows, five seeds), the regret was 0.37-0.39 in windows 0-29,
0.30-0.37 in 30-59 and 0.43-0.55 in 60-119, nearly linear; with this width 0.19-0.22, 0.01-0.02 and
0.01-0.04. The spread term is what explores a context an arm has not been seen in: with σ̂ alone, the
synthetic fleet of tests/test_qoe.py kept its cool class on the half-width variant for good (the full
model's one window was hot, its worst, and its extrapolation to cool never rose above the half-width's
bound); with β = 2 it learns both classes in ten seeds of ten (second-half regret 0-8% of the first).
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
    alpha: float = 2.0  # standard deviations of the rewards' noise
    ridge: float = 1.0
    beta: float = 2.0  # rewards' spreads an arm may be off r̄ where its context is unexplored
    sigma0: float = 0.1  # the noise assumed before any evidence (a QoE of order 1)
    nu0: float = 1.0  # how many windows that assumption weighs
    A: dict[str, np.ndarray] = field(default_factory=dict)
    b: dict[str, np.ndarray] = field(default_factory=dict)
    s: dict[str, np.ndarray] = field(default_factory=dict)
    pulls: dict[str, int] = field(default_factory=dict)
    rsum: dict[str, float] = field(default_factory=dict)  # Σ r per arm
    rsq: dict[str, float] = field(default_factory=dict)  # Σ r² per arm
    reward_sum: float = 0.0

    def __post_init__(self) -> None:
        if not self.arms or len(set(self.arms)) != len(self.arms):
            raise ValueError("a QoE bandit needs distinct arms (the model's variants)")
        for arm in self.arms:
            self.A.setdefault(arm, self.ridge * np.eye(self.dim))
            self.b.setdefault(arm, np.zeros(self.dim))
            self.s.setdefault(arm, np.zeros(self.dim))
            self.pulls.setdefault(arm, 0)
            self.rsum.setdefault(arm, 0.0)
            self.rsq.setdefault(arm, 0.0)

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

    def noise(self) -> float:
        """σ̂: the rewards' noise, from the arms' ridge residuals and the prior (module docstring)."""
        prior, residual, dof = self.mean_reward, 0.0, 0.0
        for arm in self.arms:
            n = self.pulls[arm]
            if not n:
                continue
            c = self.b[arm] - prior * self.s[arm]
            squares = self.rsq[arm] - 2 * prior * self.rsum[arm] + n * prior * prior
            residual += max(squares - float(c @ np.linalg.solve(self.A[arm], c)), 0.0)
            dof += max(n - self.dim, 0)
        return math.sqrt((self.nu0 * self.sigma0**2 + residual) / (self.nu0 + dof))

    def spread(self) -> float:
        """Ŝ: the rewards' standard deviation about r̄, every arm's (0 before two)."""
        count = sum(self.pulls.values())
        if count < 2:
            return 0.0
        return math.sqrt(max(sum(self.rsq.values()) / count - self.mean_reward**2, 0.0))

    def estimates(self, context) -> dict[str, dict[str, float]]:
        """Per arm: the expected QoE in this context, the confidence width, the upper bound, the pulls."""
        x, out, prior = self._x(context), {}, self.mean_reward
        radius = self.alpha * self.noise() + self.beta * math.sqrt(self.ridge) * self.spread()
        for arm in self.arms:
            inverse = np.linalg.inv(self.A[arm])
            mean = prior + float(x @ inverse @ (self.b[arm] - prior * self.s[arm]))
            width = radius * math.sqrt(max(float(x @ inverse @ x), 0.0))
            out[arm] = {"estimate": mean, "width": width, "upper": mean + width, "pulls": self.pulls[arm]}
        return out

    def choose(self, context) -> str:
        """The first arm never pulled, else the one with the highest upper bound (the first listed on a
        tie)."""
        est = self.estimates(context)
        untried = [a for a in self.arms if not self.pulls[a]]
        return untried[0] if untried else max(self.arms, key=lambda a: est[a]["upper"])

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
        self.rsum[arm] += reward
        self.rsq[arm] += reward * reward
        self.reward_sum += reward

    def to_dict(self) -> dict[str, Any]:
        return {
            "arms": list(self.arms),
            "dim": self.dim,
            "alpha": self.alpha,
            "ridge": self.ridge,
            "beta": self.beta,
            "sigma0": self.sigma0,
            "nu0": self.nu0,
            "A": {a: m.tolist() for a, m in self.A.items()},
            "b": {a: v.tolist() for a, v in self.b.items()},
            "s": {a: v.tolist() for a, v in self.s.items()},
            "pulls": dict(self.pulls),
            "rsum": dict(self.rsum),
            "rsq": dict(self.rsq),
            "reward_sum": self.reward_sum,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QoEBandit:
        """A bandit as ``to_dict`` saved it. A state kept before the width was scaled to the noise (no
        ``rsq``: its α was in reward units) raises KeyError: the caller starts afresh."""
        bandit = cls(
            list(data["arms"]),
            int(data["dim"]),
            float(data["alpha"]),
            float(data["ridge"]),
            float(data["beta"]),
            float(data["sigma0"]),
            float(data["nu0"]),
        )
        for arm in bandit.arms:
            A = np.asarray(data["A"][arm], dtype=np.float64)
            b = np.asarray(data["b"][arm], dtype=np.float64)
            s = np.asarray(data["s"][arm], dtype=np.float64)
            if A.shape != (bandit.dim, bandit.dim) or b.shape != (bandit.dim,) or s.shape != (bandit.dim,):
                raise ValueError(f"the saved state of {arm!r} does not fit a context of {bandit.dim}")
            bandit.A[arm], bandit.b[arm], bandit.s[arm] = A, b, s
            bandit.pulls[arm] = int(data["pulls"][arm])
            bandit.rsum[arm], bandit.rsq[arm] = float(data["rsum"][arm]), float(data["rsq"][arm])
        bandit.reward_sum = float(data["reward_sum"])
        return bandit
