"""The Users page's live model (docs/qos.md, "The fleet's users"): which running sessions (users) each device
serves, their deadline-miss rates and drops so far and over their last ``RECENT_FRAMES`` frames, the
configurations their answers record, and each device's stage queues from its telemetry.

A snapshot is ``{"recent_frames", "devices": [device, ...], "sessions": [session, ...]}``. A device is
``{id, name, role, status, last_seen, qos}``: every edge server that is not revoked, and every device that
serves a running session; ``qos`` is ``{ts, queued, slack_s, dropped}`` from its newest telemetry record (a
value is null when the record lacks it: no stage queues, nothing with a deadline queued), or null before any
record. A session is served by the devices its deployment places a stage on other than its source
(``served_by``), or by its source alone when the whole plan runs there.

A session's ``budget`` is its share of each edge the coordinator's budget lets it use (``{device: share}``;
{}: none, no limit).

``apply_event`` folds ``session.frames``, ``budget.change``, ``telemetry``, ``device.status`` and a session's
end into a snapshot (``static/dashboard/users.js`` mirrors it); a session that starts or moves
(``session.running``, ``plan.switch``) needs a fresh snapshot (``needs_snapshot``). Folding a frame twice
changes nothing: each session keeps the request ids it counted as ranges (``seen``), one range while they
come in order.
"""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, F, JSONField, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber

from edgeorch.devices.choices import DeviceRole, DeviceStatus
from edgeorch.devices.models import Device
from edgeorch.events import QOS_METRICS
from edgeorch.jobs.choices import TERMINAL, RunState
from edgeorch.jobs.models import Frame, Session
from edgeorch.telemetry.models import TelemetryRecord

from .columns import aware, json_value

RECENT_FRAMES = 50  # the recent window: each session's frames of the highest request ids


# --- building -----------------------------------------------------------------------------------------


def users_snapshot() -> dict:
    """The running sessions with their counts, and the devices serving them."""
    running = (
        Session.objects.filter(state=RunState.RUNNING)
        .select_related("model", "source", "created_by", "deployment")
        .order_by("created_at", "id")
    )
    sessions = {str(s.pk): _session_row(s) for s in running}
    if sessions:
        _count_frames(sessions)
    serving = {pk for row in sessions.values() for pk in row["served_by"]}
    return {
        "recent_frames": RECENT_FRAMES,
        "devices": _device_rows(serving),
        "sessions": [_derive(row) for row in sessions.values()],
    }


FRAME_FIELDS = ("request_id", "ok", "deadline_met", "dropped", "config")
COUNTS = ("frames", "judged", "misses", "dropped", "failed")


def _session_row(session: Session) -> dict:
    source = str(session.source_id)
    devices = [str(d) for d in (session.deployment.devices if session.deployment else ())]
    model = session.model
    return {
        "id": str(session.pk),
        "owner": session.created_by.get_username() if session.created_by else None,
        "source": {"id": source, "name": session.source.name},
        "model": f"{model.name} v{model.version}",
        "strategy": session.strategy,
        "priority": str(session.priority),
        "deadline_s": session.deadline_s,
        "served_by": [d for d in devices if d != source] or [source],
        "budget": budget_shares(session.budget),
        "route": session.deployment.cuts if session.deployment else "",
        "frames": 0,
        "judged": 0,
        "misses": 0,
        "dropped": 0,
        "failed": 0,
        "configs": {},
        "seen": [],
        "recent": [],
    }


def budget_shares(budget: dict | None) -> dict[str, float]:
    """A session's budget as the page shows it: its share of each edge it may use ({}: no budget)."""
    return {str(e["device_id"]): float(e["share"]) for e in (budget or {}).get("edges") or []}


