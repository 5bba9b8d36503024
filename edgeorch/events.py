"""The one way the server pushes live events to dashboards: ``publish`` (sync) and ``apublish`` (async).

An event is ``{"kind": ..., "topics": [...], "data": {...}}``. Browsers subscribe to topics (``fleet``,
``runs``, ``alerts``, ``users``, ``device:<id>``, ``job:<id>``, ``session:<id>``); the consumer forwards an
event to a browser when they share a topic. Low-rate events and the (batched) telemetry go to the one group
``dashboard`` that every dashboard socket joins; high-rate per-object events (a session's frames) go to that
object's group, joined only by sockets that subscribed to it, and to the ``users`` group (the Users page,
which follows the frames of every running session). Pages stay correct without every event: each is
rebuilt from a REST snapshot on (re)connect, and ``snapshots.apply_event`` folds events into it. Alert events
(``edgeorch.alerts``) go to ``alerts`` and their device's topic; every live page takes them for its badge.

Telemetry is coalesced here, once per server process, not per browser: the latest sample per device is
kept and all pending samples go out together at most every ``TELEMETRY_EVENT_INTERVAL_S``. That bounds
the fleet topic to ~2 messages a second whatever the fleet size, and each device's chart to ~2 updates.

Publishing never raises into its caller: a dashboard that misses an event re-syncs from the snapshot,
while a telemetry flush or an enrollment that failed because Redis hiccupped would lose real work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from channels.layers import get_channel_layer

from . import layer

log = logging.getLogger(__name__)

GROUP = "dashboard"
TELEMETRY_EVENT_INTERVAL_S = 0.5
KINDS = (
    "device.status",
    "telemetry",
    "plan.switch",
    "profile.progress",
    "budget.change",
)  # plus "job.<state>" and "session.<state|frames>"
ALERT_KINDS = ("alert.fired", "alert.acknowledged", "alert.resolved", "alert.delivered")  # edgeorch.alerts
# Events that may come many times a second for one object: only its own subscribers' sockets get them.
PER_OBJECT_KINDS = {"session.frames"}
# The metrics a telemetry event carries (and the fleet snapshot shows): a small, fixed subset.
COMPACT_METRICS = ("cpu.percent", "mem.used_percent", "cpu.throttle_factor", "cpu.freq_mhz", "power.watts")
# ...and an agent's stage queues (docs/qos.md, "Telemetry"), for the Users page: carried, never charted.
QOS_METRICS = ("qos.queued", "qos.slack_s", "qos.dropped")
TEMP_MAX = "temp.max"  # the hottest ``temp.*`` sensor of the sample


def object_group(topic: str) -> str:
    """``session:<id>`` -> ``dashboard.session.<id>``, ``users`` -> ``dashboard.users`` (group names allow
    letters, digits, ``-_.``)."""
    return f"{GROUP}.{topic.replace(':', '.')}"


def has_own_group(topic: str) -> bool:
    """Whether a topic's per-object events go to a group of its own (joined by its subscribers only)."""
    return topic.startswith("session:") or topic == "users"


def topics_for(kind: str, data: dict) -> list[str]:
    """Which topics an event belongs to, from its kind and the ids in its data."""
    if kind == "device.status":
        return ["fleet"] + ([f"device:{data['id']}"] if data.get("id") else [])
    if kind == "profile.progress":  # a device's profile, block by block (jobs.services.measurements)
        return ["fleet", f"device:{data['device']}"]
    if kind == "telemetry":
        return ["fleet", *(f"device:{s['device']}" for s in data["samples"])]
    if kind == "budget.change":  # the coordinator set a session's budget (docs/qos.md, "Budgets")
        return ["users"]
    if kind.startswith("job."):
        return ["runs", f"job:{data['id']}"]
    if kind == "session.frames":
        return ["runs", f"session:{data['session']}", "users"]
    if kind.startswith("session.") or kind == "plan.switch":
        return ["runs", f"session:{data.get('session') or data['id']}"]
    if kind in ALERT_KINDS:
        return ["alerts", f"device:{data['device']}"]
    raise ValueError(f"unknown dashboard event kind {kind!r}")


