"""Profiling and probing: ask an agent to time a model's blocks or measure its links, and store the answer
where the planner reads it. Verbs: ``request_profile``, ``record_profile_progress``, ``record_profile``,
``profiles_under_way``, ``probe_links``, ``probe_fleet``, ``record_probe``, ``control_plane_url``.

A pending profile keeps how far its agent has got in ``result`` (``{done, total}``), and every change is
pushed to the dashboards as a ``profile.progress`` event (``progress_event``), its last with the final state.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from edgeorch_wire import protocol as p

from edgeorch import events as dashboard
from edgeorch.catalog import services as catalog
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device
from edgeorch.gateway.registry import Refusal
from edgeorch.plans import measurements as plan_measurements

from .. import agents
from ..choices import MeasurementState
from ..models import Measurement
from .submit import SubmitError


def request_profile(device, model, *, warmup: int = 2, repeats: int = 10, base_url: str = "") -> Measurement:
    """Ask the device's agent to time every block of ``model``; the answer is stored by ``record_profile``."""
    if device.status != DeviceStatus.ONLINE or not device.channel_name:
        raise SubmitError(f"{device.name} is not connected")
    n = model.cut_points.count()
    segments = catalog.get_segments(model, list(range(n)))
    base = (base_url or settings.PUBLIC_URL).rstrip("/")
    blocks = [
        {
            "block": s.index,
            "url": base + reverse("catalog-segment-file", args=[s.sha256]),
            "sha256": s.sha256,
            "inputs": s.inputs,
            "outputs": s.outputs,
        }
        for s in segments
    ]
    with transaction.atomic():
        measurement = Measurement.objects.create(
            kind=Measurement.PROFILE, device=device, model=model, result={"done": 0, "total": len(blocks)}
        )
        threads = settings.JOB_AGENT_THREADS or None  # as the deployments' stages will run
        agents.send_on_commit(device, p.Profile(str(measurement.pk), blocks, warmup, repeats, threads))
    return measurement


def record_profile_progress(device_id, message: p.ProfileProgress) -> Measurement | None:
    """Keep how far the device's pending profile has got, and push it live. ``Refusal`` (stored nothing)
    when it contradicts the profile asked for: another block count, or fewer blocks done than it said."""
    with transaction.atomic():
        m = _pending_profile(device_id, message.profile_id)
        if m is None:
            return None  # answered already: a late progress message changes nothing
        total, done = m.result.get("total"), m.result.get("done", 0)
        if total is not None and message.total != total:
            raise Refusal(
                "bad_value", f"profile_progress: total is {message.total}, but the profile has {total} blocks"
            )
        if message.done < done:
            raise Refusal("bad_value", f"profile_progress: done went back from {done} to {message.done}")
        m.result = {"done": message.done, "total": message.total}
        m.save(update_fields=["result"])
    dashboard.publish("profile.progress", progress_event(m))
    return m


def _pending_profile(device_id, profile_id: str) -> Measurement | None:
    m = (
        Measurement.objects.select_for_update(of=("self",))
        .select_related("device", "model")
        .filter(pk=profile_id, kind=Measurement.PROFILE)
        .first()
    )
    if m is None or m.state != MeasurementState.PENDING or str(m.device_id) != str(device_id):
        return None
    return m


def progress_event(m: Measurement) -> dict:
    """A profile as the dashboards show it: whose, of what, how far (``done`` of ``total`` blocks), and its
    state (pending until the agent's answer, then done or failed)."""
    blocks = m.result.get("blocks")
    total = len(blocks) if blocks is not None else m.result.get("total")
    return {
        "measurement": str(m.pk),
        "device": str(m.device_id),
        "device_name": m.device.name,
        "model": m.model_id,
        "model_name": str(m.model) if m.model_id else "",
        "state": str(m.state),
        "done": total if m.state == MeasurementState.DONE else m.result.get("done", 0),
        "total": total,
        "error": m.error,
    }


def profiles_under_way(device_id=None) -> list[dict]:
    """The pending profiles of online devices (of one device, with ``device_id``), as ``progress_event``s:
    what the fleet and device snapshots show. A profile whose device went offline has no one to answer it."""
    pending = Measurement.objects.filter(
        kind=Measurement.PROFILE, state=MeasurementState.PENDING, device__status=DeviceStatus.ONLINE
    ).select_related("device", "model")
    if device_id is not None:
        pending = pending.filter(device_id=device_id)
    return [progress_event(m) for m in pending.order_by("created_at")]


