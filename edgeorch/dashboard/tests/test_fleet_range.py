"""The fleet snapshot over a picked time range (``GET /api/dashboard/fleet/?since=&until=``, the fleet page's
range picker): the peaks of the range's buckets from the raw records (or their stored 30 s peaks) and the
one-minute roll-ups before the raw retention, for the whole fleet in one request; a range that ends now
takes events as the live window does."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from edgeorch_wire import protocol as p

from edgeorch import events, layer
from edgeorch.dashboard import snapshots
from edgeorch.telemetry.models import TelemetryRecord, TelemetryRollup
from edgeorch.telemetry.services import store_batches

from . import test_dashboard
from .test_dashboard import comparable, enroll, hello, send_telemetry

published = test_dashboard.published  # its fixture: the events published, the channel layer bypassed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.demo]


def store(device, records: list[tuple[int, float, dict]]) -> None:
    store_batches(
        [(str(device.pk), p.Telemetry(records=[p.Record(seq=s, ts=t, metrics=m) for s, t, m in records]))]
    )


def peak(snapshot: dict, name: str, metric: str) -> float | None:
    row = next(r for r in snapshot["devices"] if r["name"] == name)
    return max((v for _, v in row["series"][metric]), default=None)


@pytest.fixture
def history():
    """``pi``: 90 °C and 99 % CPU three hours ago, 50 °C now; a roll-up of three days ago at 75 °C (a mean);
    ``nuc``: nothing but 30 °C now."""
    pi, nuc = enroll("pi"), enroll("nuc")
    now = time.time()
    store(pi, [(i, now - 3 * 3600 + i * 60, {"temp.cpu": 90.0 - i, "cpu.percent": 99.0}) for i in range(5)])
    store(pi, [(10 + i, now - 180 + i * 30, {"temp.cpu": 50.0, "cpu.percent": 20.0}) for i in range(6)])
    store(nuc, [(0, now - 20, {"temp.soc": 30.0}), (1, now - 5, {"temp.soc": 30.0})])
    minute = (timezone.now() - timedelta(days=3)).replace(second=0, microsecond=0)
    TelemetryRollup.objects.create(
        device=pi,
        bucket=minute,
        samples=60,
        metrics={"temp.cpu": 75.0, "temp.gpu": 70.0, "cpu.percent": 10.0},
    )
    return pi, nuc, now


def test_each_range_shows_the_peaks_of_its_own_buckets(history):
    pi, nuc, now = history
    at = datetime.fromtimestamp(now, tz=UTC)
    live = snapshots.fleet_snapshot()
    assert "since" not in live and peak(live, "pi", "temp.max") == 50.0  # the last 15 minutes

    six = snapshots.fleet_snapshot(since=at - timedelta(hours=6), until=at)
    assert six["bucket_s"] == 360 and six["points"] in (60, 61)
    assert six["since"] == (at - timedelta(hours=6)).isoformat() and six["until"] == at.isoformat()
    assert peak(six, "pi", "temp.max") == 90.0 and peak(six, "pi", "cpu.percent") == 99.0
    assert peak(six, "nuc", "temp.max") == 30.0 and peak(six, "nuc", "cpu.percent") is None
    buckets = [b for b, _ in next(r for r in six["devices"] if r["name"] == "pi")["series"]["temp.max"]]
    assert buckets == sorted(buckets) and all(b % 360 == 0 for b in buckets)

    week = snapshots.fleet_snapshot(since=at - timedelta(days=7), until=at)
    assert week["bucket_s"] == 10080
    assert peak(week, "pi", "temp.max") == 90.0 and len(week["devices"][1]["series"]["temp.max"]) >= 3
    # Before the raw retention only the roll-ups' means are left: its hottest sensor's mean, 75 °C.
    old = snapshots.fleet_snapshot(since=at - timedelta(days=4), until=at - timedelta(days=2))
    assert peak(old, "pi", "temp.max") == 75.0 and peak(old, "pi", "cpu.percent") == 10.0

    # A range that ended two hours ago: the old records only.
    custom = snapshots.fleet_snapshot(since=at - timedelta(hours=4), until=at - timedelta(hours=2))
    assert custom["bucket_s"] == 120
    assert peak(custom, "pi", "temp.max") == 90.0 and peak(custom, "nuc", "temp.max") is None
    assert len(next(r for r in custom["devices"] if r["name"] == "pi")["series"]["temp.max"]) == 3
    # The rest of a row is as of now.
    assert next(r for r in custom["devices"] if r["name"] == "pi")["latest"]["metrics"]["temp.max"] == 50.0


def test_the_stored_peaks_give_the_range_that_folding_the_records_gives(history):
    """On PostgreSQL a range is read from the 30 s peaks kept with the records and the roll-ups: the same
    series as folding every raw record and roll-up of the range one by one (``_fold_series``)."""
    if connection.vendor != "postgresql":
        pytest.skip("the peaks are kept by PostgreSQL's ingest statement")
    _, _, now = history
    at = datetime.fromtimestamp(now, tz=UTC)
    for since, until in ((at - timedelta(hours=6), at), (at - timedelta(days=7), at + timedelta(minutes=1))):
        shape = snapshots.range_shape(since, until, 60)
        stored = snapshots._rows(shape, None, timezone.now())
        folded = {row["id"]: {m: [] for m in shape["series_metrics"]} for row in stored}
        for model, ts in ((TelemetryRollup, "bucket"), (TelemetryRecord, "ts")):
            rows = model.objects.filter(**{f"{ts}__gte": since, f"{ts}__lt": until}).order_by(ts)
            for device, when, metrics in rows.values_list("device_id", ts, "metrics"):
                sample = {"ts": when.timestamp(), "metrics": events.compact_metrics(metrics)}
                snapshots._fold_series(shape, {"series": folded[str(device)]}, sample, trim=False)
        assert {row["id"]: row["series"] for row in stored} == folded
        assert sum(len(points) for series in folded.values() for points in series.values()) >= 4


def test_a_range_that_ends_now_plus_the_events_equals_a_fresh_one(published):
    pi = enroll("pi")
    hello(pi)
    now = time.time()
    send_telemetry(pi, 0, now - 1800, **{"cpu.percent": 12.5, "temp.cpu": 51.0})
    since, until = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(minutes=2)
    before = snapshots.fleet_snapshot(since=since, until=until)
    layer.drain()
    published.clear()

    send_telemetry(pi, 1, now - 1, **{"cpu.percent": 80.0, "temp.cpu": 66.5, "temp.gpu": 70.25})
    send_telemetry(pi, 2, now, **{"cpu.percent": 20.0, "temp.cpu": 60.0})
    layer.drain()
    applied = before
    for event in published:
        applied = snapshots.apply_event(applied, event)
    fresh = snapshots.fleet_snapshot(since=since, until=until)
    mine, theirs = comparable(applied, fresh)
    assert mine == theirs
    assert peak(fresh, "pi", "temp.max") == 70.25 and len(fresh["devices"][0]["series"]["temp.max"]) >= 2


def test_a_range_costs_the_same_few_queries_for_any_number_of_devices(
    published, django_assert_max_num_queries
):
    now = time.time()
    for i in range(30):
        device = enroll(f"dev-{i:02}")
        store(
            device,
            [(s, now - 7200 + s * 600, {"cpu.percent": float(s), "temp.cpu": 40.0 + i}) for s in range(8)],
        )
    since = timezone.now() - timedelta(hours=24)
    # PostgreSQL: one statement in its own transaction, as the live one; SQLite: the devices, then the
    # records' and the roll-ups' peaks grouped by the database. Then the profiles under way.
    with django_assert_max_num_queries(5 if connection.vendor == "postgresql" else 4):
        snapshot = snapshots.fleet_snapshot(since=since)
    assert len(snapshot["devices"]) == 30
    assert all(len(row["series"]["cpu.percent"]) >= 3 for row in snapshot["devices"])


def test_the_api_serves_a_range_and_refuses_a_bad_one_in_words(client, bob, history):
    client.force_login(bob)
    until = timezone.now()
    since = (until - timedelta(hours=6)).isoformat()
    body = client.get(
        "/api/dashboard/fleet/", {"since": since, "until": until.isoformat(), "points": 30}
    ).json()
    assert body["bucket_s"] == 720 and body["since"] == since and "energy" in body
    assert (
        max(v for _, v in next(r for r in body["devices"] if r["name"] == "pi")["series"]["temp.max"]) == 90.0
    )
    live = client.get("/api/dashboard/fleet/").json()
    assert live["bucket_s"] == snapshots.FLEET["bucket_s"] and "since" not in live
    hour = client.get("/api/dashboard/fleet/", {"until": until.isoformat()}).json()  # since: an hour before
    assert hour["bucket_s"] == 60 and hour["since"] == (until - timedelta(hours=1)).isoformat()

    for query, field in (
        ({"since": "yesterday"}, "since"),
        ({"since": since, "until": since}, "since"),
        ({"since": since, "points": "many"}, "points"),
        ({"since": since, "points": 0}, "points"),
        ({"since": since, "points": snapshots.MAX_RANGE_POINTS + 1}, "points"),
        ({"until": ""}, "until"),
        ({"points": "many"}, "points"),
    ):
        response = client.get("/api/dashboard/fleet/", query)
        assert response.status_code == 400 and field in response.json(), (query, response.content)
