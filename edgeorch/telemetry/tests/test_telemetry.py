"""Telemetry storage: exactly once, downsampled on query, rolled up with age; liveness from silence."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from edgeorch_wire.protocol import Record, Telemetry

from edgeorch.devices import services as devices
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device
from edgeorch.telemetry import services
from edgeorch.telemetry.models import TelemetryPeak, TelemetryRecord, TelemetryRollup

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


@pytest.fixture
def device():
    _, plain = devices.create_enrollment_token(max_uses=10)
    return devices.enroll_device(plain, name="pi-1").device


def batch(start, count, t0=None, step=1.0, dropped=0, **extra):
    t0 = t0 if t0 is not None else timezone.now().timestamp() - count
    records = [
        Record(seq=start + i, ts=t0 + i * step, metrics={"cpu.percent": float(i), **extra})
        for i in range(count)
    ]
    return Telemetry(records=records, dropped=dropped)


def test_a_batch_is_stored_once_even_when_resent(device):
    first = services.store_batches([(device.pk, batch(0, 5))])[0]
    assert (first.stored, first.duplicates, first.seqs) == (5, 0, [0, 1, 2, 3, 4])
    again = services.store_batches([(device.pk, batch(3, 4))])[0]
    assert (again.stored, again.duplicates) == (2, 2)
    assert list(TelemetryRecord.objects.filter(device=device).values_list("seq", flat=True)) == list(range(7))
    device.refresh_from_db()
    assert device.last_seq == 6 and device.status == DeviceStatus.ONLINE and device.last_seen is not None


def test_the_latest_value_of_a_metric_is_the_newest_record_that_has_it(device):
    services.store_batches([(device.pk, batch(0, 3, **{"temp.emulated": 40.0}))])
    services.store_batches([(device.pk, batch(3, 2))])  # newer, without it
    assert services.latest_metric(device, "temp.emulated") == 40.0
    services.store_batches([(device.pk, batch(5, 1, **{"temp.emulated": 71.5}))])
    assert services.latest_metric(device, "temp.emulated") == 71.5
    assert services.latest_metric(device, "temp.never") is None


def test_one_flush_stores_many_devices_and_keeps_each_result_apart(device):
    _, plain = devices.create_enrollment_token()
    other = devices.enroll_device(plain, name="pi-2").device
    results = services.store_batches(
        [(device.pk, batch(0, 3)), (other.pk, batch(0, 2)), (device.pk, batch(2, 2))]
    )
    assert [(r.stored, r.duplicates) for r in results] == [(3, 0), (2, 0), (1, 1)]
    assert TelemetryRecord.objects.filter(device=other).count() == 2


def test_dropped_records_reported_by_the_agent_are_kept_on_the_device(device):
    services.store_batches([(device.pk, batch(0, 1, dropped=17))])
    device.refresh_from_db()
    assert device.dropped_records == 17


def test_telemetry_never_brings_a_revoked_device_back_online(device):
    devices.revoke_device(device)
    services.store_batches([(device.pk, batch(0, 1))])
    device.refresh_from_db()
    assert device.status == DeviceStatus.REVOKED


def test_downsampling_averages_each_bucket(device, settings):
    settings.TELEMETRY_RAW_RETENTION_H = 24 * 365 * 10
    start = datetime(2026, 1, 1, tzinfo=UTC)
    services.store_batches([(device.pk, batch(0, 600, t0=start.timestamp()))])
    points = services.query_series(device, "cpu.percent", start, start + timedelta(seconds=600), 60)
    assert len(points) == 60
    assert [p.samples for p in points] == [10] * 60
    assert points[0].value == pytest.approx(4.5) and points[0].min == 0 and points[0].max == 9
    assert points[-1].value == pytest.approx(594.5)
    assert points[1].t == start + timedelta(seconds=10)


def test_a_metric_missing_from_some_records_is_absent_not_zero(device, settings):
    settings.TELEMETRY_RAW_RETENTION_H = 24 * 365 * 10
    start = datetime(2026, 1, 1, tzinfo=UTC)
    services.store_batches([(device.pk, batch(0, 10, t0=start.timestamp()))])
    services.store_batches([(device.pk, batch(10, 10, t0=start.timestamp() + 10, **{"temp.cpu": 50.0}))])
    points = services.query_series(device, "temp.cpu", start, start + timedelta(seconds=20), 100)
    assert [p.value for p in points] == [50.0] * 10
    assert points[0].t == start + timedelta(seconds=10)


def test_roll_up_folds_old_records_into_minutes_and_queries_still_answer(device, settings):
    now = timezone.now().replace(microsecond=0)
    settings.TELEMETRY_RAW_RETENTION_H = 1
    old_start = (now - timedelta(hours=3)).replace(second=0)
    services.store_batches([(device.pk, batch(0, 120, t0=old_start.timestamp()))])
    services.store_batches([(device.pk, batch(120, 10, t0=now.timestamp() - 20))])
    peaks = TelemetryPeak.objects.filter(device=device, bucket__lt=now.timestamp() - 60)
    assert peaks.count() == (4 if connection.vendor == "postgresql" else 0)  # 120 s, in 30 s buckets
    result = services.roll_up(now=now)
    assert result["folded"] == 120
    assert TelemetryRecord.objects.filter(device=device).count() == 10
    minutes = list(TelemetryRollup.objects.filter(device=device).order_by("bucket"))
    assert [m.samples for m in minutes] == [60, 60]
    assert minutes[0].metrics["cpu.percent"] == pytest.approx(29.5)
    # Running it again changes nothing: the task is idempotent.
    assert services.roll_up(now=now)["folded"] == 0
    points = services.query_series(device, "cpu.percent", old_start, now, 1000)
    assert points[0].value == pytest.approx(29.5) and points[0].samples == 1
    assert sum(p.samples for p in points if p.t >= now - timedelta(minutes=1)) == 10
    if connection.vendor == "postgresql":  # the fleet's peaks (kept there) go with the raw records
        buckets = TelemetryPeak.objects.filter(device=device).values_list("bucket", flat=True)
        assert buckets and min(buckets) >= now.timestamp() - 60


def test_roll_ups_expire_after_their_retention(device, settings):
    now = timezone.now()
    TelemetryRollup.objects.create(
        device=device, bucket=now - timedelta(days=40), samples=1, metrics={"x": 1.0}
    )
    TelemetryRollup.objects.create(
        device=device, bucket=now - timedelta(days=1), samples=1, metrics={"x": 1.0}
    )
    settings.TELEMETRY_ROLLUP_RETENTION_D = 30
    assert services.roll_up(now=now)["expired"] == 1
    assert TelemetryRollup.objects.count() == 1


def test_a_silent_device_is_marked_offline_and_keeps_last_seen(device, settings):
    settings.LIVENESS_TIMEOUT_S = 10
    services.store_batches([(device.pk, batch(0, 1))])
    device.refresh_from_db()
    seen = device.last_seen
    assert devices.mark_stale_offline(now=seen + timedelta(seconds=5)) == 0
    assert devices.mark_stale_offline(now=seen + timedelta(seconds=11)) == 1
    device.refresh_from_db()
    assert device.status == DeviceStatus.OFFLINE and device.last_seen == seen


def test_the_liveness_beat_task_is_registered_and_runs(device, settings):
    from edgeorch.celery import app
    from edgeorch.devices.tasks import mark_stale_offline

    app.loader.import_default_modules()
    assert "devices.mark_stale_offline" in app.tasks and "telemetry.roll_up" in app.tasks
    Device.objects.filter(pk=device.pk).update(
        status=DeviceStatus.ONLINE, last_seen=timezone.now() - timedelta(hours=1)
    )
    assert mark_stale_offline.apply().get() == 1


def test_the_telemetry_endpoint_downsamples_and_validates(client, alice, device, settings):
    settings.TELEMETRY_RAW_RETENTION_H = 24 * 365 * 10
    start = datetime(2026, 1, 1, tzinfo=UTC)
    services.store_batches([(device.pk, batch(0, 100, t0=start.timestamp()))])
    from edgeorch.api.keys import create_key

    client.defaults["HTTP_AUTHORIZATION"] = f"Token {create_key(alice)}"
    url = f"/api/devices/{device.pk}/telemetry/"
    body = client.get(
        url,
        {
            "metric": "cpu.percent",
            "since": start.isoformat(),
            "until": (start + timedelta(seconds=100)).isoformat(),
            "max_points": 10,
        },
    ).json()
    assert len(body["points"]) == 10 and body["bucket_seconds"] == 10
    assert body["points"][0]["value"] == pytest.approx(4.5)
    assert body["metrics"] == ["cpu.percent"]
    assert client.get(url).status_code == 400
    assert "ISO 8601" in client.get(url, {"metric": "x", "since": "yesterday"}).json()["since"]
    assert client.get(url, {"metric": "x", "max_points": 0}).status_code == 400


# --- isolation (issue 17): one device's bad batch never fails another's ---------------------------------


def poisoned(**record) -> Telemetry:
    """A batch that passed no decoder (the wire refuses these values): what a write must survive anyway."""
    return Telemetry(records=[Record(**{"seq": 0, "ts": 1e9, "metrics": {"cpu.percent": 1.0}, **record})])


@pytest.mark.parametrize(
    "bad", [{"seq": 2**63}, {"ts": 1e20}, {"ts": float("inf")}, {"metrics": {"x": float("nan")}}]
)
def test_a_poisoned_batch_beside_an_innocent_one_stores_the_innocent(device, bad):
    _, plain = devices.create_enrollment_token()
    mallory = devices.enroll_device(plain, name="mallory").device
    innocent, guilty = services.store_batches([(device.pk, batch(0, 3)), (mallory.pk, poisoned(**bad))])
    assert (innocent.stored, innocent.seqs) == (3, [0, 1, 2])
    assert isinstance(guilty, services.BatchRefused)
    assert list(TelemetryRecord.objects.values_list("device_id", "seq")) == [(device.pk, s) for s in range(3)]
    device.refresh_from_db()
    mallory.refresh_from_db()
    assert device.last_seq == 2 and mallory.last_seq == -1


@pytest.mark.django_db(transaction=True)
def test_a_batch_the_database_refuses_fails_alone_and_the_others_are_stored(device):
    """A device deleted while its socket lives: its records break a foreign key when the write commits."""
    import uuid

    ghost = uuid.uuid4()
    first, refused, last = services.store_batches(
        [(device.pk, batch(0, 2)), (ghost, batch(0, 2)), (device.pk, batch(2, 2))]
    )
    assert (first.stored, last.stored) == (2, 2)
    assert isinstance(refused, services.BatchRefused) and "database refused" in str(refused)
    assert list(TelemetryRecord.objects.values_list("seq", flat=True)) == [0, 1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_the_shared_writer_answers_the_innocent_and_refuses_only_the_guilty(device):
    import asyncio

    from edgeorch.telemetry.ingest import TelemetryIngestor

    _, plain = devices.create_enrollment_token()
    mallory = devices.enroll_device(plain, name="mallory").device

    async def go():
        ingestor = TelemetryIngestor(linger=0.05)  # both batches land in one flush
        return await asyncio.gather(
            ingestor.submit(str(device.pk), batch(0, 2)),
            ingestor.submit(str(mallory.pk), poisoned(ts=float("inf"))),
            return_exceptions=True,
        )

    innocent, guilty = asyncio.run(go())
    assert innocent.stored == 2 and isinstance(guilty, services.BatchRefused)
    assert TelemetryRecord.objects.filter(device=device).count() == 2
    assert not TelemetryRecord.objects.filter(device=mallory).exists()
