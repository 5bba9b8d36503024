"""``ans``'s bandit in-process on scripted environments: the agent's rules, and each rule taken out.

    .venv/bin/python bench/bench_ans_scripted.py

No agents and no network: ``MuLinUCB`` as the agent's controller configures it (α = 0.02 scaled to the
local time by ``controller.alpha_for``, evidence carried across epochs, the local time measured as the
median of the last 5 local frames, plausible forced samples, change detection R = 2, c = 0.25, K = 4,
``stale_after`` 24, ``forced_local`` 3, ``local_faster`` 0.1, ``hold``, ``hopeless_after`` 96;
docs/learning.md) on agents/tests/test_ulinucb.py's four cuts (back-end delay: MB over the link plus
GMACs at 20 GMAC/s, 5% noise), the device alone at 0.1 s unless said, 600 frames with steps at frames 200
and 400. Beside the
agent's rules ("agent"), the same with one taken out or changed: "K 0" (a detected change keeps c = 0.25
of the evidence, however long the history), "stale 64" (the edge and the local arm looked at again after
64 frames unchosen, as before), "R 0" (no change detection: the paper's weights), "α fixed" (α = 0.02
whatever the local time), "look 2" (a look at a stale edge goes to the least known arm expected within
2x the cheapest, ``look_budget`` 2, not the cheapest), "local faster 0" (a local look runs 3 frames only
when off the local estimate by 2x), "hold off" (a slower change holds nothing, the look goes to the
cheapest arm, any faster answer may end it, and its end keeps a quarter of the evidence). Prints, per
scenario and rules (10 seeds): the mean delay over the best arm's per frame (the scripted oracle), the
regret per 200-frame phase (seconds against the best arm per frame, mean of the seeds), the detected
changes per step (the value most seeds give), and the frames from each step until the first whose median
delay over
3 frames is within 5% of the best (bench/bench_learning.py's rule; the median of the seeds, their
largest in brackets, "never": not within the phase on some seed). About 15 s.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agents"))

from edgeorch_agent.learning import controller  # noqa: E402
from edgeorch_agent.learning.ulinucb import Arm, MuLinUCB  # noqa: E402

LOCAL = MuLinUCB.LOCAL
AGENT = {  # as the agent's controller sets them
    "alpha": 0.02,
    "carry": 1.0,
    "local_width": True,
    "forced_plausible": True,
    "change_ratio": controller.CHANGE_RATIO,
    "change_keep": controller.CHANGE_KEEP,
    "change_memory": controller.CHANGE_MEMORY,
    "stale_after": controller.STALE_AFTER,
    "forced_local": controller.LOCAL_WINDOW // 2 + 1,
    "local_faster": controller.LOCAL_FASTER,
    "hold": True,
    "hopeless_after": controller.HOPELESS_AFTER,
}
RULES = {
    "agent": {},
    "K 0": {"change_memory": 0.0},
    "stale 64": {"stale_after": 64},
    "R 0": {"change_ratio": 0.0},
    "α fixed": {"scaled_alpha": False},
    "look 2": {"look_budget": 2.0},
    "local faster 0": {"local_faster": 0.0},
    "hold off": {"hold": False},
}
STEPS = (200, 400)
SCENARIOS = {  # name: (MB/s at frame t, the device's local time at t)
    "collapse and recovery: 10, 0.5, 10 MB/s": (
        lambda t: 0.5 if 200 <= t < 400 else 10.0,
        lambda t: 0.1,
    ),
    "severe collapse: 10, 0.05, 10 MB/s": (
        lambda t: 0.05 if 200 <= t < 400 else 10.0,
        lambda t: 0.1,
    ),
    "the device loaded, then fast: local 0.3 s, then 0.02 s from frame 200": (
        lambda t: 10.0,
        lambda t: 0.3 if t < 200 else 0.02,
    ),
    "stationary, the device slow: local 0.3 s": (lambda t: 10.0, lambda t: 0.3),
    "a slow start: 3.3 MB/s for 40 frames, then 10 MB/s; local 0.065 s": (
        lambda t: 3.3 if t < 40 else 10.0,
        lambda t: 0.065,
    ),
    "a loaded start: local 0.09 s for 40 frames, then 0.05 s": (
        lambda t: 10.0,
        lambda t: 0.09 if t < 40 else 0.05,
    ),
}


def arms() -> list[Arm]:
    return [
        Arm(0, (1.00, 1.0), 0.000),
        Arm(1, (0.50, 0.6), 0.010),
        Arm(2, (0.10, 0.3), 0.030),
        Arm(3, (0.05, 0.1), 0.060),
    ]


def run(rules: dict, link, local, seed: int, frames: int = 600) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Per frame: the true delay of the arm chosen, the best arm's, and the changes detected so far."""
    rng = np.random.default_rng(seed)
    rules = dict(rules)
    scaled = rules.pop("scaled_alpha", True)  # α scaled to the local time, as the controller does
    bandit = MuLinUCB(arms(), 0.1, **{**AGENT, **rules})
    got, best, changes, times = [], [], [], []
    for t in range(frames):
        mb_s = link(t)
        truth = {a.cut: a.front_s + a.context[0] / mb_s + a.context[1] / 20.0 for a in bandit.arms}
        truth[LOCAL] = local(t)
        cut = bandit.choose()
        got.append(truth[cut])
        best.append(min(truth.values()))
        noise = 1 + 0.05 * rng.standard_normal()
        if cut == LOCAL:  # as the agent's controller: the median of the last 5 local frames
            bandit.local_answer(local(t) * noise)
            times = [*times, local(t) * noise][-5:]
            bandit.local_s = float(np.median(times))
            if scaled:
                bandit.alpha = controller.alpha_for(bandit.local_s, AGENT["alpha"])
            bandit.pulls[LOCAL] = bandit.pulls.get(LOCAL, 0) + 1
        else:
            arm = next(a for a in bandit.arms if a.cut == cut)
            mb, gmacs = arm.context
            bandit.update(cut, max(0.0, (mb / mb_s + gmacs / 20.0) * noise))
        changes.append(bandit.changes)
    return np.array(got), np.array(best), changes


