"""A profile's progress, block by block: what the control plane accepts from the agent (called as the gateway
would after decoding ``profile_progress``), and the ``profile.progress`` events folded into the fleet and
device snapshots, which then equal fresh ones."""

from __future__ import annotations

import pytest
from edgeorch_wire import protocol as p

from edgeorch import events, layer
from edgeorch.dashboard import snapshots
from edgeorch.devices import services as devices
from edgeorch.gateway.registry import Refusal
from edgeorch.jobs.models import Measurement
from edgeorch.jobs.services import authorise, measurements

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.demo]


@pytest.fixture
def published(monkeypatch):
    sent: list[dict] = []

    async def capture(event):
        sent.append(event)

    monkeypatch.setattr(events, "_send", capture)
    return sent


def online(name: str):
    _, token = devices.create_enrollment_token()
    device = devices.enroll_device(token, name=name).device
    device.status, device.channel_name = "online", f"fake.{name}"
    device.save()
    return device


def progress(m: Measurement, done: int, total: int) -> p.ProfileProgress:
    return p.ProfileProgress(str(m.pk), done, total)


def test_a_profiles_progress_is_kept_pushed_live_and_folds_into_the_snapshots(published, digits):
    phone, edge = online("phone"), online("edge")
    m = measurements.request_profile(phone, digits, base_url="http://cp")
    total = m.result["total"]
    assert total == len(digits.blocks) > 1
    fleet, page = snapshots.fleet_snapshot(), snapshots.device_snapshot(edge)
    assert [(e["device_name"], e["done"], e["total"]) for e in fleet["profiling"]] == [("phone", 0, total)]
    assert page["profiling"] == []  # the edge's page shows only the edge's profiles
    layer.drain()
    published.clear()

    for done in range(1, total + 1):
        measurements.record_profile_progress(phone.pk, progress(m, done, total))
    assert Measurement.objects.get(pk=m.pk).result == {"done": total, "total": total}
    blocks = [{"block": i, "median_s": 0.001, "p90_s": 0.002, "runs": 3} for i in range(total)]
    measurements.record_profile(phone.pk, p.ProfileResult(str(m.pk), blocks, {}))
    measurements.record_profile_progress(phone.pk, progress(m, 1, total))  # late: changes nothing

    layer.drain()
    assert [(e["kind"], e["data"]["state"], e["data"]["done"]) for e in published] == [
        *(("profile.progress", "pending", done) for done in range(1, total + 1)),
        ("profile.progress", "done", total),
    ]
    assert all(e["topics"] == ["fleet", f"device:{phone.pk}"] for e in published)
    middle = snapshots.apply_event(fleet, published[0])
    assert middle["profiling"][0]["done"] == 1 and fleet["profiling"][0]["done"] == 0
    for event in published:
        fleet, page = snapshots.apply_event(fleet, event), snapshots.apply_event(page, event)
    assert fleet["profiling"] == snapshots.fleet_snapshot()["profiling"] == []
    assert page == snapshots.apply_event(page, published[0])  # another device's profile: not on this page


def test_progress_that_contradicts_the_profile_asked_for_is_refused_and_changes_nothing(published, digits):
    phone, edge = online("phone"), online("edge")
    m = measurements.request_profile(phone, digits, base_url="http://cp")
    total = m.result["total"]
    measurements.record_profile_progress(phone.pk, progress(m, 2, total))
    with pytest.raises(Refusal, match=f"total is {total + 1}, but the profile has {total} blocks"):
        measurements.record_profile_progress(phone.pk, progress(m, 2, total + 1))
    with pytest.raises(Refusal, match="done went back from 2 to 1"):
        measurements.record_profile_progress(phone.pk, progress(m, 1, total))
    with pytest.raises(Refusal, match="not addressed to this device"):  # the edge speaks of phone's work
        authorise.check_measurement(edge.pk, str(m.pk), Measurement.PROFILE)
    assert Measurement.objects.get(pk=m.pk).result == {"done": 2, "total": total}
    assert measurements.record_profile_progress(edge.pk, progress(m, 3, total)) is None
    assert Measurement.objects.get(pk=m.pk).result == {"done": 2, "total": total}
