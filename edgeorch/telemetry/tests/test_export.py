"""GET /api/devices/{id}/telemetry/export/: a device's records over a range, as CSV or JSON, the roll-ups
where the range is older than the raw retention."""

import csv
from datetime import timedelta

import pytest
from django.utils import timezone
from edgeorch_wire.protocol import Record, Telemetry

from edgeorch.api.keys import create_key
from edgeorch.devices import services as devices
from edgeorch.telemetry import api, services

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


@pytest.fixture
def device():
    _, plain = devices.create_enrollment_token(max_uses=1)
    return devices.enroll_device(plain, name="pi-1").device


@pytest.fixture
def viewer(client, bob):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {create_key(bob)}"
    return client


def store(device, start: int, count: int, t0: float, step: float = 1.0, **metrics) -> None:
    records = [
        Record(seq=start + i, ts=t0 + i * step, metrics={"cpu.percent": float(i), **metrics})
        for i in range(count)
    ]
    services.store_batches([(device.pk, Telemetry(records=records))])


def test_the_range_comes_as_csv_from_roll_ups_then_raw_records(viewer, device, settings):
    now = timezone.now().replace(microsecond=0)
    settings.TELEMETRY_RAW_RETENTION_H = 1
    old = (now - timedelta(hours=3)).replace(second=0)
    store(device, 0, 120, old.timestamp())  # two minutes, rolled up below
    store(device, 120, 5, now.timestamp() - 10, **{"temp.max": 50.0})
    services.roll_up(now=now)
    url = f"/api/devices/{device.pk}/telemetry/export/"
    since = (now - timedelta(hours=4)).isoformat()
    response = viewer.get(url, {"format": "csv", "since": since, "until": now.isoformat()})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith(f'attachment; filename="telemetry-{device.pk}-')
    rows = list(csv.DictReader(response.content.decode().splitlines()))
    assert [r["samples"] for r in rows] == ["60", "60", "1", "1", "1", "1", "1"]
    assert float(rows[0]["cpu.percent"]) == pytest.approx(29.5)
    assert rows[0]["temp.max"] == "" and rows[-1]["temp.max"] == "50.0"  # a metric a record lacks: empty
    assert [r["t"] for r in rows] == sorted(r["t"] for r in rows)


def test_json_by_default_over_the_last_hour_and_refusals_in_words(viewer, device, monkeypatch):
    store(device, 0, 3, timezone.now().timestamp() - 30)
    store(device, 3, 1, timezone.now().timestamp() - 2 * 3600)  # before the default hour
    url = f"/api/devices/{device.pk}/telemetry/export/"
    body = viewer.get(url).json()
    assert [r["cpu.percent"] for r in body] == [0.0, 1.0, 2.0]
    backwards = viewer.get(url, {"since": timezone.now().isoformat(), "until": "2020-01-01T00:00:00Z"})
    assert backwards.status_code == 400 and "before" in backwards.json()["since"]
    monkeypatch.setattr(api, "EXPORT_LIMIT", 2)
    too_many = viewer.get(url)
    assert too_many.status_code == 400 and "More than 2 records" in too_many.json()["detail"]