def within(got: np.ndarray, best: np.ndarray, start: int, stop: int, smooth: int = 3) -> int | None:
    """Frames from ``start`` to the first whose median delay over ``smooth`` frames is within 5% of the
    best (None: not before ``stop``)."""
    for k in range(start, stop - smooth + 1):
        if np.median(got[k : k + smooth]) <= 1.05 * best[k]:
            return k - start
    return None


def main() -> None:
    print(
        "| scenario | rules | × best | regret, frames 0-199 | 200-399 | 400-599 | changes per step "
        "| frames to 5% after 200 / after 400 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, (link, local) in SCENARIOS.items():
        for label, rules in RULES.items():
            ratios, phases, detected, settled = [], [], [], {step: [] for step in STEPS}
            for seed in range(10):
                got, best, changes = run(rules, link, local, seed)
                ratios.append(got.mean() / best.mean())
                phases.append([(got - best)[k : k + 200].sum() for k in (0, 200, 400)])
                detected.append(
                    f"{changes[199]}, {changes[399] - changes[199]}, {changes[-1] - changes[399]}"
                )
                for step, stop in zip(STEPS, (*STEPS[1:], 600), strict=True):
                    settled[step].append(within(got, best, step, stop))
            mean = np.mean(phases, axis=0)
            common = max(set(detected), key=detected.count)
            frames = []
            for step in STEPS:
                values = settled[step]
                if any(v is None for v in values):
                    frames.append("never")
                else:
                    frames.append(f"{statistics.median(values):g} ({max(values)})")
            print(
                f"| {name} | {label} | {np.mean(ratios):.2f} | {mean[0]:.2f} s | {mean[1]:.2f} s "
                f"| {mean[2]:.2f} s | {common} | {' / '.join(frames)} |"
            )


if __name__ == "__main__":
    main()
