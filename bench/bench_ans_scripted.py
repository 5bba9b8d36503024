"""``ans``'s bandit in-process on scripted environments, before and after its stale-arm rules.

    .venv/bin/python bench/bench_ans_scripted.py

No agents and no network: ``MuLinUCB`` as the agent's controller configures it (α = 0.02, evidence carried
across epochs, the local time measured as the median of the last 5 local frames, plausible forced samples,
change detection R = 2, c = 0.25) on agents/tests/test_ulinucb.py's four cuts (back-end delay: MB over the
link plus GMACs at 20 GMAC/s, 5% noise), the device alone at 0.1 s unless said. "before": forced samples
only of arms below the local estimate and the local arm measured only when chosen (``stale_after`` 0,
``forced_local`` 0); "after": an arm unchosen for 64 frames is stale and taken by a forced sample that finds
no plausible arm, and a stale local arm takes 3 local frames in a row (``stale_after`` 64, ``forced_local``
3; docs/learning.md). Prints the regret (seconds against the best arm per frame, mean of 10 seeds) per
200-frame phase and the frames from frame 200 and 400 to 5 in a row on the best arm then (the value most
seeds give; "never": not within the phase). About 10 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agents"))

from edgeorch_agent.learning.ulinucb import Arm, MuLinUCB  # noqa: E402

LOCAL = MuLinUCB.LOCAL
AGENT = {"alpha": 0.02, "carry": 1.0, "local_width": True, "forced_plausible": True, "change_ratio": 2.0}
RULES = {"before": {"stale_after": 0, "forced_local": 0}, "after": {"stale_after": 64, "forced_local": 3}}
SCENARIOS = {  # name: (MB/s at frame t, the device's local time at t)
    "collapse and recovery: 10, 0.5, 10 MB/s": (
        lambda t: 0.5 if 200 <= t < 400 else 10.0,
        lambda t: 0.1,
    ),
    "the device loaded, then fast: local 0.3 s, then 0.02 s from frame 200": (
        lambda t: 10.0,
        lambda t: 0.3 if t < 200 else 0.02,
    ),
    "stationary, the device slow: local 0.3 s": (lambda t: 10.0, lambda t: 0.3),
}


def arms() -> list[Arm]:
    return [
        Arm(0, (1.00, 1.0), 0.000),
        Arm(1, (0.50, 0.6), 0.010),
        Arm(2, (0.10, 0.3), 0.030),
        Arm(3, (0.05, 0.1), 0.060),
    ]


def run(rules: dict, link, local, seed: int, frames: int = 600) -> tuple[np.ndarray, list[dict]]:
    rng = np.random.default_rng(seed)
    bandit = MuLinUCB(arms(), 0.1, **AGENT, **rules)
    regret, truths, times = [], [], []
    for t in range(frames):
        mb_s = link(t)
        truth = {a.cut: a.front_s + a.context[0] / mb_s + a.context[1] / 20.0 for a in bandit.arms}
        truth[LOCAL] = local(t)
        cut = bandit.choose()
        regret.append(truth[cut] - min(truth.values()))
        truths.append({**truth, "chosen": cut})
        if cut == LOCAL:
            times = [*times, local(t) * (1 + 0.05 * rng.standard_normal())][-5:]
            bandit.local_s = float(np.median(times))
            bandit.pulls[LOCAL] = bandit.pulls.get(LOCAL, 0) + 1
        else:
            arm = next(a for a in bandit.arms if a.cut == cut)
            mb, gmacs = arm.context
            bandit.update(cut, max(0.0, (mb / mb_s + gmacs / 20.0) * (1 + 0.05 * rng.standard_normal())))
    return np.array(regret), truths


def settle(truths: list[dict], start: int, stop: int) -> str:
    """Frames from ``start`` to 5 in a row on the phase's best arm ("never" within the phase)."""
    best = min((c for c in truths[start] if c != "chosen"), key=lambda c: truths[start][c])
    chosen = [f["chosen"] for f in truths[start:stop]]
    hit = next((k for k in range(len(chosen) - 4) if chosen[k : k + 5] == [best] * 5), None)
    return "never" if hit is None else str(hit)


def main() -> None:
    print("| scenario | rules | regret, frames 0-199 | 200-399 | 400-599 | to the best from 200 / from 400 |")
    print("|---|---|---|---|---|---|")
    for name, (link, local) in SCENARIOS.items():
        for label, rules in RULES.items():
            phases, settled = [], []
            for seed in range(10):
                regret, truths = run(rules, link, local, seed)
                phases.append([regret[:200].sum(), regret[200:400].sum(), regret[400:].sum()])
                settled.append(f"{settle(truths, 200, 400)} / {settle(truths, 400, 600)}")
            mean = np.mean(phases, axis=0)
            common = max(set(settled), key=settled.count)
            print(f"| {name} | {label} | {mean[0]:.2f} s | {mean[1]:.2f} s | {mean[2]:.2f} s | {common} |")


if __name__ == "__main__":
    main()
