"""Alert rules evaluated on real stored telemetry, devices and frames; their alerts' states; the REST API.

alice is an operator (she writes rules and acknowledges), bob a viewer (he reads), charlie has no account.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from edgeorch_wire import protocol as p

from edgeorch.alerts import services
from edgeorch.alerts.choices import AlertState, RuleKind
from edgeorch.alerts.models import Alert, Rule, TransitionRefused
from edgeorch.devices import services as devices
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device
from edgeorch.telemetry.services import store_batches

pytestmark = [pytest.mark.django_db, pytest.mark.demo]  # also on SQLite, as `make demo` runs


def enrolled(name: str) -> Device:
    _, plain = devices.create_enrollment_token(max_uses=1)
    return devices.enroll_device(plain, name=name).device


def report(device: Device, *samples: dict, start: float | None = None, step: float = 1.0) -> None:
    """Store ``samples`` as the device's next records, ``step`` seconds apart, the last one now."""
    device.refresh_from_db(fields=["last_seq"])
    t0 = start if start is not None else time.time() - step * (len(samples) - 1)
    records = [
        p.Record(seq=device.last_seq + 1 + i, ts=t0 + i * step, metrics=m) for i, m in enumerate(samples)
    ]
    store_batches([(str(device.pk), p.Telemetry(records=records))])


def rule(kind: str, **fields) -> Rule:
    return Rule.objects.create(name=fields.pop("name", kind), kind=kind, **fields)


def states(r: Rule) -> list[str]:
    return list(r.alerts.order_by("id").values_list("state", flat=True))


# --- evaluating ---------------------------------------------------------------------------------------


def test_a_temperature_alert_fires_once_while_hot_and_resolves_when_cool():
    camera, edge = enrolled("camera"), enrolled("edge")
    hot = rule(RuleKind.TEMPERATURE_ABOVE, threshold=70.0)
    report(camera, {"temp.cpu": 65.0, "temp.gpu": 74.5})
    report(edge, {"temp.cpu": 40.0})

    assert services.evaluate_rules()["fired"] == 1
    services.evaluate_rules()  # still hot: the open alert stays the only one
    alert = hot.alerts.get()
    assert (alert.device, alert.state, alert.value) == (camera, AlertState.FIRED, 74.5)
    assert "74.5 °C, above 70 °C" in alert.message

    report(camera, {"temp.cpu": 69.0})  # back under, but by less than the hysteresis: still open
    assert services.evaluate_rules()["resolved"] == 0
    report(camera, {"temp.cpu": 67.5})
    assert services.evaluate_rules()["resolved"] == 1
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.resolved_at is not None

    report(camera, {"temp.cpu": 80.0})
    services.evaluate_rules()
    assert states(hot) == ["resolved", "fired"]  # a new episode is a new alert; the old one is history


def test_a_device_gone_offline_keeps_its_temperature_alert_as_it_was():
    camera = enrolled("camera")
    hot = rule(RuleKind.TEMPERATURE_ABOVE, threshold=70.0)
    report(camera, {"temp.cpu": 90.0})
    services.evaluate_rules()
    Device.objects.filter(pk=camera.pk).update(status=DeviceStatus.OFFLINE)
    services.evaluate_rules()
    assert states(hot) == ["fired"]  # its last reading is stale: neither resolved nor fired again


def test_a_rule_for_one_device_watches_only_that_device():
    camera, edge = enrolled("camera"), enrolled("edge")
    hot = rule(RuleKind.TEMPERATURE_ABOVE, threshold=50.0, device=edge)
    report(camera, {"temp.cpu": 90.0})
    report(edge, {"temp.cpu": 60.0})
    services.evaluate_rules()
    assert list(hot.alerts.values_list("device", flat=True)) == [edge.pk]


