"""Storing and querying telemetry.

Writes come in batches from many connections at once (see ``ingest.py``): one flush stores the records of
every device that sent since the last flush, in one transaction, so ingestion cost grows with flushes, not
with devices. Reads are downsampled in the database, so a chart never pulls raw millions of rows.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from edgeorch_wire.protocol import MAX_INT64, MAX_TIMESTAMP

from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device

from .models import TelemetryPeak, TelemetryRecord, TelemetryRollup

log = logging.getLogger(__name__)


@dataclass
class StoreResult:
    """What one device's batch came to: the seqs now safely stored, and how many were already there."""

    seqs: list[int]
    stored: int
    duplicates: int


class BatchRefused(Exception):
    """One device's batch that could not be stored, though the others of its flush were."""


# What storing one device's values can raise: the database refusing a value (a range, a key), or the
# conversion before it (SQLite takes Python ints and datetimes only up to their limits).
_BAD_BATCH = (DatabaseError, ValueError, OverflowError, OSError)


def store_batches(batches: list[tuple[str, Any]]) -> list[StoreResult | BatchRefused]:
    """Store telemetry batches ``(device_id, Telemetry message)`` from many devices in one transaction.

    Records already stored (same device and seq: a resend after a lost ack) are counted, not stored twice.
    Returns one result per batch, in order. When the shared write fails, each device's batches are stored
    on their own (one device's bad batch never fails another's): a batch that fails alone is returned as
    ``BatchRefused``. A database that is down fails them all, and that is raised.
    """
    refused = {i: BatchRefused(why) for i, (_, m) in enumerate(batches) if (why := _out_of_range(m))}
    if refused:
        kept = [b for i, b in enumerate(batches) if i not in refused]
        answers = iter(store_batches(kept) if kept else [])
        return [refused[i] if i in refused else next(answers) for i in range(len(batches))]
    try:
        return list(_store(batches))
    except _BAD_BATCH as exc:
        if len({str(d) for d, _ in batches}) <= 1 or not _usable():
            raise
        log.warning(
            "a flush of %d telemetry batches failed (%s); storing each device's apart", len(batches), exc
        )
    by_device: dict[str, list[int]] = defaultdict(list)
    for i, (device_id, _) in enumerate(batches):
        by_device[str(device_id)].append(i)
    results: list[StoreResult | BatchRefused] = [BatchRefused("not stored")] * len(batches)
    for device_id, indexes in by_device.items():
        stored: list[StoreResult | BatchRefused]
        try:
            stored = list(_store([batches[i] for i in indexes]))
        except _BAD_BATCH as exc:
            log.warning("telemetry of device %s refused by the database: %s", device_id, exc)
            stored = [BatchRefused(f"the database refused this batch: {exc}")] * len(indexes)
        for i, result in zip(indexes, stored, strict=True):
            results[i] = result
    return results


def _out_of_range(message) -> str | None:
    """Why a batch cannot be stored, checked before the shared write (the wire checks these when it
    decodes; this keeps the write safe whoever built the batch)."""
    for r in message.records:
        if not 0 <= r.seq <= MAX_INT64:
            return f"seq {r.seq} is out of range"
        if not 0.0 <= r.ts <= MAX_TIMESTAMP:  # NaN fails both comparisons
            return f"ts {r.ts} is not a time between 1970 and 2100"
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in r.metrics.values()):
            return f"record {r.seq} has a value that is not a finite number"
    return None


def _usable() -> bool:
    """Whether the database answers at all (else retrying per device would only fail slower)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1")
        return True
    except DatabaseError:
        return False


def _store(batches: list[tuple[str, Any]]) -> list[StoreResult]:
    now = timezone.now()
    records = [(str(device_id), r) for device_id, message in batches for r in message.records]
    with transaction.atomic():
        new = _insert_new(records, now) if records else set()
        _touch_devices(batches, now)
    results = []
    for device_id, message in batches:
        device_id = str(device_id)
        seqs = [r.seq for r in message.records]
        stored = [s for s in seqs if (device_id, s) in new]
        new.difference_update((device_id, s) for s in stored)  # a seq repeated within one flush counts once
        results.append(StoreResult(seqs=seqs, stored=len(stored), duplicates=len(seqs) - len(stored)))
    return results


# PostgreSQL: the whole flush is one INSERT of a few array parameters, which costs a fraction of a
# many-row VALUES list (whose client-side parameter conversion dominated); ON CONFLICT drops resends and
# RETURNING says which rows were new. The same statement folds the new rows into their ``TelemetryPeak``
# buckets (greatest() keeps the higher of stored and new, ignoring nulls), so the peaks cannot drift from
# the records they summarise.
PEAK_BUCKET_S = 30  # the fleet snapshot's bucket (dashboard.snapshots.FLEET)

# The highest ``temp.*`` value of a record ``t`` (its keys only: jsonb_each_text made text of every value).
PG_TEMP_MAX = (
    "(select max((t.metrics ->> k)::float8) from jsonb_object_keys(t.metrics) k where k like 'temp.%%')"
)

# The peaks of the records ``t`` (group by device and bucket), for an INSERT into telemetry_telemetrypeak.
PG_PEAKS = f"""
    select t.device_id, floor(extract(epoch from t.ts) / {PEAK_BUCKET_S})::bigint * {PEAK_BUCKET_S},
           max((t.metrics ->> 'cpu.percent')::float8), max({PG_TEMP_MAX})
    from {{records}} t {{where}} group by 1, 2 order by 1, 2
