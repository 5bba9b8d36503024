"""REST snapshots of the live pages, and ``apply_event``, which folds a pushed event into a snapshot.

A page loads a snapshot, then applies events (``static/dashboard/live.js`` mirrors ``apply_event``); on a
reconnect it loads a fresh one. The tests check that snapshot + events equals a fresh snapshot.
``fleet_energy`` (the fleet page's energy per inference per device) comes with a fresh snapshot only: no
event changes it.

A snapshot is ``{"scope", "bucket_s", "points", "series_metrics", "devices": [row, ...]}``; a row is a device
(``events.device_row``) plus ``latest`` (its newest sample, compacted) and ``series``: per metric, up to
``points`` ``[bucket start (epoch s), max in the bucket]`` pairs. A fleet snapshot over a picked time range
(``fleet_snapshot(since=, until=)``, the fleet page's range picker) has the same shape with wider
buckets (``range_shape``) and ``since``/``until`` added; a range that ends now takes events like the live
one. ``profiling`` lists the profiles under way (``jobs.services.measurements.progress_event``, oldest
first); a ``profile.progress`` event updates its entry in place, and one with a final state removes it.
Buckets keep their MAXIMUM (a sparkline of peaks is what an operator watching heat wants), which also
makes applying an event idempotent and order-free: a sample folded twice, or one the snapshot already
counted, changes nothing.
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import JSONField, OuterRef, Q, Subquery
from django.utils import timezone
from edgeorch_wire.profiles import list_profiles, load_profile

from edgeorch.devices.models import Device
from edgeorch.events import COMPACT_METRICS, TEMP_MAX, compact_metrics, device_row
from edgeorch.jobs.choices import RunState
from edgeorch.jobs.models import Job, Session
from edgeorch.jobs.services import measurements
from edgeorch.plans.energy import run_energy
from edgeorch.telemetry.models import TelemetryRecord
from edgeorch.telemetry.services import PEAK_BUCKET_S, PG_TEMP_MAX

from .columns import aware, json_value

FLEET = {
    "scope": "fleet",
    "bucket_s": PEAK_BUCKET_S,
    "points": 30,
    "series_metrics": ["cpu.percent", TEMP_MAX],
}
DEVICE = {"scope": "device", "bucket_s": 5, "points": 180, "series_metrics": [TEMP_MAX, *COMPACT_METRICS]}


def bucket_of(ts: float, width: int) -> int:
    return math.floor(ts / width) * width


def window_start(now: datetime, shape: dict) -> int:
    """The first bucket a snapshot taken ``now`` covers (``points`` buckets, the current one last)."""
    return bucket_of(now.timestamp(), shape["bucket_s"]) - (shape["points"] - 1) * shape["bucket_s"]


# --- building -----------------------------------------------------------------------------------------


RANGE_POINTS = 60  # the buckets of a fleet range's sparklines, at most (the ``points`` asked for by default)
MAX_RANGE_POINTS = 500


def range_shape(since: datetime, until: datetime, points: int = RANGE_POINTS) -> dict:
    """The fleet's shape over ``[since, until)``: buckets a multiple of ``PEAK_BUCKET_S`` wide (so that the
    stored 30 s peaks nest in them), as few as fit ``points`` of them across the range; ``points`` is then
    the number of buckets the range touches (``points`` or one more). Aligned like the live window's
    (bucket starts are multiples of the width), so an event folds into a range that ends now the same way."""
    span = (until - since).total_seconds()
    width = max(PEAK_BUCKET_S, math.ceil(span / max(1, points) / PEAK_BUCKET_S) * PEAK_BUCKET_S)
    first = bucket_of(since.timestamp(), width)
    last = bucket_of(math.nextafter(until.timestamp(), -math.inf), width)
    return {
        **FLEET,
        "bucket_s": width,
        "points": (last - first) // width + 1,
        "since": since.isoformat(),
        "until": until.isoformat(),
    }


def fleet_snapshot(
    now: datetime | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    points: int = RANGE_POINTS,
) -> dict:
    """Every device with its latest sample and sparkline series, in one query (see ``_rows``), and the
    profiles under way (``profiling``).

    With ``since`` (and ``until``, default now) the series cover that range instead of the live window:
    the peak of each ``range_shape`` bucket, read from the stored 30 s peaks (PostgreSQL) or the raw
    records (SQLite) within the raw retention and from the one-minute roll-ups (their means) before it.
    The rest of each row (status, ``latest``) is as of now. Still one query for the whole fleet."""
    now = now or timezone.now()
    shape = FLEET if since is None else range_shape(since, until or now, points)
    rows = _rows(shape, None, now)
    return {**shape, "devices": rows, "profiling": measurements.profiles_under_way()}


def device_snapshot(device: Device, now: datetime | None = None) -> dict:
    """One device, with finer and more series than the fleet's; the page adds links and stages."""
    rows = _rows(DEVICE, device.pk, now or timezone.now())
    return {**DEVICE, "devices": rows, "profiling": measurements.profiles_under_way(device.pk)}


