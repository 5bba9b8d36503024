"""Live re-planning for the ``adaptive`` strategy: estimates in, a decision out (no Django, no clocks).

A running session keeps ``Conditions``: per link an effective bandwidth (bytes/s), per device a slowdown
factor (measured stage time / profiled compute time; it folds thermal throttling, the wait behind
background tenants and the profile's own bias into one number, used as the planner's ``throttle``, so it may
be below 1.0 where the profile overestimates). ``observe`` updates
them from frame traces with an exponentially weighted average; the caller seeds them from telemetry and
LinkSamples for what the current plan does not exercise.

``should_replan`` says when to re-plan: a condition drifted beyond ``Policy.drift`` (relative) since the
current plan was made, or ``Policy.period_s`` passed; never sooner than ``Policy.cooldown_s`` after the last
re-plan. ``should_switch`` is the hysteresis: switch only if the new plan's predicted latency beats the
current placement's, re-evaluated under the same conditions, by ``Policy.margin``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .cost import Context, latency_of
from .errors import PlanningError
from .model import DeviceState, Link, Problem

Pair = tuple[str, str]


def pair(a: str, b: str) -> Pair:
    """Links are keyed by the unordered pair (the emulated links are symmetric)."""
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Policy:
    drift: float = 0.25  # relative change of a condition that triggers a re-plan
    period_s: float = 10.0  # re-plan at least this often
    cooldown_s: float = 2.0  # ... and at most this often
    margin: float = 0.10  # a new plan must be predicted this much faster than the current one
    alpha: float = 0.5  # weight of a new sample in the moving averages
    jump: float = 0.5  # a sample this far (relative) from the estimate replaces it: a change point, not noise
    probe_s: float = 2.0  # while the plan crosses no link, probe the source's links this often
    min_transfer_s: float = 1e-3  # shorter transfers say little about bandwidth


@dataclass(frozen=True)
class Conditions:
    bandwidth: Mapping[Pair, float] = field(default_factory=dict)  # bytes/s
    slowdown: Mapping[str, float] = field(default_factory=dict)  # device id -> factor (1.0 = as profiled)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bandwidth_bps": {f"{a}|{b}": round(v * 8.0, 1) for (a, b), v in self.bandwidth.items()},
            "slowdown": {k: round(v, 4) for k, v in self.slowdown.items()},
        }


@dataclass(frozen=True)
class Decision:
    act: bool
    reason: str


def ewma(old: float | None, sample: float, alpha: float, jump: float = math.inf) -> float:
    """The moving average, restarted at ``sample`` when it lies more than ``jump`` (relative) away."""
    if old is None or (old > 0 and abs(sample - old) / old > jump):
        return sample
    return (1.0 - alpha) * old + alpha * sample


def observe(
    prior: Conditions,
    plan: Mapping[str, Any],
    frames: Iterable[Mapping[str, Any]],
    *,
    input_bytes: float,
    source: str,
    rtt: Mapping[Pair, float] | None = None,
    policy: Policy = Policy(),
) -> Conditions:
    """Fold the frames' traces into ``prior``. ``plan`` is ``Plan.to_dict()`` of the placement the frames ran
    on (its ``stages`` give each stage's device, predicted compute and, with ``cut_tensors``, the bytes each
    hop carried; ``devices`` their throttle at planning time). The input's transfer to a first stage on
    another device is what the frame's latency leaves unexplained by its trace."""
    stages = plan.get("stages") or []
    hops = [c.get("bytes") or 0.0 for c in plan.get("cut_tensors") or []]
    throttle = {str(d.get("id")): float(d.get("throttle") or 1.0) for d in plan.get("devices") or []}
    rtt = rtt or {}
    bandwidth, slowdown = dict(prior.bandwidth), dict(prior.slowdown)
    for frame in frames:
        trace = frame.get("trace") or []
        if not frame.get("ok") or len(trace) != len(stages):
            continue
        # Per device, its stages of this frame together: a tiny stage's ratio alone would be mostly noise.
        spent: dict[str, list[float]] = {}
        for entry, stage in zip(trace, stages, strict=True):
            total = spent.setdefault(stage["device"], [0.0, 0.0])
            total[0] += float(entry.get("compute_s") or 0.0) + float(entry.get("queue_s") or 0.0)
            total[1] += float(stage.get("compute") or 0.0) / throttle.get(stage["device"], 1.0)
        for device, (measured, predicted) in spent.items():
            if predicted > 0:
                slowdown[device] = ewma(slowdown.get(device), measured / predicted, policy.alpha, policy.jump)
        for k, (entry, stage) in enumerate(zip(trace, stages, strict=True)):
            if k + 1 < len(stages) and k < len(hops) and stages[k + 1]["device"] != stage["device"]:
                key = pair(stage["device"], stages[k + 1]["device"])
                _bandwidth_sample(bandwidth, key, hops[k], float(entry.get("transfer_s") or 0.0), rtt, policy)
        if stages and stages[0]["device"] != source:
            traced = sum(
                float(e.get(x) or 0.0)
                for e in trace
                for x in ("queue_s", "compute_s", "serialize_s", "transfer_s")
            )
            unexplained = float(frame.get("latency_s") or 0.0) - traced
            key = pair(source, stages[0]["device"])
            _bandwidth_sample(bandwidth, key, input_bytes, unexplained, rtt, policy)
    return Conditions(bandwidth, slowdown)


