"""Admission control and dynamic inference's records on the control plane (docs/qos.md): a session whose
deadline is out of reach at its priority, given the work queued ahead of it, is refused with the reason (409)
and nothing is created; work of a lower class does not count against it; frames name the configuration that
served them, believed only from the session's table, and the summary says the mean accuracy of the answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from edgeorch.jobs import services, stats
from edgeorch.jobs.models import Frame, Session
from edgeorch.telemetry.models import TelemetryRecord
from edgeorch.telemetry.services import QOS_FRESH_S

pytestmark = pytest.mark.django_db


def token_header(user) -> dict:
    from edgeorch.api.keys import create_key

    return {"HTTP_AUTHORIZATION": f"Token {create_key(user)}"}


def queued(device, seq: int, ago_s: float = 0.0, **counts: int) -> None:
    """A telemetry record of ``device``'s stage queues, ``ago_s`` old: ``counts`` frames queued per class."""
    metrics = {"qos.queued": float(sum(counts.values()))}
    metrics.update({f"qos.queued.{name}": float(n) for name, n in counts.items()})
    ts = timezone.now() - timedelta(seconds=ago_s)
    TelemetryRecord.objects.create(device=device, seq=seq, ts=ts, received_at=ts, metrics=metrics)


def test_a_session_whose_deadline_is_out_of_reach_is_refused_with_the_reason(client, alice, digits, devices):
    phone = devices[0]
    body = {"model": digits.pk, "source": phone.pk, "strategy": "local", "rate": 10, "frames": 5}
    post = lambda extra: client.post(  # noqa: E731
        "/api/sessions/", {**body, **extra}, content_type="application/json", **token_header(alice)
    )
    no_deadline = post({"admission": True})
    assert no_deadline.status_code == 400 and "deadline_s" in no_deadline.json()["detail"]

    admitted = post({"admission": True, "deadline_s": 5.0, "priority": "high"})
    assert admitted.status_code == 202, admitted.content
    decision = admitted.json()["admission"]
    assert decision["admitted"] and decision["predicted_s"] <= 5.0 and decision["queued"] == {}
    predicted = decision["predicted_s"]

    # a million high frames queued on the phone: a high session waits behind them, past its deadline
    queued(phone, 1, high=1_000_000, low=7)
    refused = post({"admission": True, "deadline_s": 5.0, "priority": "high"})
    assert refused.status_code == 409, refused.content
    reason = refused.json()["detail"]
    assert "5000 ms deadline" in reason and "priority high" in reason
    assert "1000000 frames queued ahead on phone" in reason  # the low ones are not ahead of it
    assert Session.objects.count() == 1  # the refused one was not created

    # a critical session is served before them: admitted, as predicted with empty queues
    critical = post({"admission": True, "deadline_s": 5.0, "priority": "critical"})
    assert critical.status_code == 202 and critical.json()["admission"]["predicted_s"] == pytest.approx(
        predicted
    )
    # the queue has drained (the latest record): a high session is admitted again
    queued(phone, 2)
    assert post({"admission": True, "deadline_s": 5.0, "priority": "high"}).status_code == 202
    # without admission control the same session goes in, as before
    queued(phone, 3, high=1_000_000)
    assert post({"deadline_s": 5.0, "priority": "high"}).status_code == 202
    # a reading older than the coordinator's freshness bound says nothing about the phone now (an agent
    # with no stage left sends no queue telemetry): admitted, as with empty queues
    TelemetryRecord.objects.filter(device=phone).delete()
    queued(phone, 4, ago_s=QOS_FRESH_S + 5, high=1_000_000)
    stale = post({"admission": True, "deadline_s": 5.0, "priority": "high"})
    assert stale.status_code == 202 and stale.json()["admission"]["queued"] == {}


def test_fallback_variants_must_be_variants_and_need_admission(client, alice, digits, devices):
    body = {"model": digits.pk, "source": devices[0].pk, "strategy": "local", "rate": 10, "frames": 5}
    response = client.post(
        "/api/sessions/",
        {**body, "deadline_s": 1.0, "fallback_variants": [digits.pk]},
        content_type="application/json",
        **token_header(alice),
    )
    assert response.status_code == 400 and "set admission" in response.json()["detail"]
    response = client.post(
        "/api/sessions/",
        {**body, "deadline_s": 1.0, "admission": True, "fallback_variants": [digits.pk]},
        content_type="application/json",
        **token_header(alice),
    )
    assert response.status_code == 400 and "must be variants of" in response.json()["detail"]


def test_frames_name_their_configuration_from_the_table_and_the_summary_says_the_mean_accuracy(
    digits, devices
):
    session = services.start_session(model=digits, source=devices[0], strategy="local", rate=10, frames=4)
    Session.objects.filter(pk=session.pk).update(
        dynamic=[
            {"name": "full", "accuracy": 0.98, "first_stage": 0, "stages": []},
            {"name": "int8", "accuracy": 0.9, "first_stage": 0, "stages": []},
        ]
    )
    frames = [
        {"request_id": 0, "ok": True, "latency_s": 0.01, "config": "full", "accuracy": 0.5},  # the table's
        {"request_id": 1, "ok": True, "latency_s": 0.01, "config": "int8"},
        {"request_id": 2, "ok": False, "latency_s": 0.01, "error": "x", "config": "full"},  # no answer
        {
            "request_id": 3,
            "ok": True,
            "latency_s": 0.01,
            "config": "made-up",
            "accuracy": 1.0,
        },  # not believed
    ]
    assert services.record_frames(session.pk, frames, devices[0].pk) == 4
    rows = {f.request_id: f for f in Frame.objects.filter(session=session)}
    assert (rows[0].config, rows[0].accuracy) == ("full", 0.98)
    assert (rows[1].config, rows[1].accuracy) == ("int8", 0.9)
    assert (rows[2].config, rows[2].accuracy) == ("full", None)
    assert (rows[3].config, rows[3].accuracy) == ("", None)
    summary = stats.summarise(Session.objects.get(pk=session.pk))
    assert summary["mean_accuracy"] == pytest.approx((0.98 + 0.9) / 2)
    assert summary["configs"] == {"full": 2, "int8": 1}
