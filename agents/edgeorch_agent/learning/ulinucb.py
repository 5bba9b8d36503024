"""μLinUCB: the contextual bandit of ANS (Zhang, Chen, Xu, "Autodidactic Neurosurgeon: Collaborative Deep
Inference for Mobile Edge Intelligence via Online Learning", WWW 2021), as this agent runs it per frame.

The arms are the model's split points p = 0..P-1 (``Arm``), and one arm that runs everything on the device
(``local``). The device knows its own front-end delay d_f(p) (it profiles only itself); everything after the
cut — the transfer and the edge's compute — is learned as a linear function of the arm's context x_p (the
back-end's layer counts and MACs by type, the bytes at the cut, each scaled to order 1):

    d_e(p) ≈ x_pᵀ θ,    θ̂ = A⁻¹ b

and each frame takes the arm with the lowest optimistic total (a lower confidence bound: we minimise delay)

    p_t = argmin_p  d_f(p) + x_pᵀ θ̂ − α · sqrt(x_pᵀ A⁻¹ x_p)          (the local arm: d_f(P), no bound)

After an offloaded frame, with its measured back-end delay y (send → answer) and weight w:

    A ← A + w · x xᵀ,    b ← b + w · y · x                              (A₀ = λI, b₀ = 0)

Three refinements, as in the paper:

- **Key frames** weigh more: w = ``key_weight`` (μ > 1) for a frame that differs from the previous one
  (``is_key_frame``: mean absolute difference of the two frames, scaled by the previous frame's range, above
  ``KEY_FRAME_DIFF``), else 1 — a scene change is when conditions are likely to have changed too.
- **Forced sampling**: while the local arm keeps winning, nothing is learned about the edge; after
  ⌈t^0.25⌉ local frames in a row (t: frames so far in this epoch), the next frame goes to the offloading arm
  with the lowest optimistic estimate, so a recovered link or a freed server is noticed (the paper's
  forced sampling: it is there to keep exploring). With ``forced_plausible`` (not the paper's; the agent's
  controller sets it) the forced frame goes to the offloading arm with the lowest bound among those whose
  bound is below the local arm's estimate — one that could still beat it; when none could and the edge
  is *stale* (no offloading arm chosen for ``stale_after`` frames), to the stale arm with the lowest bound
  (the cheapest look), else the frame stays local. Measured (docs/benchmarks.md, "Learning"), the paper's
  rule spent one frame in four of a 100-frame run on the nearly local cuts, each about 10 ms slower than
  local, whose bounds were above the local time and whose tiny activations teach little about the link;
  without the stale looks (``stale_after`` 0), an arm whose bound rose above the local time while the
  link was down was never looked at again, and a recovered link never noticed. One look per
  ``stale_after`` frames while the device alone wins: after a recovery, an arm has answered within
  ``stale_after`` + ⌈T^0.25⌉ + 1 frames (T the epoch's length), and its answer, off its own answers
  during the outage, is a detected change (below) that moves every estimate. The rule before looked at
  every arm in turn once each was stale (P looks per ``stale_after`` frames, P arms), and each look at
  a collapsed link costs that arm's slow time: on the scripted 10 → 0.05 MB/s collapse of
  bench/bench_ans_scripted.py, the looks at the raw input (20 s) and cut 1 (10 s) made 100 s of the
  collapse's 104 s of regret; the cheapest stale arm, cut 3, costs 1 s a look and tells the same.
- **Free looks** (``free_after``, ``free_looks``; not the paper's): where the caller can take a look
  without a frame paying for it (the agent's controller: beside a local frame), it sets ``free_looks``
  before ``choose``, and the looks at a stale edge (and where a slower change's end would show) come once
  per ``free_after`` frames instead of ``stale_after``.
- **Which look at a stale edge** (``look_budget`` B, not the paper's; off in the agent's controller): the
  cheapest arm's answer may say nothing of the link (a late cut's small activation), so a recovery is not
  seen. With B > 0 the look goes, among the arms whose expected total is at most B times the cheapest
  one's, to the one with the widest confidence (the largest x_pᵀA⁻¹x_p: the least known, at the largest
  context, which the raw input's bytes make the arm most dependent on the link); an arm whose look would
  cost more than B times the cheapest (the raw input over a collapsed link) is not looked at. 0: the
  cheapest (the rule before).
- **Forced local samples** (``forced_local``, not the paper's, whose device knows its local time): the
  mirror of forced sampling. When the local arm is stale (unchosen for ``stale_after`` frames) and
  ⌈t^0.25⌉ offloaded frames in a row make a forced sample due, the next frame runs on the device alone
  (``local_probe``); when its time is off the local estimate as a change would be (``local_answer``,
  ``is_change``), the ``forced_local`` − 1 frames after it run there too, so that a local time measured
  under load is measured again (the agent's controller takes the median of the last 5 local frames: 3
  move it). A probe within the estimate ends there: the rule before ran all ``forced_local`` frames every
  time, three frames per look where offloading wins. 0 (the default) is the paper's. With
  ``local_faster`` s (not the paper's; the agent's controller: 0.1), a probe more than s below the local
  estimate runs the rest of the sample too, though within the change ratio: a local time measured high
  (under load, or queued behind a stalled frame), 1.1-2 times the device's time now, is otherwise
  replaced one look, ``stale_after`` frames, at a time.
- **The doubling trick**: the horizon is not known, so time runs in epochs of 2^k frames (from
  ``first_epoch``) with α_k = ``alpha`` · sqrt(log(2^k)) — the confidence width the analysis asks for a
  horizon of that length. The paper starts each epoch afresh (A = λI, b = 0). Here an epoch keeps a share
  ``carry`` (c) of the evidence::

      A ← λI + c · (A − λI),    b ← c · b

  c = 0 is the paper's restart; the default c = 1 keeps all of it, so a new epoch only widens α. Measured
  (docs/benchmarks.md, "Learning"), a restart, whole or partial, re-opens the look at arms whose estimate
  is stale or unknown, whatever the link is doing now: from nothing, every estimate is the front end alone
  and the next frames go to the raw-input arm (two frames' raw input over a 4 Mbit/s link, 1.2 s each, at
  frame 64 of bandwidth-collapse); with c = 0.25 the widened bound sent a 4.6 MiB activation over a
  3-6 Mbit/s link (12.9 s, and the stream behind it) at frame 64 of bandwidth-random-walk. Kept evidence
  still yields to new evidence as it accumulates, more slowly than a restart would.

**A detected change keeps a share of the evidence** (``change_ratio`` R, ``change_keep`` c,
``change_memory`` K; not the paper's, whose only forgetting is the doubling trick's restart). With every
evidence kept alike, after n answers at the old conditions each new answer moves the estimate by about
1/n, so the frames it takes to leave an arm after a bandwidth step grow with the history
(``agents/tests/test_ulinucb.py``: 140 frames after 400). So an answer y that its reference ŷ did not
expect, off by a factor of R either way and by more than α (the noise scale)::

    max(y / ŷ, ŷ / y) > R    and    |y − ŷ| > α

is taken as a change in the conditions. The reference (``reference``) is the arm's own: the mean of its
answers since the last detected change, when it has any; else the estimate x_pᵀθ̂ (at an arm answered at
least twice). At a change the evidence before it keeps the share c, at most K answers' worth at the arm
that shows it (x_pᵀ(A − λI)x_p / (x_pᵀx_p)² answers), before the answer is added::

    A ← λI + c'·(A − λI),    b ← c'·b,    c' = min(c, K · (x_pᵀx_p)² / x_pᵀ(A − λI)x_p)

— the change-detection restart of piecewise-stationary bandits (M-UCB: Cao, Wen, Kveton, Xie, "Nearly
Optimal Adaptive Procedure with Change Detection for Piecewise-Stationary Bandit", AISTATS 2019), kept
partial (the agent's controller: c = 0.25, K = 4) for the reason the epochs keep theirs: from nothing, every
arm would look fast again. An answer within the noise changes nothing, so a stationary link costs no extra
looks (unlike a discount γ on every answer, D-LinUCB's: on the scripted link of agents/tests/test_ulinucb.py,
γ = 0.98 left 8 times the regret of a stationary run, the discounted arms' widths never closing); R = 0 (the
default here) is the paper's.

One change, one detection. The rule before compared every answer with x_pᵀθ̂ and scaled all the evidence
at each detection. After a severe collapse (10 → 0.05 MB/s, answers 80-100 times the old ones), the
estimate at the arm that showed it, pulled by c = 0.25 of a long history (30 answers' worth against one)
and by the ridge prior toward 0, stayed 8 times below its answers (and the next arm's 60 times); the next
answer there, or at any other arm, was "a change" again, and each such detection scaled the answers
since the change along with the old ones (agents/tests/test_ulinucb.py: 15 detections in 15 answers;
4-5 per collapse in bench/bench_ans_scripted.py's harness), the estimates swinging toward the prior, the
arms looking fast again and pulled at 1-20 s each. Now (1) an arm answered since the last
change is judged against its own answers since then, which are already the new conditions; (2) an answer
off the estimate at an arm not answered since, in the direction of the last change (slower after a
slower one), is that change seen at another arm (``echoes``): the evidence from before the change
(A − λI − A_new, b − b_new, where A_new, b_new are what came since) yields again, and the answers since
the change are kept whole; (3) the cap K keeps a long history from outweighing the new conditions at the
arm that shows them: its estimate moves about 1/(K + 1) of the way at once (c alone: 1/31 after 120
answers there), and on from there as its answers come, so it stops looking fast after a frame or two.
An answer off in the other direction (a recovery after a collapse) is a new change.

**After a slower change** (``hold``, not the paper's; the agent's controller sets it). Whatever slows an
arm's back end — the link or the edge — slows at least as much every arm that sends at least as many
bytes and leaves at least as much of the model to the edge: an arm whose context dominates the other's
(``_dominating``: every feature at least as large). The linear model does not know it; with a quarter of
the evidence kept and part of the slowdown put on the features all arms share, an arm with little fresh
evidence comes out of a change looking fast. So, with ``hold``:

- a slower change of Δ seen at arm w (its witness) holds each arm not answered since that dominates w at
  its total before the change plus Δ, until it answers (``held``, ``_hold``);
- a frame in flight on w for t seconds floors each arm p dominating w at t − front(w) + front(p) (the
  ``floors`` of ``choose``);
- an arm answered since the last change has a bound no lower than its own answers' mean less
  α_k / sqrt(λ + n) (``estimates``): after a change the little evidence left is pulled toward the ridge
  prior, every back end near 0;
- a look at the stale edge while a slower change holds goes to the cheapest arm whose answer must differ
  from its answer during the change by a change (``_telling``): one answered slower since, a held arm, or
  one whose back end the change must have raised by Δ times the lowest ratio of its features to w's over
  the features that vary between arms (``_slowed``: the bound under every cause the contexts tell apart)
  — the cheapest arm may send so few bytes that its answer shows nothing (mobilenetv2's cut 48: 5 KB);
- a faster answer at an arm not answered since is the change's end only where the change must have
  slowed that arm and the answer is faster than that by a change (``_undone``); any other faster answer
  says the estimate was off, not that the conditions moved. At the end, with the answer back within the
  change ratio of the arm's estimate before the change, the evidence from before the change is restored
  (``stash``), with each arm's own answers from then (``since_before``), and that from during it dropped.
- a second slower change before the first is undone keeps the estimates and the evidence from before
  the first (``before``, ``stash``): their end is one; its slowdown counts from there.

Measured on bench/bench_learning.py's mobilenetv2 scenarios (docs/benchmarks.md, "Learning"): without
these, every recorded run of bandwidth-collapse lost a frame to the raw input (1.2 s, failed) after the
collapse and none saw the recovery (its looks went to cut 48); with them, the runs since sent no frame
to an arm the collapse had slowed (one lost the frame already on the link when it came) and saw it.

**No look where nothing could win** (``hopeless_after``, not the paper's; the agent's controller sets 96):
when every offloading arm has answered and none, with its back end a change (R) faster than the fastest
it ever answered (``best``), would beat the local time (``_hopeful``), the stale look waits
``hopeless_after`` frames instead of ``stale_after``: a look there costs its arm's time, and nothing a
look could detect would make it win (the digits CNN's raw input, whose round trip alone is more than
twice the device's 2 ms).

**An arm never answered is tried once** (``unpulled_width``, not the paper's; the agent's controller sets
1): its estimate is its predicted front end plus the linear model's extrapolation of its back end from
the other arms' answers, and its width shrinks with their evidence as if both were sure. Neither is: the
profile's prefix times are off by different amounts per cut (mobilenetv2's cut 16: 28-30 ms calibrated,
20-21 measured in another run the same hour), and the back end is not linear in the context. In the
recorded bandwidth-collapse run (docs/benchmarks.md, "Learning") the arm answered first (cut 10, 55-58 ms)
kept the lowest bound while cuts 16 and 23, at 47-50, were never tried; with their front ends predicted
45% slow the same happens in-process (agents/tests/test_ulinucb.py). With ``unpulled_width`` w an
arm with no pulls keeps a width of at least w (in the context's norm; λI alone gives |x|/sqrt(λ), 1.7-2.2
for mobilenetv2's arms): its bound stays at least α_k·w below its estimate until it has answered once.

**An arm is estimated by its own answers first** (``own_weight`` κ, not the paper's; the agent's
controller sets 0.25): an arm answered n times since the last change, s seconds in all, has the back-end
estimate (κ·x_pᵀθ̂ + s) / (κ + n) — the model's prediction counts as κ answers — its width unchanged. The
paper's estimate is x_pᵀθ̂ alone: one θ for every arm, fitted to every arm's answers. The contexts do not
make the back end linear (mobilenetv2's arms share the constant and the op counts, so four features carry
six arms), and the noisy answers of the others move each arm's estimate: in a bench_learning trace of the
random walk cut 23 answered 42 ms where the device took 46, and three answers at other arms later its
estimate, fitted to all, was 55: the device alone took the next frames. It is the per-arm part of hybrid
LinUCB (Li et al., WWW 2010), shrunk toward the shared model by κ; since it counts only the answers since
the last change, a detected change hands the estimate back to the model (which keeps the evidence as
above).

The paper's device knows its local time exactly (it profiles itself), so the local arm's bound is its
estimate. Where the local time is measured as it runs (``local_width``, the agent's controller), the local
arm gets a width like any arm's, α_k / sqrt(λ + n) after n local frames: otherwise a local time measured
high once (the first frames after a deploy) is never looked at again while an offloading arm is chosen
instead (bandwidth-random-walk: cut 49 for 125 of 128 frames, 1.0 s of regret).

The state is plain numbers (``to_dict``/``from_dict``), so the agent keeps it on its disk across restarts
and reports it (each arm's estimate and pull count) to the control plane.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KEY_FRAME_DIFF = 0.1  # mean |Δ| of two frames, as a share of the previous frame's range


@dataclass(frozen=True)
class Arm:
    """One split point: ``context`` x_p (the back-end's features, scaled to order 1) and ``front_s``, this
    device's own time for the blocks before the cut."""

    cut: int
    context: tuple[float, ...]
    front_s: float


def is_key_frame(previous: np.ndarray | None, frame: np.ndarray, threshold: float = KEY_FRAME_DIFF) -> bool:
    """A frame that differs from the previous one: the first frame, another shape, or a mean absolute
    difference above ``threshold`` times the previous frame's value range."""
    if previous is None or previous.shape != frame.shape:
        return True
    a, b = previous.astype(np.float64), frame.astype(np.float64)
    span = float(a.max() - a.min()) or 1.0
    return float(np.abs(b - a).mean()) / span > threshold


@dataclass
class MuLinUCB:
    """The bandit's state for one (model, edge): see the module docstring for the formulas."""

    arms: list[Arm]
    local_s: float  # the device's time for the whole model (the local arm)
    alpha: float = 0.02  # seconds: the confidence width's scale, about the noise of a back-end delay
    ridge: float = 1.0  # λ: A₀ = λI
    key_weight: float = 4.0  # μ
    first_epoch: int = 64  # the doubling trick's first epoch, in frames (a power of two)
    local_width: bool = (
        False  # the local arm's bound: exact (the paper) or, measured, α_k/sqrt(λ + its pulls)
    )
    carry: float = 1.0  # the share of the evidence a new epoch keeps (0: the paper's restart from nothing)
    forced_plausible: bool = False  # forced samples: a plausible arm first, else a stale one
    stale_after: int = 0  # frames an arm (or the edge) goes unchosen before it is stale (forced_*)
    look_budget: float = 0.0  # a stale edge's look: the widest arm within this x the cheapest (0: cheapest)
    free_after: int = 0  # ``stale_after`` while ``free_looks`` (a look costs no frame; 0: stale_after)
    free_looks: bool = False  # set per frame by the caller: a look now goes beside a local frame
    local_faster: float = 0.0  # a local probe this share below every local time measured: the rest too
    forced_local: int = 0  # local frames in a row a forced local sample takes (0: none, the paper's)
    local_left: int = 0  # local frames still owed to a forced local sample
    local_probe: bool = False  # a forced local sample's first frame is out: its time decides the rest
    change_ratio: float = 0.0  # R: an answer off its estimate by this factor (and by > α) is a change; 0: off
    change_keep: float = 0.25  # c: the share of the evidence kept at a detected change
    change_memory: float = 0.0  # K: ... and at most K answers' worth at the arm that shows it (0: no cap)
    changes: int = 0  # changes detected (all epochs)
    echoes: int = 0  # answers off their estimate taken as the last detected change, seen at another arm
    change_sign: int = 0  # the last detected change: +1 slower, -1 faster (0: none yet)
    hold: bool = False  # after a slower change, arms that dominate its witness held above it (``held``)
    hopeless_after: int = 0  # a stale look's wait when no arm could beat the local time at its best (0: off)
    unpulled_width: float = 0.0  # an arm never answered keeps at least this width (0: the paper's)
    own_weight: float = 0.0  # κ: an arm's estimate, its own answers since the change and κ of x_pᵀθ̂ (0: off)
    best: dict[int, float] = field(default_factory=dict)  # cut -> its fastest back end ever answered
    held: dict[int, float] = field(default_factory=dict)  # cut -> its total's floor until it answers
    before: dict[int, float] = field(default_factory=dict)  # cut -> back-end estimate before a slower change
    slowed: tuple[int, float] | None = None  # the last slower change: the arm that showed it, by how much
    stash: tuple[np.ndarray, np.ndarray] = field(init=False)  # (A − λI, b) before it
    since: dict[int, tuple[int, float]] = field(default_factory=dict)  # cut -> (answers, their sum) since it
    since_before: dict[int, tuple[int, float]] = field(default_factory=dict)  # ``since`` at the slower change
    t: int = 0  # frames decided in this epoch
    epoch: int = 0  # k: this epoch lasts first_epoch · 2^epoch frames
    local_streak: int = 0
    offload_streak: int = 0  # offloaded frames in a row (``forced_local``)
    frames: int = 0  # frames decided (all epochs)
    chosen_at: dict[int, int] = field(default_factory=dict)  # arm -> the frame (``frames``) it last took
    pulls: dict[int, int] = field(default_factory=dict)  # cut -> offloaded frames learned from (all epochs)
    A: np.ndarray = field(init=False)
    b: np.ndarray = field(init=False)
    A_new: np.ndarray = field(init=False)  # the part of A − λI added since the last detected change
    b_new: np.ndarray = field(init=False)  # ... of b

    LOCAL = -1  # the local arm's "cut"

    def __post_init__(self) -> None:
        if not self.arms:
            raise ValueError("μLinUCB needs at least one split point to learn")
        sizes = {len(a.context) for a in self.arms}
        if len(sizes) != 1:
            raise ValueError(f"every arm's context must have the same length, got {sorted(sizes)}")
        if self.first_epoch < 1 or self.first_epoch & (self.first_epoch - 1):
            raise ValueError("first_epoch must be a power of two")
        if not 0.0 <= self.carry <= 1.0:
            raise ValueError("carry must be in [0, 1]")
        if not 0.0 <= self.change_keep <= 1.0 or self.change_ratio < 0:
            raise ValueError("change_keep must be in [0, 1] and change_ratio >= 0")
        self.dim = sizes.pop()
        self.A = self.ridge * np.eye(self.dim)
        self.b = np.zeros(self.dim)
        self.A_new = np.zeros((self.dim, self.dim))
        self.b_new = np.zeros(self.dim)
        self.stash = (np.zeros((self.dim, self.dim)), np.zeros(self.dim))

    def _restart(self, keep: float | None = None) -> None:
        """A new epoch: A ← λI + c·(A − λI), b ← c·b (c = ``carry``, or ``keep``; 0 restarts from
        nothing)."""
        share = self.carry if keep is None else keep
        prior = self.ridge * np.eye(self.dim)
        self.A = prior + share * (self.A - prior)
        self.b = share * self.b
        self.A_new, self.b_new = share * self.A_new, share * self.b_new

    def _forget_before_change(self, x: np.ndarray) -> None:
        """The evidence from before the last detected change keeps the share c (``change_keep``), at most
        ``change_memory`` answers' worth at ``x`` where set; what came since is kept whole:
        A ← λI + A_new + c·(A − λI − A_new), b ← b_new + c·(b − b_new)."""
        prior, keep = self.ridge * np.eye(self.dim), self.change_keep
        old = self.A - prior - self.A_new
        norm = float(x @ x)
        seen = float(x @ old @ x)  # n answers at x: xᵀ(n x xᵀ)x = n (xᵀx)²
        if self.change_memory > 0 and norm > 0 and seen > 0:
            # c' = min(c, K (xᵀx)² / xᵀ old x): as a product, not K / (xᵀ old x / (xᵀx)²), whose (xᵀx)²
            # underflows to 0 for a context of 1e-138 (a ZeroDivisionError hypothesis found)
            keep = min(keep, self.change_memory * norm**2 / seen)
        self.A = prior + self.A_new + keep * old
        self.b = self.b_new + keep * (self.b - self.b_new)

    def _backends(self) -> dict[int, float]:
        """Every arm's back-end estimate x_pᵀθ̂ now."""
        theta = self.theta()
        return {a.cut: float(np.asarray(a.context, dtype=np.float64) @ theta) for a in self.arms}

    def _dominating(self, cut: int) -> list[Arm]:
        """The arms other than ``cut`` whose context dominates its (every feature at least as large: as
        many bytes over the link, as much of the model left to the edge): whatever slows ``cut``'s back
        end slows theirs at least as much."""
        x = next((np.asarray(a.context, dtype=np.float64) for a in self.arms if a.cut == cut), None)
        if x is None:
            return []
        return [a for a in self.arms if a.cut != cut and bool(np.all(np.asarray(a.context) >= x))]

    def _hold(self, witness: int, slower_s: float) -> None:
        """A slower change of ``slower_s`` seen at ``witness``: each arm not answered since the change that
        dominates the witness (``_dominating``) is held at its total before the change plus ``slower_s``
        until it answers (``held``)."""
        for arm in self._dominating(witness):
            if arm.cut not in self.since:
                floor = arm.front_s + self.before.get(arm.cut, 0.0) + slower_s
                self.held[arm.cut] = max(self.held.get(arm.cut, 0.0), floor)

    def reference(self, cut: int, x: np.ndarray) -> tuple[float, bool]:
        """What an answer at ``cut`` is compared with to detect a change, and whether it is the arm's own:
        the mean of its answers since the last detected change when it has any, else the estimate xᵀθ̂."""
        count, total = self.since.get(cut, (0, 0.0))
        if count:
            return total / count, True
        return float(x @ self.theta()), False

    def is_change(self, x: np.ndarray, backend_s: float, expected: float | None = None) -> bool:
        """Whether an answer ``backend_s`` at context ``x`` is off ``expected`` (default: the estimate
        xᵀθ̂) by a factor of ``change_ratio`` either way and by more than ``alpha`` (module docstring)."""
        if self.change_ratio <= 0:
            return False
        if expected is None:
            expected = float(x @ self.theta())
        if abs(backend_s - expected) <= self.alpha:
            return False
        if expected <= 0 or backend_s <= 0:
            return True  # off by more than α from nothing, or to nothing
        return max(backend_s / expected, expected / backend_s) > self.change_ratio

    @property
    def epoch_length(self) -> int:
        return self.first_epoch * 2**self.epoch

    @property
    def alpha_now(self) -> float:
        """α_k = alpha · sqrt(log(horizon of this epoch))."""
        return self.alpha * math.sqrt(math.log(self.epoch_length + 1))

    def theta(self) -> np.ndarray:
        return np.linalg.solve(self.A, self.b)

    def estimates(self) -> dict[int, tuple[float, float]]:
        """Per arm (cut; ``LOCAL`` for the device alone): (expected total delay, its optimistic bound)."""
        theta, inverse, alpha = self.theta(), np.linalg.inv(self.A), self.alpha_now
        local = self.local_s
        if self.local_width:  # a measured local time: as uncertain as its pulls leave it
            local -= alpha / math.sqrt(self.ridge + self.pulls.get(self.LOCAL, 0))
        out = {self.LOCAL: (self.local_s, local)}
        for arm in self.arms:
            x = np.asarray(arm.context, dtype=np.float64)
            count, total = self.since.get(arm.cut, (0, 0.0))
            backend = float(x @ theta)
            if self.own_weight > 0 and count:  # its own answers, with the model's as κ answers' worth
                backend = (self.own_weight * backend + total) / (self.own_weight + count)
            mean = arm.front_s + backend
            width = math.sqrt(max(float(x @ inverse @ x), 0.0))
            if not self.pulls.get(arm.cut):  # never answered: an extrapolation, as unsure as set
                width = max(width, self.unpulled_width)
            bound = mean - alpha * width
            if self.hold and count:  # its own answers since the last change: as optimistic as they allow
                bound = max(bound, arm.front_s + total / count - alpha / math.sqrt(self.ridge + count))
            out[arm.cut] = (mean, bound)
        return out

    def forced_due(self, streak: int | None = None) -> bool:
        """Forced sampling: the local arm has won ⌈t^0.25⌉ frames in a row (or ``streak`` frames)."""
        return (self.local_streak if streak is None else streak) >= math.ceil(max(self.t, 1) ** 0.25)

    @property
    def look_every(self) -> int:
        """Frames between the looks at a stale edge (or where a slower change's end would show):
        ``free_after`` while ``free_looks`` (the look costs no frame), else ``stale_after``."""
        return self.free_after if self.free_looks and self.free_after > 0 else self.stale_after

    def stale(self, cut: int) -> bool:
        """Whether ``cut`` (or ``LOCAL``) has gone unchosen for ``stale_after`` frames (never chosen: yes)."""
        return self.frames - self.chosen_at.get(cut, -self.stale_after) >= self.stale_after > 0

    def _forced(self, offloading: dict[int, float]) -> int:
        """The arm a forced sample goes to: the paper's lowest-bound offloading arm; with
        ``forced_plausible``, the lowest bound below the local estimate, else (none could beat it) the
        lowest bound if the edge is stale (no offloading arm chosen for ``stale_after`` frames), else
        none (``LOCAL``). While a slower change holds, first the look where its end would show
        (``_telling``) once none of those arms has been chosen for ``stale_after`` frames, whatever else
        was looked at: a plausible arm that cannot show it (mobilenetv2's cut 48, its bound below the
        local time by its width) otherwise took the forced samples and put that look off."""
        if self.forced_plausible:
            telling = self._telling(offloading) if self.look_budget <= 0 else {}
            every = self.look_every
            if telling:  # a slower change holds: one look per stale_after frames where its end shows
                last = max(self.chosen_at.get(cut, -every) for cut in telling)
                if every > 0 and self.frames - last >= every:
                    return min(telling, key=lambda cut: telling[cut])
            plausible = {c: v for c, v in offloading.items() if v < self.local_s}
            if not plausible:  # one look per stale_after frames at the edge: the cheapest arm
                last = max(self.chosen_at.get(cut, -every) for cut in offloading)
                wait = every
                if self.hopeless_after and not self._hopeful(offloading):
                    wait = max(wait, self.hopeless_after)
                if telling or every <= 0 or self.frames - last < wait:
                    return self.LOCAL
                if self.look_budget > 0:
                    return self._look(offloading)
            else:
                offloading = plausible
        return min(offloading, key=lambda cut: (offloading[cut], self.pulls.get(cut, 0)))

    def _hopeful(self, offloading: dict[int, float]) -> bool:
        """Whether an arm of ``offloading`` could beat the local time were its back end a change (the
        ratio R) faster than the fastest it ever answered (``best``): front + best / R below the local
        estimate. Where none could (the digits CNN: the raw input's round trip alone, 5-7 ms at its best,
        is more than twice the device's whole 2 ms), nothing a look could detect would make offloading
        win, and each look costs its arm's time. The margin R: conditions may never have been seen at
        their best (an edge loaded from the start: bench/bench_ans_scripted.py's slow start, where the
        fastest answers themselves were slower than the device, followed 69 frames late without it).
        An arm never answered leaves hope: what the model says of it comes from the others, under whatever
        conditions they answered in (the slow start: cut 2, never answered, was the best after it)."""
        fronts, ratio = {a.cut: a.front_s for a in self.arms}, max(self.change_ratio, 1.0)
        return any(
            cut not in self.best or fronts.get(cut, 0.0) + self.best[cut] / ratio < self.local_s
            for cut in offloading
        )

    def _slowed(self, cut: int) -> float | None:
        """The back-end delay the last slower change (``before``, ``slowed``) must have brought an arm not
        answered since: a held arm's floor; any other arm's delay before the change plus the witness's
        slowdown times the lowest ratio of the arm's feature to the witness's, over the features that vary
        between arms (a link's slowdown goes with the bytes, an edge's with the work: the bound under every
        cause the contexts tell apart), when that is a change; else None (nothing it must show)."""
        arm = next((a for a in self.arms if a.cut == cut), None)
        if arm is None or cut not in self.before or self.slowed is None or self.change_sign <= 0:
            return None
        if cut in self.held:
            return self.held[cut] - arm.front_s
        contexts = {a.cut: np.asarray(a.context, dtype=np.float64) for a in self.arms}
        witness, slower_s = self.slowed
        if witness not in contexts:
            return None
        w, x, before = contexts[witness], contexts[cut], self.before[cut]
        varying = [i for i in range(self.dim) if w[i] > 0 and len({c[i] for c in contexts.values()}) > 1]
        if not varying:
            return None
        slowed = before + slower_s * min(x[i] / w[i] for i in varying)
        return slowed if self.is_change(x, slowed, before) else None

    def _undone(self, x: np.ndarray, backend_s: float, cut: int) -> bool:
        """Whether a faster answer at an arm not answered since the last slower change shows that change
        undone: faster, by a change, than what the change must have brought it to (``_slowed``). Any
        other faster answer there says only that the estimate was off: the arm answers the same whether
        the conditions recovered or the change never touched it, and the linear model puts part of a
        link's slowdown on the features every arm shares (the constant), raising the estimates of arms
        that hardly use the link (cut 48's 5 KB of mobilenetv2)."""
        slowed = self._slowed(cut)
        return slowed is not None and backend_s < slowed and self.is_change(x, backend_s, slowed)

    def _telling(self, offloading: dict[int, float]) -> dict[int, float]:
        """After a slower change, the arms of ``offloading`` whose answer would show it undone, each with
        what a look there is expected to cost now: an arm answered slower since (its answers' mean), and
        any other whose delay the change must have raised by a change's margin (``_slowed``) — cut 38's
        31 KB after cut 16's 100 KB showed a collapsed link: a look that costs half the witness's."""
        if not self.before or self.change_sign <= 0:
            return {}
        out = {}
        for arm in self.arms:
            if arm.cut not in offloading or arm.cut not in self.before:
                continue
            count, total = self.since.get(arm.cut, (0, 0.0))
            x = np.asarray(arm.context, dtype=np.float64)
            if count:
                if self.is_change(x, total / count, self.before[arm.cut]):
                    out[arm.cut] = arm.front_s + total / count
            else:
                slowed = self._slowed(arm.cut)
                if slowed is not None:
                    out[arm.cut] = arm.front_s + slowed
        return out

    def _look(self, offloading: dict[int, float]) -> int:
        """A look at a stale edge with ``look_budget`` B: among the arms whose expected total is at most B
        times the lowest expected total of ``offloading``'s arms, the one with the widest confidence
        (x_pᵀA⁻¹x_p: the least known, at the largest context; the raw input, whose bytes make it the arm
        that depends most on the link, where it is no more than B times the cheapest)."""
        means = {cut: mean for cut, (mean, _) in self.estimates().items() if cut in offloading}
        cheapest = min(means.values())
        inverse = np.linalg.inv(self.A)
        contexts = {a.cut: np.asarray(a.context, dtype=np.float64) for a in self.arms}
        within = [cut for cut, mean in means.items() if mean <= self.look_budget * max(cheapest, 0.0)]
        if not within:
            return min(offloading, key=lambda cut: (offloading[cut], self.pulls.get(cut, 0)))
        return max(within, key=lambda cut: (float(contexts[cut] @ inverse @ contexts[cut]), -offloading[cut]))

    def choose(
        self, exclude: set[int] | frozenset[int] = frozenset(), floors: Mapping[int, float] | None = None
    ) -> int:
        """The arm for the next frame (a cut, or ``LOCAL``; never one of ``exclude``, unless every
        offloading arm is, and then ``LOCAL`` or, without one, the lowest bound); advances the frame count
        and the epoch. ``floors`` (not the paper's): per arm, a delay it is known to take at least — a frame
        still in flight on it for that long — which its bound is raised to."""
        if self.t >= self.epoch_length:  # the doubling trick: a new epoch, twice as long
            self.epoch, self.t = self.epoch + 1, 0
            self._restart()
        self.t += 1
        self.frames += 1
        every = {cut: bound for cut, (_, bound) in self.estimates().items()}
        floors = dict(floors or {})
        if self.hold:  # a frame in flight on an arm for t: the arms dominating it take at least as long
            fronts = {a.cut: a.front_s for a in self.arms}
            for cut, floor in list(floors.items()):
                for arm in self._dominating(cut) if cut in fronts else ():
                    floors[arm.cut] = max(floors.get(arm.cut, 0.0), floor - fronts[cut] + arm.front_s)
        for cut, floor in [*floors.items(), *self.held.items()]:
            if cut in every:
                every[cut] = max(every[cut], floor)
        bounds = {c: v for c, v in every.items() if c not in exclude or c == self.LOCAL}
        if not math.isfinite(bounds[self.LOCAL]) and len(bounds) == 1:
            bounds = every  # no local arm and every other excluded: the lowest bound after all
        best = min(bounds, key=lambda cut: (bounds[cut], cut != self.LOCAL))
        offloading = {c: v for c, v in bounds.items() if c != self.LOCAL}
        if best == self.LOCAL and offloading and self.forced_due():
            best = self._forced(offloading)
        elif best != self.LOCAL and self.forced_local and math.isfinite(self.local_s):
            if self.local_left:
                self.local_left -= 1
                best = self.LOCAL
            elif self.stale(self.LOCAL) and self.forced_due(self.offload_streak):
                # the mirror: a local time measured long ago is measured again, one frame first; the
                # rest of forced_local only if its time is off the local estimate (``local_answer``)
                self.local_probe = self.change_ratio > 0
                self.local_left = 0 if self.local_probe else self.forced_local - 1
                best = self.LOCAL
        self.local_streak = self.local_streak + 1 if best == self.LOCAL else 0
        self.offload_streak = self.offload_streak + 1 if best != self.LOCAL else 0
        self.chosen_at[best] = self.frames
        return best

    def local_answer(self, seconds: float) -> None:
        """A local frame's measured time, before it moves ``local_s``: the first frame of a forced local
        sample (``local_probe``) off the local estimate as a change would be (``is_change``), or, with
        ``local_faster`` s, below (1 − s) times the local estimate, owes the ``forced_local`` − 1 frames
        after it, so that the local time measured again moves; one within it ends the sample."""
        if self.local_probe and math.isfinite(seconds):
            self.local_probe = False
            faster = self.local_faster > 0 and seconds < (1 - self.local_faster) * self.local_s
            if faster or self.is_change(np.zeros(self.dim), seconds, self.local_s):
                self.local_left = max(self.forced_local - 1, 0)

    def update(self, cut: int, backend_s: float, key_frame: bool = False) -> None:
        """An offloaded frame's measured back-end delay (send → answer) at ``cut``."""
        if cut == self.LOCAL:
            return
        arm = next((a for a in self.arms if a.cut == cut), None)
        if arm is None:
            raise ValueError(f"no arm cuts at {cut}")
        if not math.isfinite(backend_s) or backend_s < 0:
            raise ValueError(f"a back-end delay must be a finite number >= 0, not {backend_s!r}")
        x = np.asarray(arm.context, dtype=np.float64)
        w = self.key_weight if key_frame else 1.0
        expected, own = self.reference(cut, x)
        if (own or self.pulls.get(cut, 0) >= 2) and self.is_change(x, backend_s, expected):
            sign = 1 if backend_s > expected else -1
        else:
            sign = 0
        if not own and self.before and self.change_sign > 0:  # an arm not answered since a slower change
            if self._undone(x, backend_s, cut):
                sign = -1  # faster than the change must have made it: the change undone
            elif sign < 0:
                sign = 0  # else a faster answer says the estimate was off, not the conditions
        self.held.pop(cut, None)  # its own answer speaks for it now
        back = False
        slower = backend_s - expected  # a slower change's size at this arm (counted from before the first)
        if sign:
            if not own and sign == self.change_sign:  # the last change, seen at another arm
                self.echoes += 1
            else:  # a change: everything before it yields, and the arms' own answers start afresh
                back = sign < 0 and cut in self.before and not self.is_change(x, backend_s, self.before[cut])
                nested = sign > 0 and self.change_sign > 0 and bool(self.before)  # slower again, not undone
                self.changes, self.change_sign = self.changes + 1, sign
                self.A_new, self.b_new = np.zeros((self.dim, self.dim)), np.zeros(self.dim)
                since_then, self.since, self.held = self.since, {}, {}
                if back:  # the slower change undone: the evidence from before it holds again
                    self.A, self.b = self.ridge * np.eye(self.dim) + self.stash[0], self.stash[1].copy()
                    self.since = dict(self.since_before)  # and each arm's own answers from then
                if sign > 0 and self.hold and nested:
                    # slower again before the first was undone: its end is the end of both, so the
                    # estimates and the evidence from before the first are kept, and the slowdown counts
                    # from there
                    slower = backend_s - self.before.get(cut, expected)
                    self.slowed = (cut, slower)
                elif sign > 0 and self.hold:
                    self.before, self.slowed = self._backends(), (cut, slower)
                    self.stash = (self.A - self.ridge * np.eye(self.dim), self.b.copy())
                    self.since_before = since_then
                else:
                    self.before = {}
            if not back:
                self._forget_before_change(x)
            if sign > 0 and self.hold:
                self._hold(cut, slower)
        self.A += w * np.outer(x, x)
        self.b += w * backend_s * x
        self.A_new += w * np.outer(x, x)
        self.b_new += w * backend_s * x
        count, total = self.since.get(cut, (0, 0.0))
        self.since[cut] = (count + 1, total + backend_s)
        self.pulls[cut] = self.pulls.get(cut, 0) + 1
        self.best[cut] = min(self.best.get(cut, backend_s), backend_s)

    # --- persistence -------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything, as JSON-able numbers (what the agent keeps on its disk and reports)."""
        return {
            "arms": [{"cut": a.cut, "context": list(a.context), "front_s": a.front_s} for a in self.arms],
            "local_s": self.local_s,
            "alpha": self.alpha,
            "ridge": self.ridge,
            "key_weight": self.key_weight,
            "first_epoch": self.first_epoch,
            "carry": self.carry,
            "local_width": self.local_width,
            "forced_plausible": self.forced_plausible,
            "forced_local": self.forced_local,
            "stale_after": self.stale_after,
            "look_budget": self.look_budget,
            "free_after": self.free_after,
            "local_left": self.local_left,
            "local_probe": self.local_probe,
            "local_faster": self.local_faster,
            "change_ratio": self.change_ratio,
            "change_keep": self.change_keep,
            "change_memory": self.change_memory,
            "changes": self.changes,
            "echoes": self.echoes,
            "change_sign": self.change_sign,
            "hold": self.hold,
            "hopeless_after": self.hopeless_after,
            "unpulled_width": self.unpulled_width,
            "own_weight": self.own_weight,
            "best": {str(k): v for k, v in self.best.items()},
            "held": {str(k): v for k, v in self.held.items()},
            "before": {str(k): v for k, v in self.before.items()},
            "slowed": list(self.slowed) if self.slowed is not None else None,
            "stash": [self.stash[0].tolist(), self.stash[1].tolist()],
            "since": {str(k): [n, total] for k, (n, total) in self.since.items()},
            "since_before": {str(k): [n, total] for k, (n, total) in self.since_before.items()},
            "t": self.t,
            "epoch": self.epoch,
            "local_streak": self.local_streak,
            "offload_streak": self.offload_streak,
            "frames": self.frames,
            "chosen_at": {str(k): v for k, v in self.chosen_at.items()},
            "pulls": {str(k): v for k, v in self.pulls.items()},
            "A": self.A.tolist(),
            "b": self.b.tolist(),
            "A_new": self.A_new.tolist(),
            "b_new": self.b_new.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MuLinUCB:
        arms = [
            Arm(int(a["cut"]), tuple(float(v) for v in a["context"]), float(a["front_s"]))
            for a in data["arms"]
        ]
        bandit = cls(
            arms,
            float(data["local_s"]),
            alpha=float(data["alpha"]),
            ridge=float(data["ridge"]),
            key_weight=float(data["key_weight"]),
            first_epoch=int(data["first_epoch"]),
            carry=float(data.get("carry", 0.0)),  # a state kept before carry existed: the paper's restart
            local_width=bool(data.get("local_width", False)),
            forced_plausible=bool(data.get("forced_plausible", False)),
            forced_local=int(data.get("forced_local", 0)),
            stale_after=int(data.get("stale_after", 0)),
            look_budget=float(data.get("look_budget", 0.0)),
            free_after=int(data.get("free_after", 0)),
            local_left=int(data.get("local_left", 0)),
            local_probe=bool(data.get("local_probe", False)),
            local_faster=float(data.get("local_faster", 0.0)),
            change_ratio=float(data.get("change_ratio", 0.0)),  # kept before it existed: the paper's
            change_keep=float(data.get("change_keep", 0.25)),
            change_memory=float(data.get("change_memory", 0.0)),
            changes=int(data.get("changes", 0)),
            echoes=int(data.get("echoes", 0)),
            change_sign=int(data.get("change_sign", 0)),
            hold=bool(data.get("hold", False)),
            hopeless_after=int(data.get("hopeless_after", 0)),
            unpulled_width=float(data.get("unpulled_width", 0.0)),
            own_weight=float(data.get("own_weight", 0.0)),
            best={int(k): float(v) for k, v in (data.get("best") or {}).items()},
            held={int(k): float(v) for k, v in (data.get("held") or {}).items()},
            before={int(k): float(v) for k, v in (data.get("before") or {}).items()},
            slowed=(int(data["slowed"][0]), float(data["slowed"][1])) if data.get("slowed") else None,
            since={int(k): (int(v[0]), float(v[1])) for k, v in (data.get("since") or {}).items()},
            since_before={
                int(k): (int(v[0]), float(v[1])) for k, v in (data.get("since_before") or {}).items()
            },
            t=int(data["t"]),
            epoch=int(data["epoch"]),
            local_streak=int(data["local_streak"]),
            offload_streak=int(data.get("offload_streak", 0)),
            frames=int(data.get("frames", 0)),
            chosen_at={int(k): int(v) for k, v in (data.get("chosen_at") or {}).items()},
            pulls={int(k): int(v) for k, v in data["pulls"].items()},
        )
        A, b = np.asarray(data["A"], dtype=np.float64), np.asarray(data["b"], dtype=np.float64)
        # Kept before A_new existed: nothing counted as new (a change seen again discounts it all).
        A_new = np.asarray(data.get("A_new", np.zeros_like(A)), dtype=np.float64)
        b_new = np.asarray(data.get("b_new", np.zeros_like(b)), dtype=np.float64)
        stash = data.get("stash") or [np.zeros_like(A).tolist(), np.zeros_like(b).tolist()]
        stash_A, stash_b = (np.asarray(v, dtype=np.float64) for v in stash)
        square, flat = (bandit.dim, bandit.dim), (bandit.dim,)
        shapes = (A.shape, b.shape, A_new.shape, b_new.shape, stash_A.shape, stash_b.shape)
        if shapes != (square, flat, square, flat, square, flat):
            raise ValueError("the saved state does not fit its arms' contexts")
        bandit.A, bandit.b, bandit.A_new, bandit.b_new = A, b, A_new, b_new
        bandit.stash = (stash_A, stash_b)
        return bandit

    def report(self) -> list[dict[str, Any]]:
        """Each arm's estimate and pull count, as ``GET /api/sessions/{id}/`` shows them."""
        pulls = {**self.pulls, self.LOCAL: None}
        return [
            {"cut": cut, "estimate_s": mean, "bound_s": bound, "pulls": pulls.get(cut, 0)}
            for cut, (mean, bound) in sorted(self.estimates().items())
        ]
