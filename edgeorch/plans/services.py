"""Plans: storing what the planner reads, turning catalog and fleet rows into a ``planning.Problem``, and
planning what-ifs. Nothing here runs a model; ``make_plan`` and ``cut_sweep`` only predict.

Units at this boundary: bandwidth in bits/s (as agents measure it), RTT in ms in overrides; the planner itself
works in bytes/s and seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from edgeorch import planning
from edgeorch.devices.choices import DeviceStatus
from edgeorch.telemetry.models import TelemetryRecord

from . import conf, timing
from .choices import ProfileSource
from .models import BlockProfile, LinkSample
from .overrides import Overrides, PlanInputError

__all__ = [
    "PlanInputError",
    "build_problem",
    "cut_sweep",
    "device_links",
    "latest_links",
    "latest_profile",
    "make_plan",
    "predictor_report",
    "record_link",
    "record_profile",
]

# --- storage ---------------------------------------------------------------------------------------


def record_profile(
    device,
    model,
    blocks: Sequence[dict],
    thermal: dict | None = None,
    *,
    source: str = ProfileSource.MEASURED,
    measured_at: datetime | None = None,
) -> BlockProfile:
    """Store one profiling run: ``blocks`` as agents report them, ``[{block, median_s, p90_s, runs}]``."""
    n = len(model.blocks)
    median: list[float | None] = [None] * n
    p90: list[float | None] = [None] * n
    for entry in blocks:
        i = int(entry["block"])
        if not 0 <= i < n:
            raise PlanInputError(f"{model} has blocks 0..{n - 1}; a profile names block {i}")
        median[i] = float(entry["median_s"])
        p90[i] = float(entry.get("p90_s", entry["median_s"]))
    return BlockProfile.objects.create(
        device=device,
        model=model,
        measured_at=measured_at or timezone.now(),
        median_s=median,
        p90_s=p90,
        runs=max((int(e.get("runs", 0)) for e in blocks), default=0),
        thermal=dict(thermal or {}),
        source=source,
    )


def latest_profile(device, model) -> BlockProfile | None:
    """The newest profile of ``model`` on ``device``, complete or not."""
    return BlockProfile.objects.filter(device=device, model=model).order_by("-measured_at").first()


def record_link(
    device_from,
    device_to,
    bandwidth_bps: float,
    rtt_s: float,
    *,
    jitter_s: float = 0.0,
    loss: float = 0.0,
    measured_at: datetime | None = None,
) -> LinkSample:
    """Store one link measurement; ``device_to`` None is the link to the control plane."""
    if not bandwidth_bps > 0 or rtt_s < 0 or not 0 <= loss < 1:
        raise PlanInputError("a link needs bandwidth > 0, rtt >= 0 and 0 <= loss < 1")
    return LinkSample.objects.create(
        device_from=device_from,
        device_to=device_to,
        bandwidth_bps=bandwidth_bps,
        rtt_s=rtt_s,
        jitter_s=jitter_s,
        loss=loss,
        measured_at=measured_at or timezone.now(),
    )


def latest_links(devices: Iterable) -> dict[tuple[str, str], LinkSample]:
    """The newest sample of each measured direction between the given devices, keyed (from id, to id)."""
    ids = [d.pk for d in devices]
    rows = LinkSample.objects.filter(device_from__in=ids, device_to__in=ids)
    if connection.vendor == "postgresql":
        # DISTINCT ON: one row per direction, straight off the (from, to, -measured_at) index.
        rows = rows.order_by("device_from_id", "device_to_id", "-measured_at").distinct(
            "device_from_id", "device_to_id"
        )
    else:  # the SQLite demo: a correlated subquery does the same
        newest = LinkSample.objects.filter(
            device_from=OuterRef("device_from"), device_to=OuterRef("device_to")
        ).order_by("-measured_at")
        rows = rows.filter(pk=Subquery(newest.values("pk")[:1]))
    return {(str(s.device_from_id), str(s.device_to_id)): s for s in rows}


def device_links(device) -> list[LinkSample]:
    """The newest sample of each direction from or to ``device``, the control-plane link (``device_to``
    None) included, newest first. The planner does not read the control-plane link: no plan sends work
    through the control plane (a relayed hop is a fallback, not a plan)."""
    rows = LinkSample.objects.filter(Q(device_from=device) | Q(device_to=device)).select_related(
        "device_from", "device_to"
    )
    if connection.vendor == "postgresql":
        # DISTINCT ON counts NULLs as equal: the control-plane direction is one direction.
        rows = rows.order_by("device_from_id", "device_to_id", "-measured_at").distinct(
            "device_from_id", "device_to_id"
        )
        return sorted(rows, key=lambda s: s.measured_at, reverse=True)
    newest: dict[tuple, LinkSample] = {}  # the SQLite demo: a device's few samples, sorted here
    for sample in rows.order_by("-measured_at"):
        newest.setdefault((sample.device_from_id, sample.device_to_id), sample)
    return list(newest.values())


# --- problems --------------------------------------------------------------------------------------


@dataclass
class Assembly:
    """A problem with the account of where its numbers came from (for notes and the page)."""

    problem: planning.Problem
    devices: list[dict[str, Any]]
    links: list[dict[str, Any]]
    notes: list[str]


def build_problem(model, devices, source, *, result=None, overrides=None, deadline=None) -> planning.Problem:
    """The planner's input for ``model`` over ``devices`` (Device rows) from ``source`` to ``result``.

    Block times are sourced as ``timing`` describes; throttle comes from the latest ``cpu.throttle_factor``
    telemetry (or ``overrides.throttle``), queues from ``overrides.queue``; links from the latest
    ``LinkSample`` per pair (or overrides), else 100 Mbit/s and 5 ms, noted as assumed. Devices not online are
    passed as offline, so no plan uses them. ``deadline`` is in seconds.
    """
    return assemble(model, devices, source, result=result, overrides=overrides, deadline=deadline).problem


def assemble(model, devices, source, *, result=None, overrides=None, deadline=None) -> Assembly:
    """``build_problem`` with its account: per device the time source, per link the numbers and source."""
    rows = _unique([source, *([result] if result else []), *devices])
    wanted = Overrides.from_dict(overrides) if not isinstance(overrides, Overrides) else overrides
    unknown = wanted.device_ids() - {str(d.pk) for d in rows}
    if unknown:
        raise PlanInputError(f"overrides name devices not in this plan: {', '.join(sorted(unknown))}")
    sources = _DeviceSources(model)
    planned = [sources.device(d, wanted) for d in rows]
    online = [d for d in rows if d.status == DeviceStatus.ONLINE]
    links, link_info = _links(online, wanted)
    problem = planning.Problem(
        model=planning_model(model),
        devices=tuple(p for p, _ in planned),
        links=tuple(links),
        source=str(source.pk),
        result=str(result.pk) if result else None,
        deadline=deadline,
    )
    info = [i for _, i in planned]
    notes = [_device_note(i) for i in info if i["online"]]
    assumed = [f"{i['a_name']}-{i['b_name']}" for i in link_info if "assumed" in i["source"]]
    if assumed:
        notes.append(
            f"assumed link {conf.DEFAULT_BANDWIDTH_BPS / 1e6:g} Mbit/s, {conf.DEFAULT_RTT_S * 1e3:g} ms "
            f"(never measured): {', '.join(assumed)}"
        )
    return Assembly(problem, info, link_info, notes)


def planning_model(model) -> planning.Model:
    """The catalog model as the planner's chain of blocks; a block is named after the tensor at its cut."""
    cut_names = {c.index: ",".join(t["name"] for t in c.tensors) for c in model.cut_points.all()}
    blocks = tuple(
        planning.Block(
            index=i,
            name=cut_names.get(i, "output"),
            macs=float(b.get("macs") or 0),
            output_bytes=float(b.get("output_bytes") or 0),
            memory=float(b.get("param_bytes") or 0),
            features=timing.block_features(b),
        )
        for i, b in enumerate(model.blocks)
    )
    first = model.blocks[0].get("input_bytes") if model.blocks else 0
    inputs = sum(t.get("bytes") or 0 for t in model.inputs) or first or 0
    outputs = sum(t.get("bytes") or 0 for t in model.outputs) or (blocks[-1].output_bytes if blocks else 0)
    return planning.Model(f"{model.name} v{model.version}", blocks, float(inputs), float(outputs))