def _count_frames(sessions: dict[str, dict]) -> None:
    """Each running session's counts, configurations, counted ranges and recent frames, counted by the
    database (three queries, and one per session for its recent frames): a snapshot costs the same however
    many frames the sessions have reported."""
    frames = Frame.objects.filter(session_id__in=list(sessions)).order_by()
    counts = frames.values("session_id").annotate(  # named apart from the fields they count
        n_frames=Count("id"),
        n_judged=Count("id", filter=Q(dropped=True) | Q(deadline_met__isnull=False)),
        n_misses=Count("id", filter=Q(deadline_met=False, dropped=False)),
        n_dropped=Count("id", filter=Q(dropped=True)),
        n_failed=Count("id", filter=Q(dropped=False, deadline_met__isnull=True, ok=False)),
    )
    for c in counts:
        sessions[str(c["session_id"])].update({name: c[f"n_{name}"] for name in COUNTS})
    for session_id, config, n in frames.values_list("session_id", "config").annotate(n=Count("id")):
        sessions[str(session_id)]["configs"][config] = n
    for session_id, first, last in _ranges(frames):
        sessions[session_id]["seen"].append([first, last])
    for pk, row in sessions.items():
        newest = frames.filter(session_id=pk).order_by("-request_id")[:RECENT_FRAMES]
        for frame in list(newest.values(*FRAME_FIELDS))[::-1]:
            row["recent"].append([frame["request_id"], outcome(frame), frame["config"]])


def _ranges(frames) -> list[tuple[str, int, int]]:
    """(session id, first, last) of each run of consecutive request ids, in order: an id less its rank
    within its session is the same all along a run."""
    numbered = frames.annotate(
        run=F("request_id")
        - Window(RowNumber(), partition_by=[F("session_id")], order_by=F("request_id").asc())
    ).values_list("session_id", "request_id", "run")
    sql, params = numbered.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"select session_id, min(request_id), max(request_id) from ({sql}) x "
            "group by session_id, run order by session_id, min(request_id)",
            params,
        )
        return [(str(uuid.UUID(str(s))), first, last) for s, first, last in cursor.fetchall()]


def _device_rows(serving: set[str]) -> list[dict]:
    newest = TelemetryRecord.objects.filter(device=OuterRef("pk")).order_by("-ts")
    devices = (
        Device.objects.filter(Q(role=DeviceRole.EDGE) | Q(pk__in=serving))
        .exclude(~Q(pk__in=serving), status=DeviceStatus.REVOKED)
        .annotate(
            latest_ts=Subquery(newest.values("ts")[:1]),
            latest_metrics=Subquery(newest.values("metrics")[:1], output_field=JSONField()),
        )
        .order_by("name", "id")
    )
    rows = []
    for d in devices:
        qos = None
        if d.latest_ts is not None:
            metrics = json_value(d.latest_metrics)
            qos = qos_of(
                round(aware(d.latest_ts).timestamp(), 3), metrics if isinstance(metrics, dict) else {}
            )
        rows.append(
            {
                "id": str(d.pk),
                "name": d.name,
                "role": str(d.role),
                "status": str(d.status),
                "last_seen": d.last_seen.isoformat() if d.last_seen else None,
                "qos": qos,
            }
        )
    return rows


def qos_of(ts: float, metrics: dict) -> dict:
    """A device's stage queues as one telemetry record says (``events.QOS_METRICS``; absent: null)."""
    values = {name: float(metrics[name]) if name in metrics else None for name in QOS_METRICS}
    return {
        "ts": ts,
        "queued": values["qos.queued"],
        "slack_s": values["qos.slack_s"],
        "dropped": values["qos.dropped"],
    }


# --- counting a frame ---------------------------------------------------------------------------------


def outcome(frame: dict) -> str:
    """As the summary counts (``stats.summarise``): ``d`` dropped before computing, ``m`` a deadline miss
    (answered late, or failed with a deadline), ``o`` answered in time; without a deadline ``n`` answered,
    ``f`` failed."""
    if frame.get("dropped"):
        return "d"
    met = frame.get("deadline_met")
    if met is not None:
        return "o" if met else "m"
    return "n" if frame.get("ok") else "f"


def _fold(row: dict, frame: dict) -> bool:
    """Count one frame into a session row unless it was counted; False if it was."""
    rid = frame["request_id"]
    if not _mark(row["seen"], rid):
        return False
    code = outcome(frame)
    row["frames"] += 1
    row["judged"] += code in "omd"
    row["misses"] += code == "m"
    row["dropped"] += code == "d"
    row["failed"] += code == "f"
    config = frame.get("config") or ""
    row["configs"][config] = row["configs"].get(config, 0) + 1
    recent = row["recent"]
    i = len(recent)
    while i > 0 and recent[i - 1][0] > rid:
        i -= 1
    recent.insert(i, [rid, code, config])
    del recent[: max(0, len(recent) - RECENT_FRAMES)]
    return True


