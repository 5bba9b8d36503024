"""Live re-planning for the ``adaptive`` strategy: estimates in, a decision out (no Django, no clocks).

A running session keeps ``Conditions``: per link an effective bandwidth (bytes/s), per device a slowdown
factor (measured stage time / profiled compute time; it folds thermal throttling, the wait behind
background tenants and the profile's own bias into one number, used as the planner's ``throttle``, so it may
be below 1.0 where the profile overestimates). ``observe`` updates them from frame traces with a robust
estimator: each condition is the median of its recent samples (``Policy.window``), so one noisy frame (a
host core taken by another process) is outvoted; ``Policy.confirm`` consecutive samples beyond
``Policy.jump`` on the same side are a change point and restart the window at once, and a link sample
``Policy.leap`` times off (a collapse) restarts it on its own. The caller seeds them from telemetry and
LinkSamples for what the current plan does not exercise.

``should_replan`` says when to re-plan: a condition drifted beyond ``Policy.drift`` (relative) since the
current plan was made (or a heating device's temperature by ``Policy.heat_drift_c``), or ``Policy.period_s``
passed; never sooner than ``Policy.cooldown_s`` after the last re-plan, unless a link moved ``Policy.leap``
times (a collapse does not wait). ``should_switch`` is the hysteresis: switch only if the new plan's predicted
latency beats the current placement's, re-evaluated under the same conditions, by ``Policy.margin`` plus the
estimates' own noise (``Conditions.spread``: a gain within the noise is no gain), and by twice the margin to
go back to a placement left within ``Policy.dwell_s`` (each switch costs the frames in flight on the old
route). ``judge`` is the same for a session planned by another objective (``planning.objective``): the
source's joules with the same hysteresis, and under ``energy_under_deadline`` the deadline first.

``foresee`` is the thermal foresight: for a device whose RC thermal model (``Heat``: the one copy, in
``edgeorch_wire.thermal``) can throttle it, every placement is judged by its mean latency over a horizon as
it heats that device, not by its latency now.
``calibration_samples`` reads a device's profile bias from another session's frames, per span of blocks
it ran, and ``calibrate`` applies it to those blocks (``block_factors``), so a device this session has not
run on yet is still compared calibrated, and a bias measured on some blocks is not charged to others.

Why one module of this length: the estimator and the decision rules are one controller (the rules read the
estimator's state and policy), tested together in tests/test_adaptive.py.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from edgeorch_wire.thermal import Heat  # re-exported: the thermal foresight's model

from .cost import Context, chain_plan, latency_of
from .energy import plan_energy
from .errors import PlanningError
from .model import DeviceState, Link, Problem
from .objective import LATENCY, UNDER_DEADLINE
from .plan import Plan

Pair = tuple[str, str]


def pair(a: str, b: str) -> Pair:
    """Links are keyed by the unordered pair (the emulated links are symmetric)."""
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Policy:
    drift: float = 0.25  # relative change of a condition that triggers a re-plan
    period_s: float = 10.0  # re-plan at least this often
    cooldown_s: float = 2.0  # ... and at most this often
    margin: float = 0.10  # a new plan must be predicted this much faster than the current one ...
    noise_gain: float = 0.5  # ... plus this many times the estimates' relative spread ...
    max_margin: float = 0.2  # ... in all at most this much (a collapse must still move the plan)
    dwell_s: float = 8.0  # going back to a placement left less than this ago needs twice the margin
    window: int = 5  # an estimate is the median of this many recent samples
    jump: float = 0.5  # a sample beyond this (relative) from the estimate is an outlier ...
    confirm: int = 3  # ... until this many in a row lie beyond it on the same side: a change point
    leap: float = 8.0  # a link sample this many times off the estimate is a change point on its own
    probe_s: float = 2.0  # while the plan crosses no link, probe the source's links this often
    heat_drift_c: float = 1.5  # a heating device's temperature moving this much re-judges its foresight
    min_transfer_s: float = 1e-3  # shorter transfers say little about bandwidth


@dataclass(frozen=True)
class Conditions:
    bandwidth: Mapping[Pair, float] = field(default_factory=dict)  # bytes/s
    slowdown: Mapping[str, float] = field(default_factory=dict)  # device id -> factor (1.0 = as profiled)
    # link_key / device_key -> the samples since the last change point, newest last (the estimate's median)
    recent: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def spread(self, keys: Iterable[str]) -> float:
        """The largest relative spread (median absolute deviation / median) of these estimates' samples;
        0 for an estimate with fewer than three (too few to tell noise from a level)."""
        return max((relative_mad(self.recent.get(k, ())) for k in keys), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bandwidth_bps": {f"{a}|{b}": round(v * 8.0, 1) for (a, b), v in self.bandwidth.items()},
            "slowdown": {k: round(v, 4) for k, v in self.slowdown.items()},
            "spread": {k: round(relative_mad(v), 3) for k, v in self.recent.items()},
        }


def link_key(key: Pair) -> str:
    return f"link:{key[0]}|{key[1]}"


def device_key(device: str) -> str:
    return f"device:{device}"


def relative_mad(samples: Sequence[float]) -> float:
    if len(samples) < 3:
        return 0.0
    mid = statistics.median(samples)
    return statistics.median(abs(x - mid) for x in samples) / mid if mid > 0 else 0.0


@dataclass(frozen=True)
class Decision:
    act: bool
    reason: str


def fold(recent: Sequence[float], sample: float, policy: Policy, leap: float = math.inf) -> tuple[float, ...]:
    """The samples an estimate is the median of, once ``sample`` is in.

    One sample beyond ``policy.jump`` of the estimate is an outlier, outvoted by the median;
    ``policy.confirm`` in a row beyond it on the same side are a new level (the window restarts at them); a
    sample ``leap`` times off restarts it alone."""
    if not recent or sample <= 0:
        return (sample,) if sample > 0 else tuple(recent)
    estimate = statistics.median(recent)
    if estimate <= 0 or max(sample / estimate, estimate / sample) >= leap:
        return (sample,)
    window = (*recent, sample)[-policy.window :]
    tail, before = window[-policy.confirm :], window[: -policy.confirm]
    if before and len(tail) == policy.confirm:
        level = statistics.median(before)
        if all(x > level * (1 + policy.jump) for x in tail) or all(
            x < level / (1 + policy.jump) for x in tail
        ):
            return tail
    return window


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
    another device is what the frame's latency leaves unexplained by its trace.

    A frame a stage dropped (``dropped``: its deadline out of reach, docs/qos.md) still measured the links it
    crossed: its trace runs from the first stage to the one that dropped it, which it reached, so each hop
    before that and the input's transfer are read as an answered frame's; its computes, incomplete, are not.
    Without it a collapsed link whose frames all miss their deadline would hide itself."""
    stages = plan.get("stages") or []
    hops = [c.get("bytes") or 0.0 for c in plan.get("cut_tensors") or []]
    throttle = {str(d.get("id")): float(d.get("throttle") or 1.0) for d in plan.get("devices") or []}
    rtt = rtt or {}
    bandwidth, slowdown, recent = dict(prior.bandwidth), dict(prior.slowdown), dict(prior.recent)
    for frame in frames:
        trace = frame.get("trace") or []
        dropped = frame.get("dropped") is True
        if dropped:
            if not trace or len(trace) > len(stages):
                continue
        elif not frame.get("ok") or len(trace) != len(stages):
            continue
        # Per device, its stages of this frame together: a tiny stage's ratio alone would be mostly noise.
        spent: dict[str, list[float]] = {}
        for entry, stage in zip(trace, stages, strict=not dropped):
            if dropped:
                break  # not computed to the end: its computes say nothing of the devices' speed
            total = spent.setdefault(stage["device"], [0.0, 0.0])
            total[0] += float(entry.get("compute_s") or 0.0) + float(entry.get("queue_s") or 0.0)
            total[1] += float(stage.get("compute") or 0.0) / throttle.get(stage["device"], 1.0)
        for device, (measured, predicted) in spent.items():
            if predicted > 0 and measured > 0:
                name = device_key(device)
                recent[name] = fold(recent.get(name, ()), measured / predicted, policy)
                slowdown[device] = statistics.median(recent[name])
        for k, (entry, stage) in enumerate(zip(trace, stages, strict=False)):
            if k + 1 < len(trace) and k < len(hops) and stages[k + 1]["device"] != stage["device"]:
                key = pair(stage["device"], stages[k + 1]["device"])
                seconds = float(entry.get("transfer_s") or 0.0)
                _bandwidth_sample(bandwidth, recent, key, hops[k], seconds, rtt, policy)
        if stages and stages[0]["device"] != source:
            traced = sum(
                float(e.get(x) or 0.0)
                for e in trace
                for x in ("queue_s", "compute_s", "serialize_s", "transfer_s")
            )
            unexplained = float(frame.get("latency_s") or 0.0) - traced
            key = pair(source, stages[0]["device"])
            _bandwidth_sample(bandwidth, recent, key, input_bytes, unexplained, rtt, policy)
    return Conditions(bandwidth, slowdown, recent)