class _DeviceSources:
    """Per device of one model: block times (the stored predictor is fitted once, only if needed)."""

    def __init__(self, model) -> None:
        self.model = model
        self._predictor: Any = False

    @property
    def predictor(self) -> planning.LatencyPredictor | None:
        if self._predictor is False:
            self._predictor = timing.stored_predictor()
        return self._predictor

    def device(self, device, wanted: Overrides) -> tuple[planning.Device, dict[str, Any]]:
        key, online = str(device.pk), device.status == DeviceStatus.ONLINE
        info = {
            "id": key,
            "name": device.name,
            "role": device.role,
            "status": device.status,
            "online": online,
        }
        if not online:  # never planned on: its times are not needed
            return planning.Device(id=key, name=device.name, online=False), info
        times = timing.block_times(device, self.model, lambda: self.predictor)
        throttle = wanted.throttle.get(key) or current_throttle(device)
        queue = wanted.queue.get(key, 0)
        state = planning.DeviceState(throttle, queue, sum(times.seconds) * throttle)
        unit = planning.Unit("cpu", times.seconds, timing.device_key(device))
        info.update(times=times.source, detail=times.detail, throttle=throttle, queue=queue)
        return planning.Device(id=key, name=device.name, units=(unit,), state=state), info


def current_throttle(device) -> float:
    """The device's latest reported ``cpu.throttle_factor`` (1.0 when it never reported one)."""
    metrics = (
        TelemetryRecord.objects.filter(device=device, metrics__has_key=timing.THROTTLE_KEY)
        .order_by("-ts")
        .values_list("metrics", flat=True)
        .first()
    )
    return timing.throttle_of(metrics)