"""

_PG_INSERT = f"""
    with new as (
        insert into telemetry_telemetryrecord (device_id, seq, ts, received_at, metrics)
        select u.device_id, u.seq, to_timestamp(u.ts), %s, m.metrics
        from unnest(%s::uuid[], %s::bigint[], %s::float8[]) with ordinality as u(device_id, seq, ts, i)
        join jsonb_array_elements(%s::jsonb) with ordinality as m(metrics, i) using (i)
        on conflict (device_id, seq) do nothing
        returning device_id, seq, ts, metrics
    ), peaks as (
        insert into telemetry_telemetrypeak as p (device_id, bucket, cpu, temp)
        {PG_PEAKS.format(records="new", where="")}
        on conflict (device_id, bucket) do update
        set cpu = greatest(p.cpu, excluded.cpu), temp = greatest(p.temp, excluded.temp)
    )
    select device_id, seq from new
"""

_PG_TOUCH = """
    update devices_device d set
        last_seen = %s,
        status = case when d.status = 'revoked' then d.status else 'online' end,
        last_seq = greatest(d.last_seq, u.seq),
        dropped_records = greatest(d.dropped_records, u.dropped)
    from unnest(%s::uuid[], %s::bigint[], %s::bigint[]) as u(id, seq, dropped)
    where d.id = u.id
