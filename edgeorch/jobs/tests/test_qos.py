"""Per-request QoS on the control plane (docs/qos.md): a session's priority class and deadline are checked
(clear 400s), travel in its ``stream`` message, and its summary counts deadline misses and drops apart."""

from __future__ import annotations

import pytest
from edgeorch_wire import qos

from edgeorch.jobs import services, stats
from edgeorch.jobs.models import Frame, Session

pytestmark = pytest.mark.django_db


def token_header(user) -> dict:
    from edgeorch.api.keys import create_key

    return {"HTTP_AUTHORIZATION": f"Token {create_key(user)}"}


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("priority", "urgent", "urgent"),
        ("priority", 3, "3"),
        ("priority", None, "null"),
        ("deadline_s", 0, "above 0"),
        ("deadline_s", -0.5, "0"),
        ("deadline_s", "soon", "number"),
    ],
)
def test_a_bad_priority_or_deadline_answers_400_saying_which_and_creates_nothing(
    client, alice, digits, devices, field, value, says
):
    body = {"model": digits.pk, "source": devices[0].pk, "strategy": "local", "rate": 10, "frames": 5}
    body[field] = value
    response = client.post("/api/sessions/", body, content_type="application/json", **token_header(alice))
    assert response.status_code == 400, response.content
    assert field in response.json() and says in str(response.json()[field])
    assert not Session.objects.exists()


def test_a_session_keeps_its_priority_class_and_says_it(client, alice, digits, devices):
    body = {"model": digits.pk, "source": devices[0].pk, "strategy": "local", "rate": 10, "frames": 5}
    created = client.post(
        "/api/sessions/",
        {**body, "priority": "high", "deadline_s": 0.2},
        content_type="application/json",
        **token_header(alice),
    )
    assert created.status_code == 202, created.content
    assert created.json()["priority"] == "high" and created.json()["deadline_s"] == 0.2
    default = client.post("/api/sessions/", body, content_type="application/json", **token_header(alice))
    assert default.json()["priority"] == "normal"
    with pytest.raises(services.SubmitError, match="priority"):
        services.start_session(model=digits, source=devices[0], strategy="local", frames=1, priority="top")


def test_the_stream_message_carries_the_priority_rank_and_the_deadline_without_failover(digits, devices):
    from edgeorch_wire import protocol as p

    from edgeorch.jobs.services import commands

    session = services.start_session(
        model=digits, source=devices[0], strategy="local", frames=3, deadline_s=0.25, priority="critical"
    )
    services.dispatch_session(str(session.pk))
    session.refresh_from_db()
    _, message, _ = commands.start_message(session, session.deployment)
    assert message.priority == qos.CRITICAL and message.deadline_s == 0.25 and not message.failover
    decoded = p.decode(message.to_json(), p.SERVER_MESSAGES)  # what the agent reads
    assert decoded.priority == qos.CRITICAL and decoded.deadline_s == 0.25


def _frame(i: int, **fields) -> dict:
    return {"request_id": i, "ok": True, "latency_s": 0.01, "error": None, "trace": [], **fields}


def test_the_summary_counts_deadline_misses_and_drops_apart_and_per_class(digits, devices):
    session = services.start_session(
        model=digits, source=devices[0], strategy="local", rate=10, frames=6, deadline_s=0.05
    )
    frames = [
        _frame(0, priority=qos.HIGH),  # in time
        _frame(1, latency_s=0.2, priority=qos.HIGH),  # answered late: a miss
        _frame(2, ok=False, error="stage 0 failed", priority=qos.LOW),  # failed: a miss
        _frame(
            3,
            ok=False,
            latency_s=0.001,
            error="dropped (on arrival): its deadline is 3.0 ms away, low priority; ...",
            dropped=True,
            priority=qos.LOW,
        ),  # dropped: not a miss
        _frame(4, latency_s=0.5, deadline_s=1.0, priority=qos.CRITICAL),  # its own deadline: in time
        _frame(5, latency_s=0.02, priority=99),  # a class no device may claim: stored as none
    ]
    assert services.record_frames(session.pk, frames, devices[0].pk) == len(frames)
    rows = {f.request_id: f for f in Frame.objects.filter(session=session)}
    assert rows[3].dropped and rows[3].error.startswith("dropped") and rows[3].deadline_met is False
    assert not rows[1].dropped and rows[1].deadline_met is False
    assert rows[4].deadline_met is True and rows[4].deadline_s == 1.0 and rows[4].priority == "critical"
    assert rows[0].deadline_s == 0.05 and rows[0].priority == "high" and rows[5].priority == ""

    summary = stats.summarise(Session.objects.get(pk=session.pk))
    assert summary["deadline_misses"] == 2 and summary["late"] == 1 and summary["dropped"] == 1
    assert summary["failed"] == 2  # the failed frame and the dropped one: neither was answered
    by = summary["by_priority"]
    assert set(by) == {"high", "low", "critical"}
    assert by["high"] == {
        "frames": 2,
        "ok": 2,
        "deadline_misses": 1,
        "dropped": 0,
        "p99_s": pytest.approx(0.2, 0.02),
    }
    assert by["low"]["dropped"] == 1 and by["low"]["deadline_misses"] == 1 and by["low"]["p99_s"] is None
    assert by["critical"]["deadline_misses"] == 0


def test_the_session_page_shows_the_class_misses_and_drops(client, alice, digits, devices):
    session = services.start_session(
        model=digits, source=devices[0], strategy="local", rate=10, frames=2, deadline_s=0.05, priority="high"
    )
    frames = [_frame(0, latency_s=0.2), _frame(1, ok=False, error="dropped (on arrival): ...", dropped=True)]
    services.record_frames(session.pk, frames, devices[0].pk)
    session.summary = stats.summarise(session)
    session.save(update_fields=["summary"])
    client.force_login(alice)
    page = client.get(f"/runs/sessions/{session.pk}/").content.decode()
    assert "priority high" in page
    assert '<dd id="deadline-misses">1 (1 answered late)</dd>' in page
    assert 'id="dropped"' in page and ">1</dd>" in page.split('id="dropped"')[1][:200]
