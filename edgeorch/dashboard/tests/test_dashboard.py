"""The dashboard's live model: one publish function, topic-filtered sockets, snapshots + events = snapshot."""

from __future__ import annotations

import asyncio
import copy
import time
from datetime import datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.utils import timezone
from edgeorch_wire import protocol as p

from edgeorch import events, layer
from edgeorch.dashboard import snapshots
from edgeorch.dashboard.consumers import CLOSE_NOT_LOGGED_IN, DashboardConsumer, forward
from edgeorch.devices import services
from edgeorch.devices.models import Device
from edgeorch.telemetry.services import store_batches

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.demo]


@pytest.fixture
def published(monkeypatch):
    """Every event that went through ``publish``/``apublish``, in order (the channel layer is bypassed)."""
    sent: list[dict] = []

    async def capture(event):
        sent.append(event)

    monkeypatch.setattr(events, "_send", capture)
    return sent


def enroll(name: str) -> Device:
    _, plain = services.create_enrollment_token(max_uses=1)
    return services.enroll_device(plain, name=name).device


def enroll_in_a_thread(name: str) -> None:
    try:
        enroll(name)
    finally:
        connection.close()  # the thread's own connection, or the test database cannot be dropped


def hello(device: Device, profile: str | None = None) -> Device:
    message = p.Hello(
        device_id=str(device.pk), agent_version="1.0", inventory={"hostname": "h"}, profile=profile
    )
    return services.record_hello(device, message, channel_name=f"chan-{device.pk}")


def send_telemetry(device: Device, seq: int, ts: float, **metrics) -> None:
    """What the ingest writer does for one flush: store, then publish the latest sample per device."""
    batch = [(str(device.pk), p.Telemetry(records=[p.Record(seq=seq, ts=ts, metrics=metrics)]))]
    store_batches(batch)
    events.publish("telemetry", events.telemetry_data(batch))


def comparable(snapshot: dict, other: dict) -> tuple[dict, dict]:
    """Two snapshots with each device's last_seen compared apart: a telemetry event stamps it with the
    writer's clock, a few milliseconds after the database's own ``now()`` of the same flush (cutting both to
    the second failed when the two fell either side of one)."""
    snapshot, other = copy.deepcopy(snapshot), copy.deepcopy(other)
    seen = {row["id"]: row["last_seen"] for row in other["devices"]}
    for row in snapshot["devices"]:
        mine, theirs = row["last_seen"], seen.get(row["id"])
        assert (mine is None) == (theirs is None), (row["name"], mine, theirs)
        if mine is not None and theirs is not None:
            gap = abs((datetime.fromisoformat(mine) - datetime.fromisoformat(theirs)).total_seconds())
            assert gap < 1.0, (row["name"], mine, theirs)
    for row in (*snapshot["devices"], *other["devices"]):
        row["last_seen"] = None
    return snapshot, other


def test_a_fleet_snapshot_plus_the_published_events_equals_a_fresh_snapshot(published):
    pi = enroll("pi-kitchen")
    hello(pi)
    now = time.time()
    send_telemetry(pi, 0, now - 40, **{"cpu.percent": 12.5, "mem.used_percent": 40.0, "temp.cpu": 51.0})
    before = snapshots.fleet_snapshot()
    layer.drain()
    published.clear()

    jetson = enroll("jetson")  # a new device appears
    hello(jetson)
    send_telemetry(pi, 1, now - 1, **{"cpu.percent": 80.0, "temp.cpu": 66.5, "temp.gpu": 70.25})
    send_telemetry(pi, 2, now, **{"cpu.percent": 20.0, "temp.cpu": 60.0, "cpu.throttle_factor": 1.5})
    send_telemetry(jetson, 0, now, **{"cpu.percent": 5.0, "power.watts": 7.5})
    services.record_disconnect(jetson.pk, f"chan-{jetson.pk}")
    old = enroll("old-nuc")
    hello(old)
    services.mark_stale_offline(now=timezone.now() + timedelta(minutes=5))  # the liveness sweep, later
    services.revoke_device(pi)

    layer.drain()  # publish returns before its event has left
    applied = before
    for event in published:
        applied = snapshots.apply_event(applied, event)
    fresh = snapshots.fleet_snapshot()
    assert [e["kind"] for e in published].count("telemetry") == 3
    assert {r["name"]: r["status"] for r in fresh["devices"]} == {
        "jetson": "offline",
        "old-nuc": "offline",
        "pi-kitchen": "revoked",
    }
    mine, theirs = comparable(applied, fresh)
    assert mine == theirs
    pi_row = next(r for r in fresh["devices"] if r["name"] == "pi-kitchen")
    assert pi_row["latest"]["metrics"] == {"cpu.percent": 20.0, "temp.max": 60.0, "cpu.throttle_factor": 1.5}
    assert max(v for _, v in pi_row["series"]["temp.max"]) == 70.25


