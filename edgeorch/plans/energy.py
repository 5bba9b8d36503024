"""A run's energy: the source device's joules per request — measured, estimated and predicted.

* measured: where the source reports power (``power.rapl.*``, ``power.ina3221.*``: ``device_watts``), its
  mean power over the telemetry samples covering the run, times the run's seconds (its requests' first start
  to last end), per request. It is what the battery gave for each request at the run's pace, the waits
  between a stream's frames included.
* estimated (``emulated_j``): a request's traced compute seconds on the source and its measured latency
  priced by the source's profile power model (``planning.energy``'s formula, ``idle_w x latency + (busy_w -
  idle_w) x compute``) plus the plan's predicted radio joules (the radio is not traced). On an emulated
  device, what the emulated device's battery would give.
* predicted: the plan's ``energy.total``.

``joules`` is the first of these there is, ``basis`` says which. An emulated device's ``power.watts`` is its
thermal model's, not a meter's: its runs are estimated. docs/energy.md, "On runs".
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from edgeorch.telemetry.models import TelemetryRecord

from .assembly import device_power
from .power import device_watts

HOW_ESTIMATED = (
    "estimated: traced compute and latency x the source's profile power model, plus the planned radio"
)
HOW_MEASURED = "measured: the source's mean {meter} while it ran x the run's seconds, per request"
MAX_SAMPLES = 2000  # power samples read per run (a long session at a fast telemetry rate: the latest)


def run_energy(plan: dict | None, trace: list | None, latency_s: float | None, source) -> dict[str, Any]:
    """The energy of one request of a run from ``source`` (a Device row): see ``mean_energy``."""
    return mean_energy(plan, [] if latency_s is None else [(trace, latency_s)], source)


def mean_energy(plan: dict | None, requests: Iterable[tuple[list | None, float]], source) -> dict[str, Any]:
    """``{joules, basis, predicted_j, emulated_j, measured_j, measured_w, meter, how}`` per request over
    (trace, latency_s) requests of a run (the profile read once, the power telemetry in one query)."""
    requests = list(requests)
    planned = (plan or {}).get("energy") or {}
    power = device_power(source)
    radio = float(planned.get("radio") or 0.0)
    joules: list[float] = []
    for trace, latency in requests:
        if power is None:
            break
        compute = sum(
            float(t.get("compute_s") or 0.0)
            for t in trace or []
            if isinstance(t, dict) and str(t.get("device")) == str(source.pk)
        )
        joules.append(power.idle_w * latency + (power.busy_w - power.idle_w) * min(compute, latency) + radio)
    emulated = sum(joules) / len(joules) if joules else None
    out: dict[str, Any] = {
        "predicted_j": planned.get("total"),
        "emulated_j": emulated,
        "measured_j": None,
        "measured_w": None,
        "meter": None,
    }
    window = _window([t for t, _ in requests])
    measured = measured_power(source, *window) if window else None
    if measured is not None and window is not None:
        watts, meter = measured
        out.update(measured_j=watts * (window[1] - window[0]) / len(requests), measured_w=watts, meter=meter)
        return {
            **out,
            "joules": out["measured_j"],
            "basis": "measured",
            "how": HOW_MEASURED.format(meter=meter),
        }
    if emulated is not None:
        return {**out, "joules": emulated, "basis": "estimated", "how": HOW_ESTIMATED}
    predicted = out["predicted_j"]
    return {
        **out,
        "joules": predicted,
        "basis": None if predicted is None else "predicted",
        "how": HOW_ESTIMATED,
    }


def _window(traces: Iterable[list | None]) -> tuple[float, float] | None:
    """(first start, last end) over the requests' traces (epoch seconds), None when they do not say."""
    starts, ends = [], []
    for trace in traces:
        for entry in trace or []:
            if isinstance(entry, dict):
                if isinstance(entry.get("start"), int | float):
                    starts.append(float(entry["start"]))
                if isinstance(entry.get("end"), int | float):
                    ends.append(float(entry["end"]))
    if not starts or not ends or max(ends) <= min(starts):
        return None
    return min(starts), max(ends)


def measured_power(device, start: float, end: float) -> tuple[float, str] | None:
    """The device's mean measured watts over the telemetry samples covering ``start``..``end`` (a sample's
    power is the mean over the interval before it, so the window reaches one interval past the end), and
    the meter read; None where it reports no power."""
    interval = float(settings.TELEMETRY_INTERVAL_S)
    rows = (
        TelemetryRecord.objects.filter(
            device=device, ts__gt=_aware(start), ts__lte=_aware(end + interval + 1.0)
        )
        .order_by("-ts")
        .values_list("metrics", flat=True)[:MAX_SAMPLES]
    )
    readings = [w for w in map(device_watts, rows) if w is not None]
    if not readings:
        return None
    meters = sorted({m for _, m in readings})
    return statistics.fmean(w for w, _ in readings), ", ".join(meters)


def _aware(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