Span = tuple[str, str, int, int]  # (device, unit, first block, last block): where a stage ran


def calibration_samples(
    plan: Mapping[str, Any],
    traces: Iterable[Sequence[Mapping[str, Any]]],
    throttle_at: Callable[[str, float], float],
    devices: Iterable[str],
) -> dict[Span, list[float]]:
    """Per stage the plan ran on a device of ``devices``, keyed by its span (device, unit, blocks), per
    frame: its measured compute / its profiled compute at full speed (the stage's ``profiled`` where the plan
    says it, else its compute / the device's throttle then) / ``throttle_at(device, when it ended)``.
    Compute only: queueing behind other tenants is a condition of the moment, not a bias of the profile.

    Keyed by span, not by device: a profile's bias is not the same on every block (mobilenetv2 on an
    emulated rpi4 ran its blocks 0-15 at 0.5 of their per-block profile, the whole network at 0.75), so a
    ratio measured on some blocks says little about the others (``calibrate``)."""
    wanted = set(devices)
    planned = {str(d.get("id")): float(d.get("throttle") or 1.0) for d in plan.get("devices") or []}
    stages = [s for s in plan.get("stages") or [] if s.get("first_block") is not None]
    out: dict[Span, list[float]] = {}
    for trace in traces:
        if len(trace) != len(stages):
            continue
        for entry, stage in zip(trace, stages, strict=True):
            device = str(stage["device"])
            if device not in wanted or entry.get("device") != device:
                continue
            base = float(stage.get("profiled") or 0.0) or (
                float(stage.get("compute") or 0.0) / planned.get(device, 1.0)
            )
            compute = float(entry.get("compute_s") or 0.0)
            if base > 0 and compute > 0:
                throttle = max(1.0, throttle_at(device, float(entry.get("end") or 0.0)))
                unit, first, last = (
                    str(stage.get("unit") or ""),
                    int(stage["first_block"]),
                    int(stage["last_block"]),
                )
                out.setdefault((device, unit, first, last), []).append(compute / (base * throttle))
    return out