def test_applying_an_event_twice_changes_nothing(published):
    pi = enroll("pi")
    hello(pi)
    snapshot = snapshots.fleet_snapshot()
    send_telemetry(pi, 0, time.time(), **{"cpu.percent": 33.0, "temp.soc": 45.0})
    layer.drain()
    once = snapshots.apply_event(snapshot, published[-1])
    assert snapshots.apply_event(once, published[-1]) == once
    assert snapshot["devices"][0]["latest"] is None  # apply_event leaves its argument alone


def test_a_device_page_snapshot_ignores_other_devices_and_follows_its_own(published):
    pi, other = enroll("pi"), enroll("other")
    hello(pi)
    snapshot = snapshots.device_snapshot(pi)
    send_telemetry(
        pi, 0, time.time(), **{"cpu.percent": 10.0, "mem.used_percent": 50.0, "cpu.freq_mhz": 1500.0}
    )
    hello(other)
    layer.drain()
    for event in published:
        snapshot = snapshots.apply_event(snapshot, event)
    assert [r["name"] for r in snapshot["devices"]] == ["pi"]
    mine, theirs = comparable(snapshot, snapshots.device_snapshot(pi))
    assert mine == theirs


def test_the_fleet_snapshot_costs_the_same_few_queries_for_any_number_of_devices(
    published, django_assert_max_num_queries
):
    now = time.time()
    for i in range(30):
        device = enroll(f"dev-{i:02}")
        for seq in range(5):
            send_telemetry(
                device, seq, now - 60 + seq * 10, **{"cpu.percent": float(seq), "temp.cpu": 40.0 + i}
            )
    # The rows: one statement on PostgreSQL (in a transaction of its own, its JIT off: savepoint, set, the
    # statement, release); two on SQLite (devices with their newest record, then the window's records).
    # Then one for the profiles under way.
    with django_assert_max_num_queries(5 if connection.vendor == "postgresql" else 3):
        snapshot = snapshots.fleet_snapshot()
    assert len(snapshot["devices"]) == 30
    assert all(len(row["series"]["cpu.percent"]) >= 2 for row in snapshot["devices"])


def test_the_snapshot_api_serves_logged_in_users_only(client, bob):
    enroll("pi")
    assert client.get("/api/dashboard/fleet/").status_code in (401, 403)
    client.force_login(bob)
    body = client.get("/api/dashboard/fleet/").json()
    assert [r["name"] for r in body["devices"]] == ["pi"] and body["bucket_s"] == snapshots.FLEET["bucket_s"]
    device = Device.objects.get()
    detail = client.get(f"/api/dashboard/devices/{device.pk}/").json()
    assert (
        detail["devices"][0]["id"] == str(device.pk) and detail["links"] == [] and "throttle_at_c" in detail
    )


def test_telemetry_events_are_coalesced_to_a_couple_per_second_keeping_the_latest():
    sent: list[dict] = []

    async def scenario():
        async def send(event):
            sent.append(event)

        coalescer = events.TelemetryCoalescer(send, interval=0.2)
        for i in range(40):  # 40 flushes in ~0.4 s from two devices
            samples = [{"device": d, "ts": float(i), "metrics": {"cpu.percent": float(i)}} for d in "ab"]
            coalescer.offer({"samples": samples, "received": f"2026-01-01T00:00:{i:02}+00:00"})
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)

    async_to_sync(scenario)()
    assert 2 <= len(sent) <= 5
    last = sent[-1]["data"]
    assert {s["device"]: s["ts"] for s in last["samples"]} == {"a": 39.0, "b": 39.0}
    assert last["received"].endswith(":39+00:00")


