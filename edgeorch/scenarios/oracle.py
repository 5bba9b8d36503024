"""The oracle (the best plan in hindsight per time window) and the report's numbers.

For each window of ``window_s`` seconds the conditions are what the run recorded: every link's configured
bandwidth and RTT at the window's middle (the same traces the agents replay), and every device's slowdown —
its reported ``cpu.throttle_factor`` (the lowest any strategy's run saw in that window: the most favourable,
so the bound stays a lower bound) times 1 / (1 - background share). Under those conditions the planner
evaluates every placement the strategies could choose (``adaptive``'s one-shot plan is the best of every
device-edge cut over every edge — local and full offload included — and the multi-device DP over all
devices, which covers the edge-edge pipelines) from the devices' measured block profiles.

That prediction is calibrated with what was measured: the oracle of a window is the lower of the best
predicted latency and the best mean latency any strategy actually achieved in that window with the
scenario's model (frames a variant answered, a qoe-bandit's, are left out: the oracle is the base
model's). So no strategy's window mean can sit below the oracle because of a modelling error, and a
strategy's ratio to the oracle (its mean latency over the oracle's mean over the same frames) is >= 1 up
to noise within a window.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from edgeorch_wire.profiles import Power, ThermalParams
from edgeorch_wire.thermal import Heat

from .spec import Scenario


def window_of(t: float, window_s: float) -> int:
    return int(t // window_s)


def windows(scenario: Scenario) -> list[int]:
    return list(range(max(1, math.ceil(scenario.duration_s / scenario.window_s))))


def link_conditions(scenario: Scenario, w: int) -> dict[tuple[str, str], tuple[float, float]]:
    """(bandwidth bits/s, rtt s) of every configured link at the middle of window ``w``."""
    t = (w + 0.5) * scenario.window_s
    return {(x.a, x.b): (x.value("bandwidth_bps", t), x.value("rtt_s", t)) for x in scenario.links}


def shares(scenario: Scenario, w: int) -> dict[str, float]:
    t = (w + 0.5) * scenario.window_s
    out: dict[str, float] = defaultdict(float)
    for bg in scenario.background:
        if bg.share is not None:
            out[bg.device] += bg.share_at(t)
    return dict(out)


def throttles(
    telemetry_by_run: Iterable[Mapping[str, Sequence[tuple[float, Mapping[str, Any]]]]],
    w: int,
    window_s: float,
) -> dict[str, float]:
    """Per device, the lowest mean ``cpu.throttle_factor`` any run reported within window ``w``."""
    best: dict[str, float] = {}
    for telemetry in telemetry_by_run:
        for device, rows in telemetry.items():
            values = [
                float(m["cpu.throttle_factor"])
                for t, m in rows
                if window_of(t, window_s) == w and "cpu.throttle_factor" in m
            ]
            if values:
                mean = statistics.fmean(values)
                best[device] = min(best.get(device, mean), mean)
    return best


def slowdowns(throttle: Mapping[str, float], share: Mapping[str, float]) -> dict[str, float]:
    names = set(throttle) | set(share)
    return {n: max(1.0, throttle.get(n, 1.0)) / (1.0 - min(share.get(n, 0.0), 0.95)) for n in names}


def measured_means(
    frames: Sequence[Mapping[str, Any]], window_s: float, model: str | None = None
) -> dict[int, float]:
    """Per window, the mean latency of the answered frames; with ``model``, of those that model answered
    (a frame without a ``model`` counts as the model's): the oracle is the best plan of the scenario's
    model, and a variant's answers (a qoe-bandit's smaller model) are no measure of it."""
    groups: dict[int, list[float]] = defaultdict(list)
    for f in frames:
        if f["ok"] and (model is None or f.get("model", model) == model):
            groups[window_of(f["t"], window_s)].append(f["latency_s"])
    return {w: statistics.fmean(v) for w, v in groups.items()}


def calibrate(
    predicted: Mapping[int, float], measured_by_strategy: Iterable[Mapping[int, float]]
) -> dict[int, float]:
    """Per window, the lower of the best predicted latency and the best measured window mean."""
    out = dict(predicted)
    for measured in measured_by_strategy:
        for w, value in measured.items():
            out[w] = min(out.get(w, math.inf), value)
    return out


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarise(
    frames: Sequence[Mapping[str, Any]],
    *,
    frames_expected: int,
    window_s: float,
    oracle: Mapping[int, float],
    deadline_s: float | None = None,
    predicted: Sequence[tuple[int, float]] = (),
    switches: int = 0,
    steady_from_s: float = 0.0,
) -> dict[str, Any]:
    """One strategy's row: latency percentiles, throughput, misses, switches, ratio to the oracle, MAPE."""
    ok = [f for f in frames if f["ok"]]
    lat = [f["latency_s"] for f in ok]
    ids = [f["request_id"] for f in frames]
    span = (max(f["t"] + f["latency_s"] for f in ok) - min(f["t"] for f in ok)) if ok else 0.0
    misses = sum(1 for f in frames if not f["ok"] or (deadline_s is not None and f["latency_s"] > deadline_s))
    misses += max(0, frames_expected - len(set(ids)))
    bound = [oracle.get(window_of(f["t"], window_s)) for f in ok]
    paired = [(f["latency_s"], b) for f, b in zip(ok, bound, strict=True) if b]
    ratio = (
        statistics.fmean(x for x, _ in paired) / statistics.fmean(b for _, b in paired) if paired else None
    )
    return {
        "frames": len(frames),
        "frames_ok": len(ok),
        "missing": max(0, frames_expected - len(set(ids))),
        "duplicates": len(ids) - len(set(ids)),
        "mean_s": statistics.fmean(lat) if lat else None,
        "p50_s": percentile(lat, 0.5),
        "p95_s": percentile(lat, 0.95),
        "p99_s": percentile(lat, 0.99),
        "throughput_fps": len(ok) / span if span > 0 else None,
        "deadline_misses": misses,
        "switches": switches,
        "oracle_ratio": ratio,
        "mape": mape(ok, predicted, steady_from_s),
    }