def block_factors(times: Sequence[float], spans: Mapping[tuple[int, int], float]) -> list[float | None]:
    """Per block of one unit (profiled ``times``), its calibration factor from the measured ratios of
    ``spans`` ((first, last) -> measured / profiled over those blocks); None for a block no span covers.

    Spans are read shortest first: a span's blocks that a shorter one already calibrated keep that factor,
    and the rest of it gets what its measured ratio leaves for them (with [0-15] at 0.5 and [0-49] at 0.75,
    blocks 16-49 get what makes the whole 0.75, not 0.75 or 0.5 each)."""
    factors: list[float | None] = [None] * len(times)
    for (first, last), ratio in sorted(spans.items(), key=lambda x: (x[0][1] - x[0][0], x[0])):
        if not 0 <= first <= last < len(times) or not ratio > 0:
            continue
        blocks = range(first, last + 1)
        rest = [i for i in blocks if factors[i] is None]
        spare = sum(times[i] for i in rest)
        if not rest or spare <= 0:
            continue
        known = sum((factors[i] or 0.0) * times[i] for i in blocks if factors[i] is not None)
        factor = (ratio * sum(times[i] for i in blocks) - known) / spare
        factor = min(max(factor, ratio / 4.0), ratio * 4.0)  # a noisy difference stays near its span's
        for i in rest:
            factors[i] = factor
    return factors