def test_a_device_socket_gets_only_its_own_devices_telemetry():
    event = events.make_event(
        "telemetry",
        {
            "samples": [
                {"device": "d1", "ts": 1.0, "metrics": {}},
                {"device": "d2", "ts": 1.0, "metrics": {}},
            ],
            "received": "x",
        },
    )
    assert forward(event, {"fleet"}) == event
    mine = forward(event, {"device:d2"})
    assert [s["device"] for s in mine["data"]["samples"]] == ["d2"]
    assert forward(event, {"runs"}) is None


def test_an_anonymous_dashboard_socket_is_closed_with_4001():
    from django.contrib.auth.models import AnonymousUser

    async def scenario():
        communicator = WebsocketCommunicator(DashboardConsumer.as_asgi(), "/ws/dashboard/")
        communicator.scope["user"] = AnonymousUser()
        await communicator.connect()
        closed = await communicator.receive_output(timeout=2)
        await communicator.wait()
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": CLOSE_NOT_LOGGED_IN}


def test_a_logged_in_socket_hears_a_device_enroll_on_the_fleet_topic(alice):
    async def scenario():
        communicator = WebsocketCommunicator(DashboardConsumer.as_asgi(), "/ws/dashboard/")
        communicator.scope["user"] = alice
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to({"subscribe": ["fleet"]})
        assert (await communicator.receive_json_from())["subscribed"] == ["fleet"]
        await asyncio.get_running_loop().run_in_executor(None, enroll_in_a_thread, "new-pi")
        event = await communicator.receive_json_from(timeout=5)
        await communicator.send_json_to({"subscribe": ["bogus"]})
        error = await communicator.receive_json_from()
        await communicator.disconnect()
        return event, error

    event, error = async_to_sync(scenario)()
    assert event["kind"] == "device.status" and event["data"]["name"] == "new-pi"
    assert event["data"]["status"] == "pending" and "error" in error


def store(*records: tuple[Device, int, float, dict]) -> None:
    """One flush of ``(device, seq, ts, metrics)`` records, as the ingest writer stores it."""
    store_batches(
        [(str(d.pk), p.Telemetry(records=[p.Record(seq=s, ts=t, metrics=m)])) for d, s, t, m in records]
    )


def test_the_fleet_series_stored_with_the_records_equal_the_series_folded_from_them(published):
    """On PostgreSQL the fleet's sparklines are read from the peaks the ingest statement keeps
    (``TelemetryPeak``); they must be what folding the raw records gives (the portable path), through
    resends, several flushes into one bucket, one flush for several devices and sensors that come and go."""
    if connection.vendor != "postgresql":
        pytest.skip("the peaks are kept by PostgreSQL's ingest statement")
    pi, nuc, bare = enroll("pi"), enroll("nuc"), enroll("bare")
    start = (time.time() // 30) * 30 - 300
    for seq in range(12):  # two flushes a bucket, each with both devices
        ts = start + seq * 15 + 1
        store(
            (pi, seq, ts, {"temp.cpu": 40.0 + seq}),
            (nuc, seq, ts, {"cpu.percent": float(seq % 3), "temp.a": 30.0 - seq, "temp.b": 20.0}),
        )
    store((nuc, 99, start + 2, {"cpu.percent": 95.5, "temp.gpu": 88.25}))  # a late record, an old bucket
    store((nuc, 99, start + 2, {"temp.x": 200.0}))  # its resend (same seq) is dropped, not folded
    store((bare, 0, start, {"mem.used_percent": 1.0}), (pi, 100, start - 3600, {"cpu.percent": 100.0}))

    now = timezone.now()
    stored = snapshots._rows(snapshots.FLEET, None, now)
    assert stored == snapshots._rows_portable(snapshots.FLEET, None, now)
    rows = {r["name"]: r["series"] for r in stored}
    assert rows["nuc"]["cpu.percent"][0] == [int(start), 95.5]
    assert rows["nuc"]["temp.max"][0] == [int(start), 88.25]
    assert len(rows["pi"]["temp.max"]) == 6 and rows["pi"]["cpu.percent"] == []  # 100.0 is before the window
    assert rows["bare"] == {"cpu.percent": [], "temp.max": []}