def make_event(kind: str, data: dict) -> dict:
    return {"kind": kind, "topics": topics_for(kind, data), "data": data}


def compact_metrics(metrics: dict) -> dict:
    """The subset of a telemetry record the dashboard shows live; absent metrics stay absent (no sensor)."""
    out = {name: float(metrics[name]) for name in (*COMPACT_METRICS, *QOS_METRICS) if name in metrics}
    temps = [float(v) for k, v in metrics.items() if k.startswith("temp.")]
    if temps:
        out[TEMP_MAX] = max(temps)
    return out


def device_row(device) -> dict:
    """What a ``device.status`` event says about a device (the same fields as a fleet snapshot row)."""
    return {
        "id": str(device.pk),
        "name": device.name,
        "role": str(device.role),
        "profile": device.profile,
        "tags": list(device.tags or []),
        "status": str(device.status),
        "last_seen": device.last_seen.isoformat() if device.last_seen else None,
        "hostname": device.hostname,
        "agent_version": device.agent_version,
    }


def telemetry_data(batches: Iterable[tuple[str, Any]], received: datetime | None = None) -> dict:
    """The latest record of each device in one stored flush, compacted. O(records), no database.

    ``received`` is when it was stored: the devices' new ``last_seen``.
    """
    latest: dict[str, Any] = {}  # device id -> its newest protocol Record
    for device_id, message in batches:
        for record in message.records:
            seen = latest.get(device_id)
            if seen is None or record.ts >= seen.ts:
                latest[device_id] = record
    return {
        "samples": [
            {"device": device_id, "ts": round(r.ts, 3), "metrics": compact_metrics(r.metrics)}
            for device_id, r in latest.items()
        ],
        "received": (received or datetime.now(UTC)).isoformat(),
    }


async def _send(event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if event["kind"] in PER_OBJECT_KINDS:
        groups = [object_group(t) for t in event["topics"] if has_own_group(t)]
    else:
        groups = [GROUP]
    for group in groups:
        await layer.group_send(group, {"type": "dashboard.event", "event": event})


class TelemetryCoalescer:
    """Keeps the latest sample per device and sends all pending ones as ONE event per interval."""

    def __init__(self, send: Callable[[dict], Awaitable[None]], interval: float = TELEMETRY_EVENT_INTERVAL_S):
        self.send = send
        self.interval = interval
        self.pending: dict[str, dict] = {}
        self.received = ""
        self.last_sent = float("-inf")
        self._task: asyncio.Task | None = None

    def offer(self, data: dict) -> None:
        for sample in data["samples"]:
            self.pending[sample["device"]] = sample
        self.received = max(self.received, data["received"])
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="dashboard-telemetry")

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self.pending:
            wait = self.last_sent + self.interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            data = {"samples": list(self.pending.values()), "received": self.received}
            self.pending = {}
            self.last_sent = loop.time()
            try:
                await self.send(make_event("telemetry", data))
            except Exception:
                log.exception("sending a dashboard telemetry event failed")


_coalescers: dict[int, TelemetryCoalescer] = {}


def _coalescer() -> TelemetryCoalescer:
    loop = asyncio.get_running_loop()
    coalescer = _coalescers.get(id(loop))
    if coalescer is None:
        coalescer = _coalescers[id(loop)] = TelemetryCoalescer(_send)
    return coalescer


async def apublish(kind: str, data: dict) -> None:
    """Push one event to the dashboards (telemetry: coalesced, returns at once). Never raises."""
    try:
        if kind == "telemetry":
            _coalescer().offer(data)
        else:
            await _send(make_event(kind, data))
    except Exception:
        log.exception("publishing a %s dashboard event failed", kind)


def publish(kind: str, data: dict) -> None:
    """The sync variant, for services, views and Celery tasks. Never raises.

    Telemetry comes from the ingest writer (async, coalesced); a sync caller's telemetry is sent at once.
    """
    try:
        layer.call(_send, make_event(kind, data), wait=False)
    except Exception:
        log.exception("publishing a %s dashboard event failed", kind)
