"""Profiling and probing: ask an agent to time a model's blocks or measure its links, and store the answer
where the planner reads it. Verbs: ``request_profile``, ``record_profile``, ``probe_links``, ``probe_fleet``,
``record_probe``, ``control_plane_url``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from edgeorch_wire import protocol as p

from edgeorch.catalog import services as catalog
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device
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
        measurement = Measurement.objects.create(kind=Measurement.PROFILE, device=device, model=model)
        threads = settings.JOB_AGENT_THREADS or None  # as the deployments' stages will run
        agents.send_on_commit(device, p.Profile(str(measurement.pk), blocks, warmup, repeats, threads))
    return measurement


def record_profile(device_id, message: p.ProfileResult) -> Measurement | None:
    """Store a profile the planner reads (``plans.BlockProfile``), with the thermal state of the time."""
    with transaction.atomic():
        m = (
            Measurement.objects.select_for_update(of=("self",))
            .select_related("device", "model")
            .filter(pk=message.profile_id, kind=Measurement.PROFILE)
            .first()
        )
        if m is None or m.state != MeasurementState.PENDING or str(m.device_id) != str(device_id):
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
