"""Assembling the planner's problem: catalog and fleet rows, with the measurements, become a
``planning.Problem`` and an account of where its numbers came from.

Verbs: ``assemble`` (the problem and its account), ``build_problem`` (the problem alone), ``planning_model``,
``current_throttle``. Units at this boundary: bandwidth in bits/s (as agents measure it), RTT in ms in
overrides; the planner itself works in bytes/s and seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from edgeorch_wire.profiles import ProfileError, load_profile

from edgeorch import planning
from edgeorch.devices.choices import DeviceStatus
from edgeorch.telemetry.models import TelemetryRecord

from . import conf, timing
from .measurements import latest_links
from .models import LinkSample
from .overrides import Overrides, PlanInputError
from .power import calibrated


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
        radio_wakeup=wanted.radio_wakeup,
    )
    info = [i for _, i in planned]
    notes = [_device_note(i) for i in info if i["online"]]
    notes += [f"{name}: {note}" for name, note in sources.power_notes.items()]
    assumed = [f"{i['a_name']}-{i['b_name']}" for i in link_info if "assumed" in i["source"]]
    if assumed:
        notes.append(
            f"assumed link {conf.DEFAULT_BANDWIDTH_BPS / 1e6:g} Mbit/s, {conf.DEFAULT_RTT_S * 1e3:g} ms "
            f"(never measured): {', '.join(assumed)}"
        )
    return Assembly(problem, info, link_info, notes)


def planning_model(model) -> planning.Model:
    """The catalog model as the planner's chain of blocks; a block is named after the tensor at its cut, and
    carries the cut's ``fusion_penalty`` (what splitting there costs in compute: catalog.fusion)."""
    cuts = {c.index: c for c in model.cut_points.all()}
    cut_names = {i: ",".join(t["name"] for t in c.tensors) for i, c in cuts.items()}
    blocks = tuple(
        planning.Block(
            index=i,
            name=cut_names.get(i, "output"),
            macs=float(b.get("macs") or 0),
            output_bytes=float(b.get("output_bytes") or 0),
            memory=float(b.get("param_bytes") or 0),
            features=timing.block_features(b),
            cut_penalty=cuts[i].fusion_penalty if i in cuts else 0.0,
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
        self.power_notes: dict[str, str] = {}  # device name -> how its power model was calibrated

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
        power, note = calibrated(device, profile_power(device))
        if note is not None:
            self.power_notes[device.name] = note
        info.update(times=times.source, detail=times.detail, throttle=throttle, queue=queue)
        info["power"] = None if power is None else {"idle_w": power.idle_w, "busy_w": power.busy_w}
        planned = planning.Device(id=key, name=device.name, units=(unit,), state=state, power=power)
        return planned, info


def device_profile(device):
    """The device's profile (``edgeorch_wire.profiles``), or None when it has none or an unknown one."""
    try:
        return load_profile(device.profile) if device.profile else None
    except ProfileError:
        return None


def profile_power(device) -> planning.Power | None:
    """The power model of the device's profile (None: no profile, or one without power, e.g. host)."""
    profile = device_profile(device)
    power = profile.power if profile is not None else None
    return None if power is None else planning.Power(power.idle_w, power.busy_w)


def device_power(device) -> planning.Power | None:
    """The device's power model: its profile's, calibrated from its power meter where it has one
    (``power.calibrated``); None when it has neither."""
    return calibrated(device, profile_power(device))[0]


def assumed_radio(a, b) -> str:
    """A link's type when no override gives it: Wi-Fi where an end device (or one of unknown class) takes
    part, Ethernet between edge devices."""
    classes = {getattr(device_profile(d), "device_class", "end") for d in (a, b)}
    return "ethernet" if classes == {"edge"} else "wifi"


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
            kind = assumed_radio(a, b)
            for x, y in directions:
                link, row = _link(x, y, measured.get((x, y)), wanted.link(x, y), kind)
                links.append(link)
                names = {str(a.pk): a.name, str(b.pk): b.name}
                info.append({**row, "a_name": names[x], "b_name": names[y]})
    return links, info


def _link(
    a: str, b: str, sample: LinkSample | None, override, kind: str
) -> tuple[planning.Link, dict[str, Any]]:
    bps = override.bandwidth_bps or (sample.bandwidth_bps if sample else conf.DEFAULT_BANDWIDTH_BPS)
    rtt = override.rtt_s if override.rtt_s is not None else (sample.rtt_s if sample else conf.DEFAULT_RTT_S)
    base = "measured" if sample else "assumed"
    overridden = [
        k for k, v in (("bandwidth", override.bandwidth_bps), ("rtt", override.rtt_s)) if v is not None
    ]
    source = "override" if len(overridden) == 2 else base + "".join(f", {k} overridden" for k in overridden)
    loss = sample.loss if sample else 0.0
    radio = override.radio or kind
    link = planning.Link(a, b, bps / 8.0, rtt, sample.jitter_s if sample else 0.0, loss, radio)
    row = {"a": a, "b": b, "bandwidth_bps": bps, "rtt_ms": rtt * 1e3, "loss": loss, "source": source}
    row["radio"] = radio
    row["radio_source"] = "override" if override.radio else "assumed"
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