def mape(
    frames: Sequence[Mapping[str, Any]], predicted: Sequence[tuple[int, float]], steady_from_s: float
) -> float | None:
    """Mean absolute percentage error of the prediction of the plan in force, over steady-state frames."""
    if not predicted:
        return None
    errors = []
    for f in frames:
        if f["t"] < steady_from_s or f["latency_s"] <= 0:
            continue
        in_force = [v for start, v in predicted if start <= f["request_id"]]
        if in_force and in_force[-1]:
            errors.append(abs(in_force[-1] - f["latency_s"]) / f["latency_s"])
    return statistics.fmean(errors) if errors else None


def oracle_row(oracle: Mapping[int, float], frames_per_window: Mapping[int, int]) -> dict[str, Any]:
    values = [oracle[w] for w, n in sorted(frames_per_window.items()) for _ in range(n) if w in oracle]
    return {
        "mean_s": statistics.fmean(values) if values else None,
        "p50_s": percentile(values, 0.5),
        "p95_s": percentile(values, 0.95),
        "p99_s": percentile(values, 0.99),
        "oracle_ratio": 1.0,
    }


# --- the thermal bound -----------------------------------------------------------------------------
#
# A device that heats when it computes cannot stay cool while the plan computes on it: its throttle is a
# consequence of the plan, not a condition. For such a device (the "heated" one) the oracle simulates its RC
# thermal model (``edgeorch_wire.thermal.Heat``, the one the agents emulate) under every sequence of
# placements, chosen per frame, with a dynamic program over (frame, temperature). Every approximation errs
# cool, so the result stays a lower bound on what any plan sequence achieves under the cost model:
#   - a placement may change at every frame, at no cost;
#   - the device starts at the coolest temperature any run started at, the heat of a frame is its
#     compute at the lowest measured/profiled ratio any run showed there (``heat_scale``), and frames
#     overlapping in time are not queued;
#   - temperatures are rounded down to a grid (latency and the next temperature both rise with the
#     temperature, so rounding down can only lower the optimum).


@dataclass(frozen=True)
class Option:
    """A placement for one frame: its latency with the heated device unthrottled, and the part of it that
    is compute on the heated device (stretched by its throttle; background share waits included)."""

    latency_s: float
    heated_s: float
    label: str = ""


def thermal_path(
    options: Sequence[Sequence[Option]],
    *,
    interval_s: float,
    params: ThermalParams,
    power: Power,
    start_c: float,
    share: Sequence[float] = (),
    heat_scale: float = 1.0,
    grid_c: float = 0.05,
) -> list[tuple[Option, float]]:
    """Per frame (one every ``interval_s``) the option, and its latency, along the sequence with the least
    total latency under the thermal model. ``options[k]`` are frame k's placements (at least one);
    ``share[k]`` is the background share of the heated device then (its tenant heats it too)."""
    if any(not o for o in options):
        raise ValueError("every frame needs at least one option")
    heat = Heat.of(params, power)
    low = min(start_c, heat.idle_c)
    high = max(start_c, heat.steady_c(1.0))
    temps = low + grid_c * np.arange(int(math.ceil((high - low) / grid_c)) + 1)
    factor = heat.factor(temps)
    shares = [min(share[k], 0.99) if k < len(share) else 0.0 for k in range(len(options))]

    def step(o: Option, s: float, temp: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(latency, index of the next temperature, rounded down) of option ``o`` from ``temp``."""
        u = np.minimum(1.0, o.heated_s * (1.0 - s) * heat_scale * f / interval_s + s)
        after = heat.after(temp, u, interval_s)
        index = np.clip(np.floor((after - low) / grid_c + 1e-9).astype(int), 0, len(temps) - 1)
        return o.latency_s + o.heated_s * (f - 1.0), index

    value = np.zeros_like(temps)
    choices: list[np.ndarray] = []
    for k in range(len(options) - 1, -1, -1):
        best, arg = np.full_like(temps, math.inf), np.zeros(len(temps), dtype=int)
        for j, o in enumerate(options[k]):
            latency, index = step(o, shares[k], temps, factor)
            total = latency + value[index]
            better = total < best
            best, arg = np.where(better, total, best), np.where(better, j, arg)
        value = best
        choices.append(arg)
    choices.reverse()
    out = []
    i = int(np.clip(math.floor((start_c - low) / grid_c + 1e-9), 0, len(temps) - 1))
    for k, arg in enumerate(choices):
        o = options[k][int(arg[i])]
        latency, index = step(o, shares[k], temps[i : i + 1], factor[i : i + 1])
        out.append((o, float(latency[0])))
        i = int(index[0])
    return out