def _mark(seen: list[list[int]], rid: int) -> bool:
    """Add ``rid`` to sorted, disjoint, non-adjacent ``[lo, hi]`` ranges; False if it was in one."""
    i = 0
    while i < len(seen) and seen[i][1] < rid - 1:
        i += 1
    if i < len(seen) and seen[i][0] <= rid <= seen[i][1]:
        return False
    if i < len(seen) and seen[i][0] - 1 <= rid <= seen[i][1] + 1:
        seen[i][0], seen[i][1] = min(seen[i][0], rid), max(seen[i][1], rid)
        if i + 1 < len(seen) and seen[i + 1][0] == seen[i][1] + 1:
            seen[i][1] = seen.pop(i + 1)[1]
    else:
        seen.insert(i, [rid, rid])
    return True


def _derive(row: dict) -> dict:
    """The figures read from the counts: miss rates (misses over the frames with a deadline; drops counted
    apart), the configuration of the newest frame, and the recent window's counts."""
    codes = [c for _, c, _ in row["recent"]]
    misses, judged = codes.count("m"), sum(1 for c in codes if c in "omd")
    row["miss_rate"] = row["misses"] / row["judged"] if row["judged"] else None
    row["config"] = row["recent"][-1][2] if row["recent"] else None
    row["recent_stats"] = {
        "frames": len(codes),
        "misses": misses,
        "dropped": codes.count("d"),
        "miss_rate": misses / judged if judged else None,
    }
    return row


# --- applying events ----------------------------------------------------------------------------------


def needs_snapshot(event: dict) -> bool:
    """A session started (or went back to running) or moved to other devices: which devices serve whom is
    only known from a fresh snapshot."""
    return event["kind"] in ("session.running", "plan.switch")


def apply_event(snapshot: dict, event: dict) -> dict:
    """The snapshot as it is after ``event`` (a new dict; the argument is left alone)."""
    snapshot = copy.deepcopy(snapshot)
    kind, data = event["kind"], event["data"]
    sessions = {row["id"]: row for row in snapshot["sessions"]}
    if kind == "session.frames" and data["session"] in sessions:
        row = sessions[data["session"]]
        for frame in data["frames"]:
            _fold(row, frame)
        _derive(row)
    elif kind.startswith("session.") and data.get("state") in TERMINAL:
        snapshot["sessions"] = [row for row in snapshot["sessions"] if row["id"] != data["id"]]
    elif kind == "budget.change" and data["session"] in sessions:
        sessions[data["session"]]["budget"] = dict(data["shares"])
    elif kind == "telemetry":
        devices = {row["id"]: row for row in snapshot["devices"]}
        for sample in data["samples"]:
            row = devices.get(sample["device"])
            if row is None:
                continue
            if row["status"] != DeviceStatus.REVOKED:
                row["status"] = DeviceStatus.ONLINE.value
            if not row["last_seen"] or _when(data["received"]) > _when(row["last_seen"]):
                row["last_seen"] = data["received"]
            if row["qos"] is None or sample["ts"] >= row["qos"]["ts"]:
                row["qos"] = qos_of(sample["ts"], sample["metrics"])
    elif kind == "device.status":
        _apply_status(snapshot, data)
    return snapshot


def _apply_status(snapshot: dict, data: dict[str, Any]) -> None:
    if "seen_before" in data:  # the liveness sweep (as snapshots.apply_event)
        cutoff = _when(data["seen_before"])
        for row in snapshot["devices"]:
            if row["status"] == "online" and row["last_seen"] and _when(row["last_seen"]) < cutoff:
                row["status"] = data["status"]
        return
    for row in snapshot["devices"]:
        if row["id"] == data["id"]:
            row.update({k: data[k] for k in ("name", "role", "status", "last_seen") if k in data})
    snapshot["devices"].sort(key=lambda r: (r["name"], r["id"]))


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)
