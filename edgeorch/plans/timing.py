"""Where a device's per-block seconds come from, best first (``TimeSource``):

1. *measured*: the device's latest complete ``BlockProfile`` of this model;
2. *predicted*: the Neurosurgeon regression (``planning.LatencyPredictor``: per op type, linear in MACs and
   bytes, per device class) fitted on every stored profile, for a device/model pair never profiled;
3. *estimated*: block MACs over an effective MAC rate — the device's own measured MAC/s over its profiles of
   other models, else ``EDGEORCH_DEFAULT_GMACS`` divided by the relative speed of the device's class
   (its profile, e.g. a Raspberry Pi 4 is 6x slower than the host) as a prior until it is measured.

Profiles measured while the device was throttled are divided by the throttle factor of the time, so every
time here is at full clock; the planner multiplies by the current factor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from edgeorch_wire.profiles import ProfileError, load_profile

from edgeorch.planning import LatencyPredictor, OpFeatures, PlanningError, Profile

from . import conf
from .choices import TimeSource
from .models import BlockProfile

# Catalog op categories (catalog.graph.OP_CATEGORIES) -> the planner's op types.
OP_TYPE_OF = {"conv": "conv", "fc": "gemm", "act": "elementwise", "norm": "elementwise", "pool": "pool"}
THROTTLE_KEY = "cpu.throttle_factor"


@dataclass(frozen=True)
class BlockTimes:
    """One device's full-speed per-block seconds for one model, and how they were obtained."""

    seconds: tuple[float, ...]
    source: str
    detail: str


def block_features(block: dict) -> dict[str, OpFeatures]:
    """Op-type features of a catalog block. The catalog records bytes per block, not per operator, so a
    block's input and output bytes are shared among its op types in proportion to their operator counts."""
    counts = block.get("op_counts") or {}
    total = sum(counts.values()) or 1
    sums: dict[str, list[float]] = {}
    for category in set(counts) | set(block.get("macs_by_category") or {}):
        share = counts.get(category, 0) / total
        row = sums.setdefault(OP_TYPE_OF.get(category, "other"), [0.0, 0.0, 0.0])
        row[0] += float((block.get("macs_by_category") or {}).get(category, 0))
        row[1] += share * float(block.get("input_bytes") or 0)
        row[2] += share * float(block.get("output_bytes") or 0)
    return {op: OpFeatures(*row) for op, row in sums.items()}


def device_key(device) -> str:
    """The device class the regression is fitted per: its profile name, else the device itself."""
    return device.profile or f"device:{device.pk}"


def throttle_of(thermal: dict | None) -> float:
    """The throttle factor in a thermal snapshot (>= 1.0; 1.0 when not reported)."""
    try:
        return max(1.0, float((thermal or {}).get(THROTTLE_KEY, 1.0)))
    except (TypeError, ValueError):
        return 1.0


def full_speed(profile: BlockProfile) -> list[float | None]:
    factor = throttle_of(profile.thermal)
    return [None if t is None else float(t) / factor for t in profile.median_s]


def profile_rows(profiles: Iterable[BlockProfile]) -> list[Profile]:
    """One predictor sample per timed block of each profile (its model's blocks give the features)."""
    rows = []
    for p in profiles:
        blocks = p.model.blocks
        for i, seconds in enumerate(full_speed(p)):
            if seconds and i < len(blocks):
                rows.append(Profile(device_key(p.device), block_features(blocks[i]), seconds))
    return rows


_fitted: dict[tuple, LatencyPredictor | None] = {}


def stored_predictor() -> LatencyPredictor | None:
    """The regression fitted on every stored profile (refitted when profiles are added or removed), or None
    when no device class has enough samples for one."""
    key = (
        BlockProfile.objects.count(),
        BlockProfile.objects.order_by("-pk").values_list("pk", flat=True).first(),
    )
    if key not in _fitted:
        _fitted.clear()
        profiles = BlockProfile.objects.select_related("model", "device")
        try:
            _fitted[key] = LatencyPredictor().fit(profile_rows(profiles))
        except PlanningError:
            _fitted[key] = None
    return _fitted[key]


def measured_rate(device) -> float | None:
    """The device's effective MAC/s over all its complete profiles, or None when it has none."""
    macs = seconds = 0.0
    for p in BlockProfile.objects.filter(device=device).select_related("model"):
        for block, t in zip(p.model.blocks, full_speed(p), strict=False):
            if t:
                macs += float(block.get("macs") or 0)
                seconds += t
    return macs / seconds if macs > 0 and seconds > 0 else None


def block_times(device, model, predictor: Callable[[], LatencyPredictor | None]) -> BlockTimes:
    """The best available full-speed per-block seconds of ``model`` on ``device`` (see the module doc).

    ``predictor`` gives the fitted regression; it is called only when the device has no profile of its own."""
    profile = latest_complete(device, model)
    if profile is not None:
        return BlockTimes(
            tuple(t or 0.0 for t in full_speed(profile)),
            TimeSource.MEASURED,
            f"profiled {profile.measured_at:%Y-%m-%d %H:%M} UTC ({profile.source})",
        )
    key, fitted = device_key(device), predictor()
    if fitted is not None and (key in fitted.weights or key in fitted.speed):
        features = [block_features(b) for b in model.blocks]
        how = "regression" if key in fitted.weights else "speed-scaled regression"
        return BlockTimes(
            tuple(fitted.predict(key, f) for f in features), TimeSource.PREDICTED, f"{how} for {key}"
        )
    rate = measured_rate(device)
    detail = f"{rate / 1e9:.2f} GMAC/s measured on other models" if rate else ""
    if rate is None:
        speed = class_speed(device.profile)
        rate = conf.DEFAULT_GMACS * 1e9 / speed
        detail = f"default {conf.DEFAULT_GMACS:g} GMAC/s (EDGEORCH_DEFAULT_GMACS)"
        if speed != 1.0:
            detail += f" / {speed:g}, the relative speed of its device class {device.profile!r}"
    times = tuple(float(b.get("macs") or 0) / rate for b in model.blocks)
    return BlockTimes(times, TimeSource.ESTIMATED, detail)


def class_speed(profile: str) -> float:
    """The time multiplier of a known device class (``edgeorch_wire.profiles``; 1.0 for none or unknown).

    Only a prior for a device never measured: one profile run replaces it with real block times.
    """
    if not profile or "/" in profile or profile.endswith(".json"):
        return 1.0  # a path, not a class name: the control plane does not read agents' files
    try:
        return float(load_profile(profile).speed)
    except (ProfileError, OSError):
        return 1.0


def latest_complete(device, model) -> BlockProfile | None:
    """The newest profile of ``model`` on ``device`` that timed every block."""
    n = len(model.blocks)
    for profile in BlockProfile.objects.filter(device=device, model=model).order_by("-measured_at")[:20]:
        if len(profile.median_s) == n and profile.complete:
            return profile
    return None