def _links(devices: Sequence, wanted: Overrides) -> tuple[list[planning.Link], list[dict[str, Any]]]:
    """One link per direction measured (symmetric when only one is), the defaults where none is."""
    measured = latest_links(devices)
    links, info = [], []
    for i, a in enumerate(devices):
        for b in devices[i + 1 :]:
            ids = (str(a.pk), str(b.pk))
            directions = [k for k in (ids, ids[::-1]) if k in measured] or [ids]
            for x, y in directions:
                link, row = _link(x, y, measured.get((x, y)), wanted.link(x, y))
                links.append(link)
                names = {str(a.pk): a.name, str(b.pk): b.name}
                info.append({**row, "a_name": names[x], "b_name": names[y]})
    return links, info


def _link(a: str, b: str, sample: LinkSample | None, override) -> tuple[planning.Link, dict[str, Any]]:
    bps = override.bandwidth_bps or (sample.bandwidth_bps if sample else conf.DEFAULT_BANDWIDTH_BPS)
    rtt = override.rtt_s if override.rtt_s is not None else (sample.rtt_s if sample else conf.DEFAULT_RTT_S)
    base = "measured" if sample else "assumed"
    overridden = [
        k for k, v in (("bandwidth", override.bandwidth_bps), ("rtt", override.rtt_s)) if v is not None
    ]
    source = "override" if len(overridden) == 2 else base + "".join(f", {k} overridden" for k in overridden)
    loss = sample.loss if sample else 0.0
    link = planning.Link(a, b, bps / 8.0, rtt, sample.jitter_s if sample else 0.0, loss)
    row = {"a": a, "b": b, "bandwidth_bps": bps, "rtt_ms": rtt * 1e3, "loss": loss, "source": source}
    return link, row


def _device_note(info: dict[str, Any]) -> str:
    note = f"{info['name']}: block times {info['times']} ({info['detail']})"
    if info["throttle"] > 1.0:
        note += f", throttled x{info['throttle']:g}"
    if info["queue"]:
        note += f", {info['queue']} requests queued"
    return note


def _unique(devices: Iterable) -> list:
    seen: dict[str, Any] = {}
    for d in devices:
        seen.setdefault(str(d.pk), d)
    return list(seen.values())


# --- planning --------------------------------------------------------------------------------------

PARAM_TYPES: dict[str, Any] = {"cut": int, "k": int, "device": str, "devices": lambda v: [str(d) for d in v]}