def _value_sql(metric: str) -> str:
    # Metric names come from the fixed shapes above, never from a request.
    if metric == TEMP_MAX:
        return PG_TEMP_MAX
    return f"(t.metrics ->> '{metric}')::float8"


# The fleet's series read the peaks stored with the records (telemetry.models.TelemetryPeak): a few rows
# per device, instead of the window's raw JSON records folded at every load.
_PEAK_COLUMNS = {"cpu.percent": "p.cpu", TEMP_MAX: "p.temp"}


def _series_sql(shape: dict) -> str:
    """The lateral giving one device's ``[bucket start, value per series metric]`` rows since ``%s`` (a
    range: rows in ``[%s, %s)`` of the peaks, then ``[%s, %s)`` of the roll-ups, see ``_series_params``)."""
    if "until" in shape:
        width = shape["bucket_s"]
        return f"""
            select json_agg(json_build_array(b, cpu, temp) order by b) as series from (
                select b, max(cpu) as cpu, max(temp) as temp from (
                    select (p.bucket / {width}) * {width} as b, p.cpu, p.temp from telemetry_telemetrypeak p
                    where p.device_id = d.id and p.bucket >= %s and p.bucket < %s
                    union all
                    select floor(extract(epoch from t.bucket) / {width})::bigint * {width},
                           (t.metrics ->> 'cpu.percent')::float8, {PG_TEMP_MAX}
                    from telemetry_telemetryrollup t
                    where t.device_id = d.id and t.bucket >= to_timestamp(%s) and t.bucket < to_timestamp(%s)
                ) u group by b
            ) x
        """
    if shape is FLEET:
        columns = ", ".join(_PEAK_COLUMNS[m] for m in shape["series_metrics"])
        return f"""
            select json_agg(json_build_array(p.bucket, {columns}) order by p.bucket) as series
            from telemetry_telemetrypeak p where p.device_id = d.id and p.bucket >= %s
        """
    width = shape["bucket_s"]
    values = ", ".join(f"max({_value_sql(m)}) as v{i}" for i, m in enumerate(shape["series_metrics"]))
    columns = ", ".join(f"v{i}" for i in range(len(shape["series_metrics"])))
    return f"""
        select json_agg(json_build_array(b, {columns}) order by b) as series from (
            select floor(extract(epoch from t.ts) / {width})::bigint * {width} as b, {values}
            from telemetry_telemetryrecord t where t.device_id = d.id and t.ts >= to_timestamp(%s) group by 1
        ) x
    """


def _rows(shape: dict, device_id, now: datetime) -> list[dict]:
    if connection.vendor != "postgresql":
        return _rows_portable(shape, device_id, now)
    # Both laterals walk a (device, time) index one device at a time: cost grows with devices and the
    # window, not with the day of history stored.
    sql = f"""
        select d.id, d.name, d.role, d.profile, d.tags, d.status, d.last_seen, d.hostname, d.agent_version,
               l.ts, l.metrics, s.series
        from devices_device d
        left join lateral (
            select round(extract(epoch from t.ts), 3)::float8 as ts, t.metrics
            from telemetry_telemetryrecord t where t.device_id = d.id order by t.ts desc limit 1
        ) l on true
        left join lateral ({_series_sql(shape)}) s on true
        {"where d.id = %s" if device_id else ""}
        order by d.name, d.id
    """
    params = _series_params(shape, now) + ([device_id] if device_id else [])
    with transaction.atomic(), connection.cursor() as cursor:
        # A fleet's estimated cost crosses jit_above_cost, and compiling took longer than it saved.
        cursor.execute("set local jit = off")
        cursor.execute(sql, params)
        return [_row(shape, *r) for r in cursor.fetchall()]


def _series_params(shape: dict, now: datetime) -> list:
    """The parameters of ``_series_sql``: the live window's start, or a range's bounds in epoch seconds
    (the peaks: the 30 s buckets starting in it; the roll-ups: the minutes starting in it)."""
    if "until" not in shape:
        return [window_start(now, shape)]
    since = datetime.fromisoformat(shape["since"]).timestamp()
    until = datetime.fromisoformat(shape["until"]).timestamp()
    # Whole seconds for the bigint peak buckets (a float would cast the column and forgo its index).
    return [math.ceil(since), math.ceil(until), since, until]