"""


def _insert_new(records: list[tuple[str, Any]], now) -> set[tuple[str, int]]:
    if connection.vendor == "postgresql":
        params = [
            now,
            [d for d, _ in records],
            [r.seq for _, r in records],
            [r.ts for _, r in records],
            json.dumps([r.metrics for _, r in records]),
        ]
        with connection.cursor() as cursor:
            cursor.execute(_PG_INSERT, params)
            return {(str(device_id), seq) for device_id, seq in cursor.fetchall()}
    existing = _existing_seqs(records)
    rows, new = [], set()
    for device_id, r in records:
        if (device_id, r.seq) not in existing and (device_id, r.seq) not in new:
            new.add((device_id, r.seq))
            rows.append(_row(device_id, r, now))
    TelemetryRecord.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return new


def _touch_devices(batches, now) -> None:
    """Mark each sending device online and seen, and keep its highest seq and dropped count."""
    last_seq: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for device_id, message in batches:
        key = str(device_id)
        last_seq[key] = max([last_seq.get(key, -1), *(r.seq for r in message.records)])
        dropped[key] = max(dropped.get(key, 0), message.dropped)
    ids = list(last_seq)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PG_TOUCH, [now, ids, [last_seq[i] for i in ids], [dropped[i] for i in ids]])
        return
    Device.objects.filter(pk__in=ids).exclude(status=DeviceStatus.REVOKED).update(
        last_seen=now, status=DeviceStatus.ONLINE
    )
    devices = list(Device.objects.filter(pk__in=ids).only("id", "last_seq", "dropped_records"))
    for device in devices:
        device.last_seq = max(device.last_seq, last_seq[str(device.pk)])
        device.dropped_records = max(device.dropped_records, dropped[str(device.pk)])
    Device.objects.bulk_update(devices, ["last_seq", "dropped_records"])


def _existing_seqs(records) -> set[tuple[str, int]]:
    wanted: dict[str, list[int]] = defaultdict(list)
    for device_id, r in records:
        wanted[device_id].append(r.seq)
    query = Q()
    for device_id, seqs in wanted.items():
        query |= Q(device_id=device_id, seq__gte=min(seqs), seq__lte=max(seqs))
    found = TelemetryRecord.objects.filter(query).values_list("device_id", "seq")
    return {(str(device_id), seq) for device_id, seq in found}


def _row(device_id: str, record, now) -> TelemetryRecord:
    ts = datetime.fromtimestamp(record.ts, tz=UTC)
    return TelemetryRecord(
        device_id=device_id, seq=record.seq, ts=ts, received_at=now, metrics=record.metrics
    )


# --- queries -----------------------------------------------------------------------------------------


@dataclass
class Point:
    """One downsampled point: the mean, min and max of ``samples`` values in the bucket starting at ``t``."""

    t: datetime
    value: float
    min: float
    max: float
    samples: int

    def to_dict(self) -> dict:
        return {
            "t": self.t.isoformat(),
            "value": self.value,
            "min": self.min,
            "max": self.max,
            "n": self.samples,
        }


def bucket_seconds(since: datetime, until: datetime, max_points: int) -> float:
    """The bucket width that yields at most ``max_points`` points over the range (at least 1 s)."""
    span = (until - since).total_seconds()
    return max(1.0, span / max(1, max_points))


def query_series(
    device: Device, metric: str, since: datetime, until: datetime, max_points: int
) -> list[Point]:
    """One metric of one device over [since, until), at most ``max_points`` points, oldest first.

    Ranges older than the raw retention are answered from the one-minute roll-ups.
    """
    width = bucket_seconds(since, until, max_points)
    raw_cutoff = timezone.now() - timedelta(hours=settings.TELEMETRY_RAW_RETENTION_H)
    points = []
    if since < raw_cutoff:
        points += _bucketed(
            "telemetry_telemetryrollup", "bucket", device, metric, since, min(until, raw_cutoff), width
        )
    if until > raw_cutoff:
        points += _bucketed(
            "telemetry_telemetryrecord", "ts", device, metric, max(since, raw_cutoff), until, width
        )
    return points[-max_points:] if len(points) > max_points else points


def _bucketed(table, ts_col, device, metric, since, until, width) -> list[Point]:
    if connection.vendor == "postgresql":
        bucket = f"floor(extract(epoch from {ts_col}) / %s)"
        value = "(metrics ->> %s)::float"
        has = "metrics ? %s"
    else:
        bucket = f"cast(strftime('%%s', {ts_col}) / %s as integer)"
        value = "cast(json_extract(metrics, '$.\"' || %s || '\"') as real)"
        has = "json_type(metrics, '$.\"' || %s || '\"') is not null"
    sql = (
        f"select {bucket} as b, avg({value}), min({value}), max({value}), count(*) from {table} "
        f"where device_id = %s and {ts_col} >= %s and {ts_col} < %s and {has} group by b order by b"
    )
    params = [
        width,
        metric,
        metric,
        metric,
        device.pk.hex if connection.vendor != "postgresql" else device.pk,
    ]
    # A raw query's datetimes are bound as the backend stores them (SQLite compares text: an aware
    # datetime's "+00:00" would put a record at exactly ``since`` outside the range).
    params += [
        connection.ops.adapt_datetimefield_value(since),
        connection.ops.adapt_datetimefield_value(until),
    ]
    params += [metric]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Point(t=datetime.fromtimestamp(float(b) * width, tz=UTC), value=avg, min=lo, max=hi, samples=n)
        for b, avg, lo, hi, n in rows
    ]


QOS_FRESH_S = 30.0  # a stage-queue reading older than this says nothing about the device now


def latest_qos(device: Device, fresh_s: float = QOS_FRESH_S) -> dict[str, Any] | None:
    """The metrics of the device's latest record with stage queues (``qos.queued``: docs/qos.md,
    "Telemetry"), if it is no older than ``fresh_s``; None otherwise. An agent with no stage left sends no
    ``qos.*``: its last such record, however old, is not its load now."""
    return (
        TelemetryRecord.objects.filter(
            device=device, metrics__has_key="qos.queued", ts__gte=timezone.now() - timedelta(seconds=fresh_s)
        )
        .order_by("-ts")
        .values_list("metrics", flat=True)
        .first()
    )


def metric_names(device: Device, limit: int = 200) -> list[str]:
    """The metric names in the device's latest record (what a chart can ask for)."""
    latest = TelemetryRecord.objects.filter(device=device).order_by("-seq").only("metrics").first()
    return sorted(latest.metrics)[:limit] if latest else []


# --- upkeep ------------------------------------------------------------------------------------------


