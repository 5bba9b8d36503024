"""Measurements the planner asks for: each block's compute time on this device (``profile``), with the
thermal readings it ran under, and the links to peers and to the control plane (``probe``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from edgeorch_wire.frames import DEFAULT_MAX_PAYLOAD, FrameError
from edgeorch_wire.protocol import (
    LINK_PROBE_MAX_BYTES,
    Probe,
    ProbeResult,
    Profile,
    ProfileProgress,
    ProfileResult,
)

from ..dataplane import ping
from ..emulation.device import EmulatedDevice
from ..emulation.links import LinkShaper
from ..runtime import DeployError, StageError, Stretch, TensorSpec, load_session
from .state import ControlProbe, Shared

THERMAL_PREFIXES = ("temp.", "cpu.throttle")
PROBE_PINGS = 5


class Measurements:
    def __init__(
        self,
        shared: Shared,
        metrics: Callable[[], dict[str, float]],
        threads: int | None,
        control_probe: ControlProbe | None,
    ):
        self.shared = shared
        self.metrics = metrics
        self.threads = threads
        self.control_probe = control_probe  # the control channel's owner measures that link (None: nobody)

    async def profile(self, message: Profile) -> None:
        """Time each block in turn, saying how far it has got (``profile_progress``) before the first and
        after each, so that an operator watches a bar fill; then the timings (``profile_result``)."""
        total = len(message.segments)
        try:
            blocks = []
            await self._progress(message.profile_id, 0, total)
            for segment in message.segments:
                path = await self.shared.cache.fetch(segment["url"], segment["sha256"])
                timing = await asyncio.to_thread(
                    _time_block, path, segment, message, message.threads or self.threads, self.shared.device
                )
                blocks.append({"block": segment["block"], **timing})
                await self._progress(message.profile_id, len(blocks), total)
            reply = ProfileResult(message.profile_id, blocks, self._thermal())
        except (DeployError, StageError) as exc:
            reply = ProfileResult(message.profile_id, [], self._thermal(), error=str(exc))
        await self.shared.outbox(reply, None)

    async def _progress(self, profile_id: str, done: int, total: int) -> None:
        if total:  # a profile of no block has no progress to tell
            await self.shared.outbox(ProfileProgress(profile_id, done, total), None)

    def _thermal(self) -> dict[str, float]:
        return {k: v for k, v in self.metrics().items() if k.startswith(THERMAL_PREFIXES)}

    async def probe(self, message: Probe) -> None:
        size = min(message.payload_bytes, DEFAULT_MAX_PAYLOAD)
        links = self.shared.links
        # One peer after another: concurrent probes would share the link and each measure a fraction of it.
        results = [
            await probe_link(peer, size, links.for_peer(peer["device_id"], peer.get("name")))
            for peer in message.peers
        ]
        control = None
        if message.control_plane_url is not None:
            control = await self._probe_control_plane(message.control_plane_url, message.payload_bytes)
        await self.shared.outbox(ProbeResult(message.probe_id, results, control), None)

    async def _probe_control_plane(self, url: str, payload_bytes: int) -> dict[str, Any]:
        if self.control_probe is None:
            return {"rtt_s": None, "bandwidth_bps": None, "error": "this executor has no control channel"}
        return await self.control_probe(url, min(payload_bytes, LINK_PROBE_MAX_BYTES))


def _time_block(
    path: Path, segment: dict[str, Any], message: Profile, threads: int | None, device: EmulatedDevice | None
) -> dict[str, Any]:
    try:
        specs = [TensorSpec.from_dict(t) for t in segment["inputs"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise StageError(f"block {segment['block']}: malformed inputs ({exc!r})") from None
    session = load_session(path, threads)
    rng = np.random.default_rng(0)
    feeds = {spec.name: spec.example(rng) for spec in specs}
    stretch = Stretch()  # the block's runs, as a stage's frames, stretch from the host's undisturbed time
    try:
        for _ in range(message.warmup):
            _timed_run(session, feeds, device, stretch)
        times = [_timed_run(session, feeds, device, stretch) for _ in range(message.repeats)]
    except Exception as exc:  # onnxruntime's own error types
        raise StageError(f"block {segment['block']}: onnxruntime failed: {exc}") from None
    return {"median_s": float(np.median(times)), "p90_s": float(np.percentile(times, 90)), "runs": len(times)}


def _timed_run(
    session: Any, feeds: dict[str, np.ndarray], device: EmulatedDevice | None, stretch: Stretch
) -> float:
    """One run's compute seconds; on an emulated device, as that device would take it (and heating it)."""
    if device is None:
        started = time.perf_counter()
        session.run(None, feeds)
        return time.perf_counter() - started
    with device.occupy():
        scale = device.scale()
        started = time.perf_counter()
        session.run(None, feeds)
        elapsed = stretch(time.perf_counter() - started, scale)
    device.busy(elapsed)
    return elapsed


async def probe_link(
    peer: dict[str, Any], payload_bytes: int, shaper: LinkShaper | None = None
) -> dict[str, Any]:
    """RTT: median of empty PINGs. Bandwidth: the payload crosses twice (PING, then PONG echoes it), so
    ``2 * bytes / (t_big - t_empty)`` with each t the median of its PINGs. An emulated link (``shaper``)
    applies to every PING, so the probe measures the emulated link."""
    link: dict[str, Any] = {
        "device_id": peer["device_id"],
        "rtt_s": None,
        "bandwidth_bps": None,
        "error": None,
    }
    try:
        empty = [await ping(peer["host"], peer["port"], shaper=shaper) for _ in range(PROBE_PINGS)]
        big = [await ping(peer["host"], peer["port"], payload_bytes, shaper=shaper) for _ in range(3)]
    except (OSError, TimeoutError, FrameError) as exc:
        link["error"] = f"{type(exc).__name__}: {exc}"
        return link
    rtt, loaded = float(np.median(empty)), float(np.median(big))
    link["rtt_s"] = rtt
    link["bandwidth_bps"] = 8 * 2 * payload_bytes / max(loaded - rtt, 1e-9)
    return link