def test_throttled_fires_only_after_the_whole_duration_throttled():
    camera = enrolled("camera")
    slow = rule(RuleKind.THROTTLED_FOR, duration_s=30.0)
    now = time.time()
    # Throttled for the last 20 s only: an unthrottled record 20 s ago.
    report(
        camera, *[{"cpu.throttle_factor": 1.0 if i == 0 else 2.0} for i in range(5)], start=now - 20, step=5
    )
    services.evaluate_rules()
    assert states(slow) == []

    # Throttled at every record of the last 40 s.
    later = enrolled("later")
    report(later, *[{"cpu.throttle_factor": 2.5} for _ in range(9)], start=now - 40, step=5)
    services.evaluate_rules()
    alert = slow.alerts.get()
    assert alert.device == later and alert.value == 2.5 and "for over 30 s" in alert.message

    report(later, {"cpu.throttle_factor": 1.0})
    services.evaluate_rules()
    assert states(slow) == ["resolved"]


def test_offline_fires_after_the_duration_of_silence_and_resolves_when_the_device_is_back():
    camera = enrolled("camera")
    gone = rule(RuleKind.OFFLINE_FOR, duration_s=60.0)
    report(camera, {"cpu.percent": 1.0})
    Device.objects.filter(pk=camera.pk).update(
        status=DeviceStatus.OFFLINE, last_seen=timezone.now() - timedelta(seconds=30)
    )
    services.evaluate_rules()
    assert states(gone) == []
    Device.objects.filter(pk=camera.pk).update(last_seen=timezone.now() - timedelta(seconds=90))
    services.evaluate_rules()
    assert states(gone) == ["fired"]
    assert "silent for 90 s" in gone.alerts.get().message

    report(camera, {"cpu.percent": 1.0})  # its agent is back: online again
    services.evaluate_rules()
    assert states(gone) == ["resolved"]


def test_the_deadline_miss_rate_counts_the_frames_of_the_devices_sessions_in_the_window(digits):
    from edgeorch.jobs.models import Frame, Session

    camera = enrolled("camera")
    misses = rule(RuleKind.DEADLINE_MISS_RATE_ABOVE, threshold=0.25, duration_s=60.0)
    session = Session.objects.create(
        model=digits, source=camera, strategy="local", rate=10, frames=20, deadline_s=0.05, timeout_s=30
    )
    frames = [
        Frame(session=session, request_id=i, ok=True, latency_s=0.1, deadline_met=i % 2 == 0)
        for i in range(8)
    ]
    Frame.objects.bulk_create(frames)
    services.evaluate_rules()
    alert = misses.alerts.get()
    assert alert.device == camera and alert.value == 0.5
    assert "50% of 8 frames missed their deadline" in alert.message

    # The frames age out of the window: nothing missed in the last minute.
    Frame.objects.update(received_at=timezone.now() - timedelta(minutes=5))
    services.evaluate_rules()
    assert states(misses) == ["resolved"]


def test_disabling_a_rule_resolves_its_open_alerts():
    camera = enrolled("camera")
    hot = rule(RuleKind.TEMPERATURE_ABOVE, threshold=50.0)
    report(camera, {"temp.cpu": 90.0})
    services.evaluate_rules()
    Rule.objects.filter(pk=hot.pk).update(enabled=False)
    services.evaluate_rules()
    assert states(hot) == ["resolved"]


def test_a_broken_rule_does_not_keep_the_others_from_being_evaluated(monkeypatch):
    camera = enrolled("camera")
    rule(RuleKind.OFFLINE_FOR, duration_s=1.0, name="broken")
    hot = rule(RuleKind.TEMPERATURE_ABOVE, threshold=50.0, name="hot")
    report(camera, {"temp.cpu": 90.0})

    def boom(*args):
        raise RuntimeError("broken")

    monkeypatch.setitem(services._CHECKS, RuleKind.OFFLINE_FOR, boom)
    result = services.evaluate_rules()
    assert result["failed"] == 1 and states(hot) == ["fired"]