def make_plan(
    model,
    devices,
    source,
    strategy: str = "multi-device",
    *,
    result=None,
    overrides=None,
    deadline=None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Plan ``model`` with ``strategy`` and return ``Plan.to_dict()`` plus ``model``, ``devices`` (each with
    its time source, throttle and queue) and ``links`` (with their source); notes say where numbers came from.
    Raises ``PlanInputError`` for bad input and ``planning.PlanningError`` when no plan exists."""
    if strategy not in planning.STRATEGIES:
        raise PlanInputError(f"unknown strategy {strategy!r}; known: {', '.join(planning.STRATEGIES)}")
    kwargs = _coerce(params or {})
    a = assemble(model, devices, source, result=result, overrides=overrides, deadline=deadline)
    out = planning.plan(a.problem, strategy, **kwargs).to_dict()
    out["notes"] = [*out["notes"], *a.notes]
    out.update(model={"id": model.pk, "name": model.name, "version": model.version})
    out.update(devices=a.devices, links=a.links)
    return out


def _coerce(params: dict[str, Any]) -> dict[str, Any]:
    """Strategy parameters as the strategies expect them (JSON gives "3" or 3.0 as readily as 3)."""
    out = {}
    for name, value in params.items():
        convert = PARAM_TYPES.get(name, lambda v: v)
        try:
            if (name == "devices" and not isinstance(value, list)) or isinstance(value, dict):
                raise TypeError
            out[name] = convert(value)
        except (TypeError, ValueError):
            raise PlanInputError(f"strategy parameter {name!r} has a bad value {value!r}") from None
    return out


def cut_sweep(model, source, edge, overrides=None) -> dict[str, Any]:
    """For every cut p = 0..n (p blocks on ``source``, the rest on ``edge``): device compute, transfer
    (input, activation and result), queueing, edge compute and total, from the ``split`` strategy on the same
    problem; ``best`` is the fastest p. What the what-if page draws."""
    if source.pk == edge.pk:
        raise PlanInputError("the edge device must differ from the source device")
    a = assemble(model, [source, edge], source, overrides=overrides)
    n = len(a.problem.model.blocks)
    cuts = [_sweep_row(a.problem, str(source.pk), str(edge.pk), p) for p in range(n + 1)]
    finite = [c for c in cuts if c["latency"] is not None]
    best = min(finite, key=lambda c: c["latency"])["cut"] if finite else None
    return {
        "model": {"id": model.pk, "name": model.name, "version": model.version},
        "source": {"id": str(source.pk), "name": source.name},
        "edge": {"id": str(edge.pk), "name": edge.name},
        "cuts": cuts,
        "best": best,
        "devices": a.devices,
        "links": a.links,
        "notes": a.notes,
    }


_SWEEP_TIMES = ("device_compute", "transfer", "queue", "edge_compute", "latency")


def _sweep_row(problem: planning.Problem, source: str, edge: str, p: int) -> dict[str, Any]:
    n = len(problem.model.blocks)
    label = "offload" if p == 0 else ("local" if p == n else problem.model.blocks[p - 1].name)
    row: dict[str, Any] = {"cut": p, "label": label, "cut_point": p - 1 if 0 < p < n else None}
    try:
        plan = planning.plan(problem, "split", cut=p, device=edge)
    except planning.PlanningError as exc:  # this cut breaks a memory limit: shown as a gap
        return {**row, **dict.fromkeys(_SWEEP_TIMES), "bytes": None, "error": str(exc)}

    def compute_on(device: str) -> float:
        return sum(s.compute for s in plan.stages if s.device == device)

    row.update(
        device_compute=compute_on(source),
        edge_compute=compute_on(edge),
        transfer=plan.input_transfer + sum(s.transfer for s in plan.stages),
        queue=sum(s.queue for s in plan.stages),
        latency=None if math.isinf(plan.latency) else plan.latency,
        bytes=problem.model.input_bytes if p == 0 else problem.model.blocks[p - 1].output_bytes,
        error=None,
    )
    return row


# --- the predictor ---------------------------------------------------------------------------------


def predictor_report(holdout_every: int = 4) -> dict[str, Any]:
    """The regression's mean absolute percentage error on held-out (device, model) pairs: every
    ``holdout_every``-th pair's profiles are left out of the fit and predicted, as for a pair never profiled."""
    profiles = list(BlockProfile.objects.select_related("model", "device").order_by("pk"))
    pairs = sorted({(str(p.device_id), p.model_id) for p in profiles})
    held = {pair for i, pair in enumerate(pairs) if i % holdout_every == holdout_every - 1}
    if not held and len(pairs) >= 2:
        held = {pairs[-1]}
    test = timing.profile_rows(p for p in profiles if (str(p.device_id), p.model_id) in held)
    train = timing.profile_rows(p for p in profiles if (str(p.device_id), p.model_id) not in held)
    report: dict[str, Any] = {
        "profiles": len(profiles),
        "pairs": len(pairs),
        "held_out_pairs": len(held),
        "train_samples": len(train),
        "test_samples": 0,
        "mape": None,
        "device_classes": [],
    }
    if not held:
        report["detail"] = "Too few profiles: at least two profiled (device, model) pairs are needed."
        return report
    try:
        predictor = planning.LatencyPredictor().fit(train)
    except planning.PlanningError as exc:
        report["detail"] = f"Too few profiles to fit the regression ({exc}); profile more devices and models."
        return report
    known = [r for r in test if r.device_key in predictor.weights or r.device_key in predictor.speed]
    report["device_classes"] = sorted(predictor.weights) + sorted(predictor.speed)
    if not known:
        report["detail"] = (
            "No held-out profile is of a device class the regression knows; profile more pairs."
        )
        return report
    errors = [abs(predictor.predict(r.device_key, r.features) - r.seconds) / r.seconds for r in known]
    report.update(test_samples=len(known), mape=sum(errors) / len(errors))
    report["detail"] = f"MAPE {report['mape']:.1%} over {len(known)} held-out block timings."
    return report