def calibrate(problem: Problem, spans: Iterable[Sequence[Any]]) -> Problem:
    """``problem`` with each unit's block times scaled by the calibration its measured ``spans``
    ((device, unit, first, last, ratio), ``calibration_samples``' medians) give each block
    (``block_factors``); blocks no span covers stay as profiled."""
    measured: dict[tuple[str, str], dict[tuple[int, int], float]] = {}
    for device, unit, first, last, ratio in spans:
        measured.setdefault((str(device), str(unit)), {})[(int(first), int(last))] = float(ratio)
    if not measured:
        return problem
    devices = []
    for d in problem.devices:
        units = []
        for u in d.units:
            found = measured.get((d.id, u.name))
            if found is None or u.times is None:
                units.append(u)
                continue
            factors = block_factors(u.times, found)
            times = tuple(t if f is None else t * f for t, f in zip(u.times, factors, strict=True))
            units.append(replace(u, times=times))
        devices.append(replace(d, units=tuple(units)))
    return replace(problem, devices=tuple(devices))


def profiled(problem: Problem, device: str, unit: str, first: int, last: int) -> float | None:
    """The profiled compute of blocks ``first``..``last`` on ``device``'s ``unit`` at full speed (None when
    it has no measured times)."""
    for d in problem.devices:
        if d.id == device:
            for u in d.units:
                if u.name == unit and u.times is not None and 0 <= first <= last < len(u.times):
                    return sum(u.times[first : last + 1])
    return None


def _bandwidth_sample(
    bandwidth: dict[Pair, float],
    recent: dict[str, tuple[float, ...]],
    key: Pair,
    nbytes: float,
    seconds: float,
    rtt: Mapping[Pair, float],
    policy: Policy,
) -> None:
    wire = seconds - rtt.get(key, 0.0) / 2.0
    if nbytes <= 0 or wire < policy.min_transfer_s:
        return
    name = link_key(key)
    recent[name] = fold(recent.get(name, ()), nbytes / wire, policy, policy.leap)
    bandwidth[key] = statistics.median(recent[name])


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


def largest_link_move(baseline: Conditions, current: Conditions) -> float:
    """How many times (>= 1) the link bandwidth that moved most differs from ``baseline``."""
    moves = [1.0]
    for key, now in current.bandwidth.items():
        then = baseline.bandwidth.get(key)
        if then and now > 0:
            moves.append(max(now / then, then / now))
    return max(moves)


def should_replan(
    baseline: Conditions,
    current: Conditions,
    since_last_s: float,
    policy: Policy = Policy(),
    heat: tuple[str, float, float] | None = None,
) -> Decision:
    """Re-plan on drift beyond ``policy.drift`` or every ``policy.period_s``; never within ``cooldown_s``,
    unless a link moved ``policy.leap`` times (a collapse must not wait out a periodic re-plan). A device
    factor always waits: right after a switch its first samples are the least trustworthy.

    ``heat`` is (device, temperature when the plan was made, temperature now) for the device the thermal
    foresight judges by: the foresight's verdict changes as it heats, before its throttle (a drift of its
    factor) shows, so ``policy.heat_drift_c`` of temperature is a drift too."""
    urgent = largest_link_move(baseline, current) >= policy.leap
    if since_last_s < policy.cooldown_s and not urgent:
        return Decision(False, f"cooling down ({since_last_s:.1f} s < {policy.cooldown_s:g} s)")
    reasons = drift(baseline, current, policy.drift)
    if heat is not None and abs(heat[2] - heat[1]) >= policy.heat_drift_c:
        reasons.append(f"device {heat[0][:8]} {heat[1]:.1f} -> {heat[2]:.1f} C")
    if reasons:
        return Decision(True, "drift: " + "; ".join(reasons))
    if since_last_s >= policy.period_s:
        return Decision(True, f"periodic re-plan ({policy.period_s:g} s)")
    return Decision(False, "no drift")


