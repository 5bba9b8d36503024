"""Power meters: a device's watts from its ``power.*`` telemetry (``device_watts``), and its profile's power
model calibrated from them (``calibrated``), as block times are calibrated from traces (docs/energy.md).

Calibration reads only a meter of the whole device — a Jetson's INA3221 board input rail, RAPL's ``psys`` —
never a sum of rails or zones (the processor's share, which would scale the whole device's model down). With
the profile's model, it scales it: ``idle_w`` and ``busy_w`` times the median over recent samples of the
measured watts over what the model gives at that sample's ``cpu.percent``. Without one (a device with a meter
but a profile without ``power``, e.g. ``host``), it fits ``idle_w + (busy_w - idle_w) x utilisation`` to the
samples by least squares, where they span enough of the load to tell idle from busy.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from edgeorch import planning
from edgeorch.telemetry.models import TelemetryRecord

SAMPLES = 30  # the latest telemetry records read
MIN_SAMPLES = 5  # ... of which at least this many must have a whole-device meter and cpu.percent
MIN_SPREAD = 0.3  # a fit without the profile's model needs the load to span this much of 0..1
SCALE = (0.25, 4.0)  # the factor's bounds: beyond them a meter is more likely wrong than the profile


def device_watts(metrics: Mapping[str, Any] | None) -> tuple[float, str] | None:
    """The device's power in one telemetry sample, and the meter it comes from: a Jetson's INA3221 board
    input rail (``*_IN``), else the sum of its rails (the module's, not the whole board); else RAPL's
    ``psys`` (the platform), else the sum of its top-level zones (packages and DRAM: the processor, not the
    whole machine; subzones lie inside them). None where the sample has no meter reading."""
    if not isinstance(metrics, Mapping):
        return None
    ina = {k: float(v) for k, v in metrics.items() if k.startswith("power.ina3221.")}
    board = sorted(k for k in ina if k.removesuffix("_w").lower().endswith("_in"))
    if board:
        return ina[board[0]], board[0]
    if ina:
        return sum(ina.values()), "sum of power.ina3221.* rails"
    rapl = {k: float(v) for k, v in metrics.items() if k.startswith("power.rapl.")}
    if "power.rapl.psys_w" in rapl:
        return rapl["power.rapl.psys_w"], "power.rapl.psys_w"
    top = [v for k, v in rapl.items() if "." not in k.removeprefix("power.rapl.").removesuffix("_w")]
    return (sum(top), "sum of power.rapl.* zones") if top else None


def whole_device(meter: str) -> bool:
    return not meter.startswith("sum of")


def calibrated(device, model: planning.Power | None) -> tuple[planning.Power | None, str | None]:
    """``model`` (the profile's) calibrated from the device's recent whole-device meter readings, and a note
    saying how; ``model`` and None where it has too few."""
    rows = TelemetryRecord.objects.filter(device=device).order_by("-ts").values_list("metrics", flat=True)
    samples, meters = [], set()
    for metrics in rows[:SAMPLES]:
        reading = device_watts(metrics)
        load = metrics.get("cpu.percent") if isinstance(metrics, Mapping) else None
        if reading is not None and whole_device(reading[1]) and isinstance(load, int | float):
            samples.append((reading[0], min(max(float(load) / 100.0, 0.0), 1.0)))
            meters.add(reading[1])
    if len(samples) < MIN_SAMPLES:
        return model, None
    meter = ", ".join(sorted(meters))
    if model is not None:
        span = model.busy_w - model.idle_w
        factor = statistics.median(w / (model.idle_w + span * u) for w, u in samples)
        factor = min(max(factor, SCALE[0]), SCALE[1])
        power = planning.Power(model.idle_w * factor, model.busy_w * factor)
        return power, f"power model x{factor:.2f} from {meter} ({len(samples)} samples)"
    return _fit(samples, meter)


def _fit(samples: list[tuple[float, float]], meter: str) -> tuple[planning.Power | None, str | None]:
    loads = [u for _, u in samples]
    if max(loads) - min(loads) < MIN_SPREAD:
        return None, None
    slope, intercept = statistics.linear_regression(loads, [w for w, _ in samples])
    if intercept <= 0 or slope < 0:
        return None, None
    note = f"power model fitted to {meter} ({len(samples)} samples): {intercept:.3g} W idle"
    return planning.Power(intercept, intercept + slope), note