def _bandwidth_sample(
    bandwidth: dict[Pair, float],
    key: Pair,
    nbytes: float,
    seconds: float,
    rtt: Mapping[Pair, float],
    policy: Policy,
) -> None:
    wire = seconds - rtt.get(key, 0.0) / 2.0
    if nbytes <= 0 or wire < policy.min_transfer_s:
        return
    bandwidth[key] = ewma(bandwidth.get(key), nbytes / wire, policy.alpha, policy.jump)


def drift(baseline: Conditions, current: Conditions, threshold: float) -> list[str]:
    """Every condition that moved more than ``threshold`` (relative) from ``baseline``, described."""
    reasons = []
    for key, now in sorted(current.bandwidth.items()):
        then = baseline.bandwidth.get(key)
        if then and abs(now - then) / then > threshold:
            reasons.append(
                f"link {key[0][:8]}-{key[1][:8]} {then * 8 / 1e6:.3g} -> {now * 8 / 1e6:.3g} Mbit/s "
                f"({(now - then) / then:+.0%})"
            )
    for device, now in sorted(current.slowdown.items()):
        then = baseline.slowdown.get(device, 1.0)
        if abs(now - then) / then > threshold:
            reasons.append(f"device {device[:8]} slowdown x{then:.2f} -> x{now:.2f}")
    return reasons


def should_replan(
    baseline: Conditions, current: Conditions, since_last_s: float, policy: Policy = Policy()
) -> Decision:
    """Re-plan on drift beyond ``policy.drift`` or every ``policy.period_s``, never within ``cooldown_s``."""
    if since_last_s < policy.cooldown_s:
        return Decision(False, f"cooling down ({since_last_s:.1f} s < {policy.cooldown_s:g} s)")
    reasons = drift(baseline, current, policy.drift)
    if reasons:
        return Decision(True, "drift: " + "; ".join(reasons))
    if since_last_s >= policy.period_s:
        return Decision(True, f"periodic re-plan ({policy.period_s:g} s)")
    return Decision(False, "no drift")


def should_switch(current_s: float, candidate_s: float, same: bool, policy: Policy = Policy()) -> Decision:
    """Hysteresis: switch only to a different placement predicted faster by ``policy.margin``."""
    if same:
        return Decision(False, "the best plan is the current placement")
    if math.isinf(candidate_s) or math.isnan(candidate_s):
        return Decision(False, "the new plan is unreachable")
    if candidate_s < current_s * (1.0 - policy.margin):
        return Decision(True, f"predicted {current_s * 1e3:.1f} -> {candidate_s * 1e3:.1f} ms")
    return Decision(
        False, f"gain below {policy.margin:.0%} ({current_s * 1e3:.1f} vs {candidate_s * 1e3:.1f} ms)"
    )


# --- placements ------------------------------------------------------------------------------------


def placement(plan: Mapping[str, Any]) -> tuple[tuple[str, str, int, int], ...]:
    """A chain plan's placement: (device, unit, first block, last block) per stage."""
    return tuple(
        (str(s["device"]), str(s["unit"]), int(s["first_block"]), int(s["last_block"]))
        for s in plan["stages"]
    )


def evaluate(problem: Problem, stages: Sequence[tuple[str, str, int, int]]) -> float:
    """The predicted latency of a fixed placement under ``problem``'s conditions (inf if it cannot run)."""
    ctx = Context(problem)
    assignment: list[int] = []
    for device, unit, first, last in stages:
        sites = (
            [i for i in ctx.device_sites(device) if ctx.sites[i].unit == unit]
            if device in ctx.devices
            else []
        )
        if not sites:
            return math.inf
        assignment += [sites[0]] * (last - first + 1)
    if len(assignment) != len(ctx.blocks):
        raise PlanningError(f"the placement covers {len(assignment)} of {len(ctx.blocks)} blocks")
    return latency_of(ctx, assignment)


def apply(problem: Problem, conditions: Conditions) -> Problem:
    """``problem`` with the estimated bandwidths and slowdowns in place of its links' and devices' own."""
    links = []
    for link in problem.links:
        bw = conditions.bandwidth.get(pair(link.a, link.b))
        links.append(link if bw is None else replace(link, bandwidth=bw))
    known = {pair(x.a, x.b) for x in problem.links}
    links += [Link(a, b, bw) for (a, b), bw in conditions.bandwidth.items() if (a, b) not in known]
    devices = []
    for d in problem.devices:
        factor = conditions.slowdown.get(d.id)
        if factor is None:
            devices.append(d)
            continue
        state = DeviceState(factor, d.state.queue_length, d.state.service_time)
        devices.append(replace(d, state=state))
    return replace(problem, links=tuple(links), devices=tuple(devices))