def should_switch(
    current_s: float,
    candidate_s: float,
    same: bool,
    policy: Policy = Policy(),
    *,
    noise: float = 0.0,
    back: bool = False,
) -> Decision:
    """Hysteresis: switch only to a different placement predicted faster by ``policy.margin``, widened by
    ``noise`` (the estimates' relative spread, ``Conditions.spread``) and doubled to go ``back`` to a
    placement left within ``policy.dwell_s``; never more than ``policy.max_margin``."""
    return _hysteresis(current_s, candidate_s, same, policy, noise, back, lambda x: f"{x * 1e3:.1f}", "ms")


def _hysteresis(
    current: float,
    candidate: float,
    same: bool,
    policy: Policy,
    noise: float,
    back: bool,
    fmt: Callable[[float], str],
    unit: str,
) -> Decision:
    if same:
        return Decision(False, "the best plan is the current placement")
    if math.isinf(candidate) or math.isnan(candidate):
        return Decision(False, "the new plan is unreachable")
    margin = policy.margin * (2.0 if back else 1.0) + policy.noise_gain * max(0.0, noise)
    margin = min(margin, max(policy.max_margin, policy.margin))
    if candidate < current * (1.0 - margin):
        return Decision(True, f"predicted {fmt(current)} -> {fmt(candidate)} {unit}")
    return Decision(False, f"gain below {margin:.0%} ({fmt(current)} vs {fmt(candidate)} {unit})")


Estimate = tuple[float, float | None]  # a placement's predicted (seconds, source joules)


def judge(
    objective: str,
    deadline: float | None,
    current: Estimate,
    candidate: Estimate,
    same: bool,
    policy: Policy = Policy(),
    *,
    noise: float = 0.0,
    back: bool = False,
) -> Decision:
    """``should_switch`` for a session planned by ``objective``: by latency, seconds; by an energy objective,
    the source's joules per inference with the same hysteresis. Under ``energy_under_deadline`` the deadline
    comes first: a candidate that misses it never replaces a placement that meets it, one that meets it
    always replaces one that misses it, and between two that miss it the faster wins."""
    (now_s, now_j), (new_s, new_j) = current, candidate
    if objective == LATENCY or now_j is None or new_j is None:
        return should_switch(now_s, new_s, same, policy, noise=noise, back=back)
    if same:
        return Decision(False, "the best plan is the current placement")
    if objective == UNDER_DEADLINE and deadline is not None:
        now_ok, new_ok = now_s <= deadline, new_s <= deadline
        if now_ok and not new_ok:
            return Decision(
                False, f"it would miss the deadline ({new_s * 1e3:.1f} > {deadline * 1e3:.1f} ms)"
            )
        if new_ok and not now_ok:
            return Decision(True, f"it meets the deadline again ({now_s * 1e3:.1f} -> {new_s * 1e3:.1f} ms)")
        if not new_ok:
            return should_switch(now_s, new_s, same, policy, noise=noise, back=back)
    return _hysteresis(now_j, new_j, same, policy, noise, back, lambda x: f"{x:.3g}", "J")


def involved(stages: Sequence[tuple[str, str, int, int]], source: str) -> set[str]:
    """The estimate keys (``link_key``, ``device_key``) a placement's predicted latency rests on."""
    chain = [source, *(s[0] for s in stages)]
    links = {link_key(pair(a, b)) for a, b in zip(chain, chain[1:], strict=False) if a != b}
    return links | {device_key(s[0]) for s in stages}


# --- placements ------------------------------------------------------------------------------------


def placement(plan: Mapping[str, Any]) -> tuple[tuple[str, str, int, int], ...]:
    """A chain plan's placement: (device, unit, first block, last block) per stage."""
    return tuple(
        (str(s["device"]), str(s["unit"]), int(s["first_block"]), int(s["last_block"]))
        for s in plan["stages"]
    )


def _assignment(ctx: Context, stages: Sequence[tuple[str, str, int, int]]) -> list[int] | None:
    assignment: list[int] = []
    for device, unit, first, last in stages:
        sites = (
            [i for i in ctx.device_sites(device) if ctx.sites[i].unit == unit]
            if device in ctx.devices
            else []
        )
        if not sites:
            return None
        assignment += [sites[0]] * (last - first + 1)
    if len(assignment) != len(ctx.blocks):
        raise PlanningError(f"the placement covers {len(assignment)} of {len(ctx.blocks)} blocks")
    return assignment