def _row(
    shape, pk, name, role, profile, tags, status, last_seen, hostname, agent_version, ts, metrics, series
):
    metrics, series = json_value(metrics), json_value(series) or []
    row = {
        "id": str(pk),
        "name": name,
        "role": role,
        "profile": profile,
        "tags": json_value(tags) or [],
        "status": status,
        "last_seen": last_seen.isoformat() if last_seen else None,
        "hostname": hostname,
        "agent_version": agent_version,
        "latest": {"ts": ts, "metrics": compact_metrics(metrics)} if ts is not None else None,
        "series": {m: [] for m in shape["series_metrics"]},
    }
    for b, *values in series:
        for metric, value in zip(shape["series_metrics"], values, strict=True):
            if value is not None:
                row["series"][metric].append([b, value])
    return row


def _rows_portable(shape: dict, device_id, now: datetime) -> list[dict]:
    """The same rows on SQLite (the embedded default): the devices with their newest record (one statement),
    then the window's records of all of them (one more), folded in Python. Two queries for any fleet."""
    newest = TelemetryRecord.objects.filter(device=OuterRef("pk")).order_by("-ts")
    devices = Device.objects.order_by("name", "id").annotate(
        latest_ts=Subquery(newest.values("ts")[:1]),
        latest_metrics=Subquery(newest.values("metrics")[:1], output_field=JSONField()),
    )
    if device_id is not None:
        devices = devices.filter(pk=device_id)
    rows: dict = {}
    for device in devices:
        row = {**device_row(device), "latest": None, "series": {m: [] for m in shape["series_metrics"]}}
        if device.latest_ts is not None:
            ts = aware(device.latest_ts)
            row["latest"] = {
                "ts": round(ts.timestamp(), 3),
                "metrics": compact_metrics(json_value(device.latest_metrics)),
            }
        rows[device.pk] = row
    if "until" in shape:
        _range_series_portable(shape, rows)
        return list(rows.values())
    since = datetime.fromtimestamp(window_start(now, shape), tz=UTC)
    records = TelemetryRecord.objects.filter(ts__gte=since, device_id__in=list(rows)).order_by("ts")
    for pk, ts, metrics in records.values_list("device_id", "ts", "metrics"):
        sample = {"ts": round(ts.timestamp(), 3), "metrics": compact_metrics(metrics)}
        _fold_series(shape, rows[pk], sample, trim=False)
    return list(rows.values())


# SQLite: the peaks of one table's rows in a range, per device and bucket, grouped by the database (a week of
# raw records is too many to fold in Python). The hottest ``temp.*`` of a row, as events.compact_metrics.
_SQLITE_RANGE = """
    select device_id, cast(strftime('%%s', {ts}) / {width} as integer) * {width} as b,
           max(cast(json_extract(metrics, '$."cpu.percent"') as real)),
           max((select max(cast(j.value as real)) from json_each(t.metrics) j where j.key like 'temp.%%'))
    from {table} t where {ts} >= %s and {ts} < %s group by 1, 2
"""


def _range_series_portable(shape: dict, rows: dict) -> None:
    """A range's series on SQLite: the raw records' and the roll-ups' peaks per bucket, in two queries."""
    since, until = (
        connection.ops.adapt_datetimefield_value(datetime.fromisoformat(shape[k])) for k in ("since", "until")
    )
    peaks: dict[tuple, list] = {}
    with connection.cursor() as cursor:
        for table, ts in (("telemetry_telemetryrollup", "bucket"), ("telemetry_telemetryrecord", "ts")):
            cursor.execute(_SQLITE_RANGE.format(table=table, ts=ts, width=shape["bucket_s"]), [since, until])
            for device, b, cpu, temp in cursor.fetchall():
                have = peaks.setdefault((device, b), [None, None])
                have[0] = _higher(have[0], cpu)
                have[1] = _higher(have[1], temp)
    by_hex = {pk.hex: row for pk, row in rows.items()}
    for (device, b), values in sorted(peaks.items(), key=lambda kv: kv[0][1]):
        row = by_hex.get(str(device).replace("-", ""))
        if row is None:
            continue
        for metric, value in zip(shape["series_metrics"], values, strict=True):
            if value is not None:
                row["series"][metric].append([b, float(value)])