def test_each_change_is_pushed_to_the_dashboards_with_the_open_count(monkeypatch, alice):
    from edgeorch import events, layer

    sent: list[dict] = []

    async def capture(event):
        sent.append(event)

    monkeypatch.setattr(events, "_send", capture)
    camera = enrolled("camera")
    rule(RuleKind.TEMPERATURE_ABOVE, threshold=70.0, name="hot")
    report(camera, {"temp.cpu": 90.0})
    services.evaluate_rules()
    services.acknowledge_alert(Alert.objects.get(), alice)
    report(camera, {"temp.cpu": 20.0})
    services.evaluate_rules()
    layer.drain()  # publish returns before its event has left
    alerts = [e for e in sent if e["kind"].startswith("alert.")]
    assert [(e["kind"], e["data"]["open"], e["data"]["state"]) for e in alerts] == [
        ("alert.fired", 1, "fired"),
        ("alert.acknowledged", 1, "acknowledged"),
        ("alert.resolved", 0, "resolved"),
    ]
    assert alerts[0]["topics"] == ["alerts", f"device:{camera.pk}"]
    assert alerts[1]["data"]["acknowledged_by"] == "alice"


# --- the alert's states -------------------------------------------------------------------------------


def test_the_database_refuses_a_second_open_alert_of_a_rule_on_a_device():
    camera = enrolled("camera")
    hot = rule(RuleKind.TEMPERATURE_ABOVE, threshold=50.0)
    Alert.objects.create(rule=hot, device=camera, message="one")
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(rule=hot, device=camera, message="two")
    Alert.objects.filter(rule=hot).update(state=AlertState.RESOLVED)
    Alert.objects.create(
        rule=hot, device=camera, message="a new episode"
    )  # once resolved, a new one may open


def test_only_a_fired_alert_is_acknowledged_and_a_resolved_one_stays_resolved(alice):
    camera = enrolled("camera")
    alert = Alert.objects.create(
        rule=rule(RuleKind.TEMPERATURE_ABOVE, threshold=1), device=camera, message="m"
    )
    alert.acknowledge(alice)
    with pytest.raises(TransitionRefused):
        alert.acknowledge(alice)
    assert alert.resolve() is True
    assert alert.resolve() is False
    with pytest.raises(TransitionRefused):
        alert.acknowledge(alice)
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.acknowledged_by == alice