def roll_up(now: datetime | None = None, chunk: int = 20000) -> dict[str, int]:
    """Fold raw records older than the raw retention into one-minute roll-ups, dropping the peaks of the
    same span; drop roll-ups past their retention."""
    now = now or timezone.now()
    cutoff = (now - timedelta(hours=settings.TELEMETRY_RAW_RETENTION_H)).replace(second=0, microsecond=0)
    folded = 0
    while True:
        with transaction.atomic():
            batch = list(
                TelemetryRecord.objects.select_for_update(skip_locked=True)
                .filter(ts__lt=cutoff)
                .order_by("device_id", "ts")
                .values("id", "device_id", "ts", "metrics")[:chunk]
            )
            if not batch:
                break
            _merge_rollups(batch)
            TelemetryRecord.objects.filter(id__in=[r["id"] for r in batch]).delete()
        folded += len(batch)
    TelemetryPeak.objects.filter(bucket__lt=cutoff.timestamp()).delete()
    expiry = now - timedelta(days=settings.TELEMETRY_ROLLUP_RETENTION_D)
    expired, _ = TelemetryRollup.objects.filter(bucket__lt=expiry).delete()
    if folded or expired:
        log.info("telemetry roll-up: folded %d raw records, expired %d roll-ups", folded, expired)
    return {"folded": folded, "expired": expired}


def _merge_rollups(batch: list) -> None:
    sums: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0]))
    samples: dict[tuple, int] = defaultdict(int)
    for row in batch:
        key = (row["device_id"], row["ts"].replace(second=0, microsecond=0))
        samples[key] += 1
        for name, value in row["metrics"].items():
            acc = sums[key][name]
            acc[0] += value
            acc[1] += 1
    existing = {
        (r.device_id, r.bucket): r
        for r in TelemetryRollup.objects.select_for_update().filter(
            device_id__in={k[0] for k in samples}, bucket__in={k[1] for k in samples}
        )
    }
    new, changed = [], []
    for key, n in samples.items():
        means = {name: total / count for name, (total, count) in sums[key].items()}
        old = existing.get(key)
        if old is None:
            new.append(TelemetryRollup(device_id=key[0], bucket=key[1], samples=n, metrics=means))
            continue
        # A minute split across two roll-up runs: weight each side by its sample count.
        total = old.samples + n
        names = set(old.metrics) | set(means)
        old.metrics = {k: _weighted(old.metrics.get(k), old.samples, means.get(k), n) for k in names}
        old.samples = total
        changed.append(old)
    TelemetryRollup.objects.bulk_create(new)
    TelemetryRollup.objects.bulk_update(changed, ["samples", "metrics"])


def _weighted(a: float | None, na: int, b: float | None, nb: int) -> float:
    if a is None:
        return b  # type: ignore[return-value]
    if b is None:
        return a
    return (a * na + b * nb) / (na + nb)


def latest_values(device_ids: list, names: list[str] | None = None) -> dict[str, dict]:
    """The most recent record of each device (for lists and sparklines), keyed by device id."""
    latest = (
        TelemetryRecord.objects.filter(device_id__in=device_ids).values("device_id").annotate(seq=Max("seq"))
    )
    query = Q()
    for row in latest:
        query |= Q(device_id=row["device_id"], seq=row["seq"])
    if not query:
        return {}
    out = {}
    for rec in TelemetryRecord.objects.filter(query).values("device_id", "ts", "metrics"):
        metrics = (
            rec["metrics"] if names is None else {k: rec["metrics"][k] for k in names if k in rec["metrics"]}
        )
        out[str(rec["device_id"])] = {"ts": rec["ts"].isoformat(), "metrics": metrics}
    return out


def latest_metric(device, name: str) -> float | None:
    """The device's most recently reported value of metric ``name`` (None: never reported)."""
    metrics = (
        TelemetryRecord.objects.filter(device=device, metrics__has_key=name)
        .order_by("-ts")
        .values_list("metrics", flat=True)
        .first()
    )
    return None if metrics is None else float(metrics[name])


def export_records(device: Device, since: datetime, until: datetime, limit: int) -> list[dict] | None:
    """The device's telemetry in [since, until) as flat rows, oldest first: ``t``, ``samples`` (1 for a raw
    record, the minute's count for a roll-up, which older ranges come from) and one column per metric.
    None when the range holds more than ``limit`` rows (the caller asks for a shorter one)."""
    rollups = TelemetryRollup.objects.filter(device=device, bucket__gte=since, bucket__lt=until)
    records = TelemetryRecord.objects.filter(device=device, ts__gte=since, ts__lt=until)
    if rollups.count() + records.count() > limit:
        return None
    rows = [
        {"t": r.bucket.isoformat(), "samples": r.samples, **r.metrics}
        for r in rollups.order_by("bucket").only("bucket", "samples", "metrics")
    ]
    rows += [
        {"t": r.ts.isoformat(), "samples": 1, **r.metrics}
        for r in records.order_by("ts").only("ts", "metrics")
    ]
    return rows