def evaluate(problem: Problem, stages: Sequence[tuple[str, str, int, int]]) -> float:
    """The predicted latency of a fixed placement under ``problem``'s conditions (inf if it cannot run)."""
    ctx = Context(problem)
    assignment = _assignment(ctx, stages)
    return math.inf if assignment is None else latency_of(ctx, assignment)


def estimate(problem: Problem, stages: Sequence[tuple[str, str, int, int]]) -> Estimate:
    """The predicted latency and source joules of a fixed placement under ``problem``'s conditions (inf and
    None if it cannot run; joules None without the source's power model)."""
    ctx = Context(problem)
    assignment = _assignment(ctx, stages)
    latency = math.inf if assignment is None else latency_of(ctx, assignment)
    if assignment is None or math.isinf(latency):
        return latency, None
    return latency, plan_energy(ctx, chain_plan(ctx, "adaptive", assignment)).total


def plan_of(
    problem: Problem, stages: Sequence[tuple[str, str, int, int]], strategy: str = "adaptive"
) -> Plan:
    """The plan of a fixed placement under ``problem``'s conditions."""
    ctx = Context(problem)
    assignment = _assignment(ctx, stages)
    if assignment is None:
        raise PlanningError("the placement names a device or unit that is not available")
    return chain_plan(ctx, strategy, assignment)


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


# --- thermal foresight -----------------------------------------------------------------------------


def foreseen(
    latency_s: float, heated_s: float, heat: Heat, temp_c: float, rate: float, horizon_s: float
) -> float:
    """A placement's mean latency over the next ``horizon_s`` at ``rate`` frames/s, as it heats the device:
    ``latency_s`` is its latency now (the device at the throttle of ``temp_c``), ``heated_s`` the part of
    it computed on the device, which scales with its throttle and is what heats it."""
    now = heat.factor(temp_c)
    interval = 1.0 / rate
    total, frames, temp = 0.0, max(1, round(horizon_s * rate)), temp_c
    for _ in range(frames):
        f = heat.factor(temp) / now
        total += latency_s + heated_s * (f - 1.0)
        temp = heat.after(temp, heated_s * f / interval, interval)
    return total / frames


def scaled(problem: Problem, device: str, k: float) -> Problem:
    """``problem`` with ``device``'s compute ``k`` times slower."""
    devices = tuple(
        replace(d, state=replace(d.state, throttle=d.state.throttle * k)) if d.id == device else d
        for d in problem.devices
    )
    return replace(problem, devices=devices)


FORESIGHT_THROTTLES = (1.0, 1.25, 1.5, 2.0, 2.5)  # the multi-device DP plans the heated device at these


def foresee(
    problem: Problem,
    device: str,
    heat: Heat,
    temp_c: float,
    rate: float,
    horizon_s: float,
    also: Iterable[Sequence[tuple[str, str, int, int]]] = (),
) -> list[tuple[float, tuple[tuple[str, str, int, int], ...]]]:
    """Every placement ``adaptive`` could choose (each device-edge cut to each edge, local and full offload
    included; the multi-device DP at several throttles of ``device``; and ``also``), each with its mean
    latency over the next ``horizon_s`` as it heats ``device`` (``foreseen``), best first."""
    from .planner import plan

    found: set[tuple[tuple[str, str, int, int], ...]] = {tuple(s) for s in also}
    edges = [d.id for d in problem.devices if d.online and d.id != problem.source]
    for edge in edges:
        for cut in range(len(problem.model.blocks) + 1):
            try:
                found.add(placement(plan(problem, "split", cut=cut, device=edge).to_dict()))
            except PlanningError:
                continue
    for k in FORESIGHT_THROTTLES:
        try:
            found.add(placement(plan(scaled(problem, device, k), "multi-device").to_dict()))
        except PlanningError:
            continue
    hot = scaled(problem, device, 2.0)
    out = []
    for stages in found:
        now = evaluate(problem, stages)
        if math.isfinite(now):
            heated = evaluate(hot, stages) - now
            out.append((foreseen(now, heated, heat, temp_c, rate, horizon_s), stages))
    return sorted(out)