# --- the API ------------------------------------------------------------------------------------------


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def test_alice_creates_a_rule_and_acknowledges_its_alert(as_alice, alice):
    camera = enrolled("camera")
    body = {"name": "hot camera", "kind": "temperature_above", "threshold": 70, "device": "camera"}
    response = as_alice.post("/api/alert-rules/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["device"] == str(camera.pk) and response.json()["open_alerts"] == 0
    report(camera, {"temp.cpu": 75.0})
    services.evaluate_rules()
    assert as_alice.get("/api/alert-rules/").json()["results"][0]["open_alerts"] == 1

    listed = as_alice.get("/api/alerts/?state=open").json()
    assert listed["count"] == 1 and listed["results"][0]["device_name"] == "camera"
    alert_id = listed["results"][0]["id"]
    acked = as_alice.post(f"/api/alerts/{alert_id}/acknowledge/")
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    assert acked.json()["acknowledged_by"] == "alice"
    again = as_alice.post(f"/api/alerts/{alert_id}/acknowledge/")
    assert again.status_code == 409 and "acknowledged" in again.json()["detail"]


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"kind": "temperature_above"}, "threshold", "needs a threshold"),
        ({"kind": "temperature_above", "threshold": 900}, "threshold", "between -50 and 200"),
        (
            {"kind": "deadline_miss_rate_above", "threshold": 5, "duration_s": 60},
            "threshold",
            "between 0 and 1",
        ),
        ({"kind": "deadline_miss_rate_above", "threshold": 0.1}, "duration_s", "needs duration_s"),
        ({"kind": "offline_for", "duration_s": 0}, "duration_s", "needs duration_s"),
        ({"kind": "offline_for", "duration_s": -5}, "duration_s", "greater than or equal to 0"),
        ({"kind": "throttled_for", "duration_s": 1e12}, "duration_s", "less than or equal to"),
        ({"kind": "offline_for", "duration_s": 60, "webhook_url": "ftp://x/y"}, "webhook_url", "http://"),
        ({"kind": "offline_for", "duration_s": 60, "webhook_url": "not a url"}, "webhook_url", "http://"),
        ({"kind": "offline_for", "duration_s": 60, "webhook_url": "http://a b/"}, "webhook_url", "http://"),
        ({"kind": "offline_for", "duration_s": 60, "webhook_url": "http:///x"}, "webhook_url", "http://"),
        ({"kind": "offline_for", "duration_s": 60, "emails": ["nobody"]}, "emails", "valid email"),
        ({"kind": "offline_for", "duration_s": 60, "device": "nowhere"}, "device", "no device"),
        ({"kind": "hotter_than", "threshold": 1}, "kind", "not a valid choice"),
        ({"kind": "temperature_above", "threshold": "hot"}, "threshold", ""),
    ],
)
def test_a_bad_rule_is_refused_with_a_400_naming_the_field(as_alice, body, field, words):
    response = as_alice.post("/api/alert-rules/", {"name": "r", **body}, content_type="application/json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert words in str(response.json()[field])
    assert not Rule.objects.exists()


def test_a_webhook_on_an_internal_host_name_is_accepted(as_alice):
    body = {"name": "r", "kind": "offline_for", "duration_s": 60, "webhook_url": "http://hooks:8080/edgeorch"}
    response = as_alice.post("/api/alert-rules/", body, content_type="application/json")
    assert response.status_code == 201, response.json()


def test_a_change_to_a_rule_is_checked_against_its_kind(as_alice):
    r = rule(RuleKind.TEMPERATURE_ABOVE, threshold=70.0)
    response = as_alice.patch(
        f"/api/alert-rules/{r.pk}/", {"threshold": None}, content_type="application/json"
    )
    assert response.status_code == 400 and "threshold" in response.json()
    response = as_alice.patch(
        f"/api/alert-rules/{r.pk}/", {"enabled": False}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["enabled"] is False


def test_a_bad_state_filter_is_a_400(as_alice):
    response = as_alice.get("/api/alerts/?state=burning")
    assert response.status_code == 400 and "state" in response.json()


def test_bob_reads_alerts_and_rules_but_changes_nothing(client, bob):
    camera = enrolled("camera")
    r = rule(RuleKind.TEMPERATURE_ABOVE, threshold=1.0)
    alert = Alert.objects.create(rule=r, device=camera, message="m")
    client.force_login(bob)
    assert client.get("/api/alert-rules/").status_code == 200
    assert client.get("/api/alerts/").json()["count"] == 1
    body = {"name": "x", "kind": "offline_for", "duration_s": 5}
    assert client.post("/api/alert-rules/", body, content_type="application/json").status_code == 403
    assert client.post(f"/api/alerts/{alert.pk}/acknowledge/").status_code == 403
    assert client.delete(f"/api/alert-rules/{r.pk}/").status_code == 403


def test_charlie_without_an_account_reads_nothing(client):
    assert client.get("/api/alerts/").status_code in (401, 403)
    assert client.get("/api/alert-rules/").status_code in (401, 403)


# --- the page and the badge ---------------------------------------------------------------------------


def test_the_navigation_badge_counts_open_alerts(client, alice):
    camera = enrolled("camera")
    r = rule(RuleKind.TEMPERATURE_ABOVE, threshold=1.0, name="hot camera")
    Alert.objects.create(rule=r, device=camera, message="m")
    Alert.objects.create(rule=r, device=enrolled("edge"), message="m", state=AlertState.RESOLVED)
    client.force_login(alice)
    page = client.get("/alerts/").content.decode()
    assert 'id="alert-count" class="count" data-open="1"' in page
    assert "hot camera" in page and 'id="rule-form"' in page


def test_bob_sees_the_alerts_page_without_the_form_or_the_buttons(client, bob):
    rule(RuleKind.OFFLINE_FOR, duration_s=60.0, name="gone")
    client.force_login(bob)
    page = client.get("/alerts/").content.decode()
    assert "gone" in page and 'data-can-change="0"' in page
    assert 'id="rule-form"' not in page and "rule-delete" not in page