def record_profile(device_id, message: p.ProfileResult) -> Measurement | None:
    """Store a profile the planner reads (``plans.BlockProfile``), with the thermal state of the time."""
    with transaction.atomic():
        m = _pending_profile(device_id, message.profile_id)
        if m is None:
            return None
        if message.error:
            m.state, m.error = MeasurementState.FAILED, message.error
        else:
            profile = plan_measurements.record_profile(m.device, m.model, message.blocks, message.thermal)
            m.state, m.result = (
                MeasurementState.DONE,
                {"profile": profile.pk, "blocks": message.blocks, "thermal": message.thermal},
            )
        m.finished_at = timezone.now()
        m.save(update_fields=["state", "error", "result", "finished_at"])
    dashboard.publish("profile.progress", progress_event(m))
    return m


def probe_links(device, *, payload_bytes: int = 256 * 1024, control_plane: bool = True) -> Measurement:
    """Ask the device's agent to measure RTT and bandwidth to every other online agent's data plane and,
    with ``control_plane``, to the control plane (see ``control_plane_url``)."""
    if device.status != DeviceStatus.ONLINE or not device.channel_name:
        raise SubmitError(f"{device.name} is not connected")
    peers = [
        {"device_id": str(d.pk), "host": d.dataplane_host, "port": d.dataplane_port}
        for d in Device.objects.filter(status=DeviceStatus.ONLINE, dataplane_port__isnull=False).exclude(
            pk=device.pk
        )
    ]
    url = control_plane_url() if control_plane else None
    with transaction.atomic():
        measurement = Measurement.objects.create(kind=Measurement.PROBE, device=device)
        agents.send_on_commit(device, p.Probe(str(measurement.pk), peers, payload_bytes, url))
    return measurement


def control_plane_url() -> str:
    """The link-probe endpoint as agents should reach it: under ``PUBLIC_URL`` when one is set, else a path
    the agent resolves against the server it enrolled with (the address it already reaches us at)."""
    return settings.PUBLIC_URL.rstrip("/") + reverse("agent-link-probe")


def probe_fleet(payload_bytes: int = 256 * 1024) -> int:
    """Ask every connected agent to probe its peers and the control plane (a lone agent still has that
    link); returns how many were asked."""
    online = Device.objects.filter(status=DeviceStatus.ONLINE).exclude(channel_name="")
    count = 0
    for device in online:
        probe_links(device, payload_bytes=payload_bytes)
        count += 1
    return count


def record_probe(device_id, message: p.ProbeResult) -> Measurement | None:
    """Store each measured link as a ``plans.LinkSample`` (the planner reads the latest per pair); the
    control-plane link as one with ``device_to`` null. The message was validated when it was decoded."""
    with transaction.atomic():
        m = (
            Measurement.objects.select_for_update(of=("self",))
            .select_related("device")
            .filter(pk=message.probe_id, kind=Measurement.PROBE)
            .first()
        )
        if m is None or m.state != MeasurementState.PENDING or str(m.device_id) != str(device_id):
            return None
        peers = {
            str(d.pk): d
            for d in Device.objects.filter(pk__in=[link.get("device_id") for link in message.links])
        }
        for link in message.links:
            peer = peers.get(str(link.get("device_id")))
            if peer is not None and _measured(link):
                plan_measurements.record_link(
                    m.device, peer, float(link["bandwidth_bps"]), float(link["rtt_s"])
                )
        control = message.control_plane
        if control is not None and _measured(control):
            plan_measurements.record_link(
                m.device, None, float(control["bandwidth_bps"]), float(control["rtt_s"])
            )
        m.state, m.finished_at = MeasurementState.DONE, timezone.now()
        m.result = {"links": message.links, "control_plane": control}
        m.save(update_fields=["state", "result", "finished_at"])
    return m


def _measured(link: dict) -> bool:
    return not link.get("error") and bool(link.get("bandwidth_bps")) and link.get("rtt_s") is not None