def _higher(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


# --- energy per inference -----------------------------------------------------------------------------

ENERGY_RUNS = 50  # the latest finished sessions and jobs the fleet's energy per inference is read from


def fleet_energy() -> dict[str, dict]:
    """Per device id, its joules per inference in the latest finished run it took part in (docs/energy.md):
    as the source, the run's own figure (measured where it reports power, else estimated: a session's
    summary, a job's ``run_energy``); as another stage's device, the plan's prediction of its joules.
    ``{joules, basis, role: source|stage, run: "session <id>"|"job <id>", model}``. Two queries, and one
    per job source."""
    sessions = (
        Session.objects.filter(finished_at__isnull=False, summary__has_key="energy")
        .order_by("-finished_at")
        .values("pk", "source_id", "summary", "plan", "finished_at", "model__name")[:ENERGY_RUNS]
    )
    jobs = (
        Job.objects.filter(state=RunState.COMPLETED)
        .order_by("-finished_at")
        .values("pk", "source_id", "plan", "trace", "measured_latency_s", "finished_at", "model__name")[
            :ENERGY_RUNS
        ]
    )
    runs: list[tuple[str, dict[str, Any]]] = [("session", dict(r)) for r in sessions]
    runs += [("job", dict(r)) for r in jobs]
    runs.sort(key=lambda x: x[1]["finished_at"], reverse=True)
    devices = {str(d.pk): d for d in Device.objects.filter(pk__in={r["source_id"] for _, r in runs})}
    out: dict[str, dict] = {}
    for kind, run in runs:
        label, source = f"{kind} {str(run['pk'])[:8]}", str(run["source_id"])
        if source not in out and source in devices:
            if kind == "session":
                energy = run["summary"]["energy"] or {}
            else:
                energy = run_energy(run["plan"], run["trace"], run["measured_latency_s"], devices[source])
            joules = energy.get("joules", energy.get("emulated_j"))  # a summary from before measurement
            basis = energy.get("basis") or ("estimated" if joules is not None else None)
            if joules is not None:
                out[source] = _energy_row(joules, basis, "source", label, run["model__name"])
        for entry in ((run["plan"] or {}).get("energy") or {}).get("devices") or []:
            device = str(entry.get("device"))
            if device != source and device not in out and entry.get("known"):
                out[device] = _energy_row(entry.get("total"), "predicted", "stage", label, run["model__name"])
    return out


def _energy_row(joules, basis, role: str, run: str, model: str) -> dict:
    return {"joules": joules, "basis": basis, "role": role, "run": run, "model": model}


# --- applying events ----------------------------------------------------------------------------------


def apply_event(snapshot: dict, event: dict) -> dict:
    """The snapshot as it is after ``event`` (a new dict; the argument is left alone)."""
    snapshot = copy.deepcopy(snapshot)
    kind, data = event["kind"], event["data"]
    if kind == "device.status":
        _apply_status(snapshot, data)
    elif kind == "profile.progress":
        _apply_progress(snapshot, data)
    elif kind == "telemetry":
        rows = {row["id"]: row for row in snapshot["devices"]}
        for sample in data["samples"]:
            if sample["device"] in rows:
                _apply_sample(snapshot, rows[sample["device"]], sample, data["received"])
    return snapshot


def _apply_progress(snapshot: dict, data: dict) -> None:
    if snapshot["scope"] != "fleet" and all(r["id"] != data["device"] for r in snapshot["devices"]):
        return  # a device page shows only its own device's profiles
    profiling = snapshot.setdefault("profiling", [])
    at = next((i for i, p in enumerate(profiling) if p["measurement"] == data["measurement"]), None)
    if data["state"] != "pending":
        if at is not None:
            del profiling[at]
    elif at is None:
        profiling.append(data)
    else:
        profiling[at] = data


def _apply_status(snapshot: dict, data: dict) -> None:
    if "seen_before" in data:  # the liveness sweep: every online device silent since then went offline
        cutoff = datetime.fromisoformat(data["seen_before"])
        for row in snapshot["devices"]:
            if row["status"] == "online" and row["last_seen"] and _when(row["last_seen"]) < cutoff:
                row["status"] = data["status"]
        return
    row = next((r for r in snapshot["devices"] if r["id"] == data["id"]), None)
    if row is None:
        if snapshot["scope"] != "fleet" or "name" not in data:
            return  # a newly enrolled device joins the fleet; a device page shows only its own device
        row = {"latest": None, "series": {m: [] for m in snapshot["series_metrics"]}}
        snapshot["devices"].append(row)
    row.update(data)
    snapshot["devices"].sort(key=lambda r: (r["name"], r["id"]))


def _apply_sample(snapshot: dict, row: dict, sample: dict, received: str) -> None:
    if row["status"] != "revoked":
        row["status"] = "online"
    if not row["last_seen"] or _when(received) > _when(row["last_seen"]):
        row["last_seen"] = received
    if row["latest"] is None or sample["ts"] >= row["latest"]["ts"]:
        row["latest"] = {"ts": sample["ts"], "metrics": dict(sample["metrics"])}
    _fold_series(snapshot, row, sample, trim=True)


def _fold_series(shape: dict, row: dict, sample: dict, trim: bool) -> None:
    """Fold one sample into its bucket of each series (keeping the maximum), dropping expired buckets."""
    width = shape["bucket_s"]
    b = bucket_of(sample["ts"], width)
    for metric in shape["series_metrics"]:
        value = sample["metrics"].get(metric)
        if value is None:
            continue
        points = row["series"][metric]
        i = len(points)
        while i > 0 and points[i - 1][0] > b:
            i -= 1
        if i > 0 and points[i - 1][0] == b:
            points[i - 1][1] = max(points[i - 1][1], value)
        else:
            points.insert(i, [b, value])
        if trim and points:
            oldest = points[-1][0] - (shape["points"] - 1) * width
            while points[0][0] < oldest:
                points.pop(0)


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


# --- the device page's extras -------------------------------------------------------------------------


def device_page_snapshot(device: Device, now: datetime | None = None) -> dict:
    """``device_snapshot`` plus what only the device page shows: throttle threshold, links, stage timings."""
    now = now or timezone.now()
    snapshot = device_snapshot(device, now)
    snapshot["throttle_at_c"] = throttle_threshold(device.profile)
    snapshot["links"] = device_links(device)
    snapshot["stages"] = stage_timings(
        device, since=datetime.fromtimestamp(window_start(now, DEVICE), tz=UTC)
    )
    return snapshot


def throttle_threshold(profile: str) -> float | None:
    """The temperature at which the device's profile starts throttling, if it is a known emulated profile."""
    # Only known names: ``load_profile`` also reads paths, and the profile string comes from the agent.
    if profile not in list_profiles():
        return None
    thermal = load_profile(profile).thermal
    return thermal.throttle_at_c if thermal else None


def device_links(device: Device) -> list[dict]:
    """The latest measurement of each link from and to the device (bandwidth in bit/s, RTT in s), as
    ``GET /api/devices/{id}/links/`` gives them."""
    from edgeorch.plans import measurements
    from edgeorch.plans.api import LinkSerializer

    return list(LinkSerializer(measurements.device_links(device), many=True, context={"device": device}).data)


def stage_timings(device: Device, since: datetime, limit: int = 300) -> list[dict]:
    """The stages this device ran for recent stream frames: when they ended, queue and compute seconds.

    Portable (SQLite and PostgreSQL): the sessions of the window whose deployments, current or switched
    from, place a stage on the device, then their frames; the traces are read in Python."""
    from edgeorch.jobs.models import Frame

    device_id = str(device.pk)
    sessions = _sessions_on(device_id, since)
    frames = (
        Frame.objects.filter(session_id__in=sessions, received_at__gte=since)
        .order_by("-id")
        .values_list("session_id", "trace")[:limit]
    )
    out = []
    for session_id, trace in frames:
        for entry in trace:
            if entry.get("device") == device_id:
                out.append(
                    {
                        "session": str(session_id),
                        "stage": entry.get("stage"),
                        "end": entry.get("end"),
                        "queue_s": entry.get("queue_s"),
                        "compute_s": entry.get("compute_s"),
                    }
                )
    return sorted(out, key=lambda e: e["end"] or 0)


def _sessions_on(device_id: str, since: datetime) -> list:
    """Sessions running in the window (or ended in it) with a deployment that placed a stage on the device."""
    from edgeorch.jobs.models import Deployment, PlanSwitch, Session

    recent = dict(
        Session.objects.filter(
            Q(finished_at__isnull=True) | Q(finished_at__gte=since), started_at__isnull=False
        ).values_list("pk", "deployment_id")
    )
    used: dict[Any, set[Any]] = {pk: {dep} for pk, dep in recent.items()}
    for pk, old, new in PlanSwitch.objects.filter(session_id__in=list(recent)).values_list(
        "session_id", "old_deployment", "new_deployment"
    ):
        used[pk] |= {old, new}
    wanted = {dep for deps in used.values() for dep in deps if dep is not None}
    placing = {
        pk
        for pk, devices in Deployment.objects.filter(pk__in=wanted).values_list("pk", "devices")
        if device_id in devices
    }
    return [pk for pk, deps in used.items() if deps & placing]
