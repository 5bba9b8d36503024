"""The Users page's data (docs/qos.md, "The fleet's users"): which running sessions each device serves, their
deadline misses, drops and configurations, its queues; a snapshot plus the published events equals a fresh
one; a socket subscribed to ``users`` hears every session's frames."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from edgeorch import events, layer
from edgeorch.api.keys import create_key
from edgeorch.dashboard import users
from edgeorch.dashboard.consumers import DashboardConsumer
from edgeorch.jobs import services as jobs
from edgeorch.jobs.choices import RunState
from edgeorch.jobs.models import Deployment, Session

from .test_dashboard import comparable, enroll, hello, published, send_telemetry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.demo]
__all__ = ["published"]  # the fixture, used by name


TABLE = [  # a dynamic session's configurations, as the source is sent them (only named ones are believed)
    {"name": "digits-cnn v1 split 3", "accuracy": 0.98},
    {"name": "digits-cnn-narrow v1 split 3", "accuracy": 0.91},
]


def running(model, source, edge, owner, **fields) -> Session:
    """A session of ``owner`` from ``source``, running on a deployment with a stage on ``edge`` (or on the
    source alone, ``edge=None``)."""
    session = jobs.start_session(
        model=model, source=source, strategy="local", frames=200, user=owner, **fields
    )
    placed = [str(source.pk)] + ([str(edge.pk)] if edge else [])
    deployment = Deployment.objects.create(
        key=str(session.pk)[:32], model=model, cuts="3" if edge else "", stages=[], devices=placed
    )
    Session.objects.filter(pk=session.pk).update(state=RunState.RUNNING, deployment=deployment)
    return session


def frame(i: int, **fields) -> dict:
    return {"request_id": i, "ok": True, "latency_s": 0.01, "error": None, "trace": [], **fields}


def test_the_users_api_says_whom_each_edge_serves_their_misses_drops_and_configurations(
    client, alice, bob, digits
):
    cam, phone, edge, idle = (enroll(n) for n in ("cam", "phone", "edge-1", "edge-2"))
    for d in (cam, phone, edge, idle):
        hello(d)
    for d in (edge, idle):
        d.role = "edge"
        d.save(update_fields=["role"])
    fast = running(digits, cam, edge, alice, deadline_s=0.05, priority="high")
    Session.objects.filter(pk=fast.pk).update(dynamic=TABLE)
    slow = running(digits, phone, edge, bob, priority="low")  # no deadline
    local = running(digits, phone, None, bob, deadline_s=1.0)
    jobs.record_frames(
        fast.pk,
        [
            frame(0, config=TABLE[0]["name"]),
            frame(1, latency_s=0.2, config=TABLE[0]["name"]),  # late: a miss
            frame(2, ok=False, dropped=True, error="dropped (on arrival): ...", config=TABLE[1]["name"]),
            frame(3, config=TABLE[1]["name"]),
            frame(4, config="not in its table"),  # not believed: the plan's route
            frame(5, config=TABLE[1]["name"]),
        ],
        cam.pk,
    )
    jobs.record_frames(slow.pk, [frame(i, latency_s=0.3) for i in range(3)], phone.pk)
    send_telemetry(edge, 0, time.time(), **{"qos.queued": 4.0, "qos.slack_s": -0.012, "qos.dropped": 1.0})
    Session.objects.create(  # a finished session serves no one
        model=digits, source=cam, strategy="local", rate=1, frames=1, timeout_s=1, state=RunState.COMPLETED
    )

    response = client.get("/api/dashboard/users/", HTTP_AUTHORIZATION=f"Token {create_key(alice)}")
    assert response.status_code == 200, response.content
    body = response.json()
    names = {d["id"]: d["name"] for d in body["devices"]}
    # every edge server (the idle one too) and the phone, which serves its own local session
    assert sorted(names.values()) == ["edge-1", "edge-2", "phone"]
    rows = {s["id"]: s for s in body["sessions"]}
    assert set(rows) == {str(fast.pk), str(slow.pk), str(local.pk)}
    served = {names[d]: sorted(rows[s]["owner"] for s in rows if d in rows[s]["served_by"]) for d in names}
    assert served == {"edge-1": ["alice", "bob"], "edge-2": [], "phone": ["bob"]}

    mine = rows[str(fast.pk)]
    assert (mine["source"]["name"], mine["priority"], mine["deadline_s"]) == ("cam", "high", 0.05)
    assert (mine["frames"], mine["judged"], mine["misses"], mine["dropped"]) == (6, 6, 1, 1)
    assert mine["miss_rate"] == pytest.approx(1 / 6)
    assert mine["configs"] == {TABLE[0]["name"]: 2, TABLE[1]["name"]: 3, "": 1}
    assert mine["config"] == TABLE[1]["name"]  # the newest frame's
    assert mine["recent_stats"] == {"frames": 6, "misses": 1, "dropped": 1, "miss_rate": pytest.approx(1 / 6)}

    theirs = rows[str(slow.pk)]
    assert theirs["deadline_s"] is None and theirs["miss_rate"] is None and theirs["frames"] == 3
    assert theirs["configs"] == {"": 3} and theirs["route"] == "3"
    queues = {names[d["id"]]: d["qos"] for d in body["devices"]}
    assert queues["edge-1"]["queued"] == 4.0 and queues["edge-1"]["slack_s"] == -0.012
    assert queues["edge-2"] is None  # no telemetry yet


def test_a_users_snapshot_plus_the_published_events_equals_a_fresh_one(published, alice, digits):
    cam, edge = enroll("cam"), enroll("edge")
    hello(cam)
    hello(edge)
    first = running(digits, cam, edge, alice, deadline_s=0.05)
    second = running(digits, cam, edge, alice, deadline_s=0.05, priority="critical")
    jobs.record_frames(first.pk, [frame(i) for i in range(10)], cam.pk)
    send_telemetry(edge, 0, time.time() - 1, **{"qos.queued": 1.0})
    before = users.users_snapshot()
    layer.drain()
    published.clear()

    # out of order, a batch reported twice, a gap filled late, past the recent window
    jobs.record_frames(first.pk, [frame(i, latency_s=0.1 * (i % 3 == 0)) for i in range(30, 70)], cam.pk)
    jobs.record_frames(first.pk, [frame(i, latency_s=0.1 * (i % 3 == 0)) for i in range(30, 70)], cam.pk)
    jobs.record_frames(first.pk, [frame(i, ok=False, dropped=True) for i in range(10, 30)], cam.pk)
    jobs.record_frames(second.pk, [frame(0), frame(1, latency_s=0.2)], cam.pk)
    send_telemetry(edge, 1, time.time(), **{"qos.queued": 7.0, "qos.slack_s": 0.004})
    done = Session.objects.get(pk=second.pk)
    done.save(update_fields=done.move_to(RunState.COMPLETED))

    layer.drain()
    applied = before
    for event in published:
        applied = users.apply_event(applied, event)
    fresh = users.users_snapshot()
    assert [s["id"] for s in fresh["sessions"]] == [str(first.pk)]
    row = fresh["sessions"][0]
    assert row["seen"] == [[0, 69]] and row["frames"] == 70 and row["dropped"] == 20
    assert row["misses"] == 14 and len(row["recent"]) == users.RECENT_FRAMES
    assert row["recent_stats"] == {
        "frames": 50,
        "misses": 14,
        "dropped": 10,
        "miss_rate": pytest.approx(14 / 50),
    }
    assert [d["name"] for d in fresh["devices"]] == ["edge"] and fresh["devices"][0]["qos"]["queued"] == 7.0
    mine, theirs = comparable(applied, fresh)
    assert mine == theirs
    assert users.apply_event(applied, published[0]) == applied  # a batch folded twice changes nothing


def test_a_users_socket_hears_every_sessions_frames_and_a_runs_socket_none(alice):
    frames = events.make_event("session.frames", {"session": "7" * 36, "frames": [frame(0)]})

    async def scenario():
        sockets = []
        for topic in ("users", "runs"):
            communicator = WebsocketCommunicator(DashboardConsumer.as_asgi(), "/ws/dashboard/")
            communicator.scope["user"] = alice
            assert (await communicator.connect())[0]
            await communicator.send_json_to({"subscribe": [topic]})
            assert (await communicator.receive_json_from())["subscribed"] == [topic]
            sockets.append(communicator)
        await events._send(frames)
        heard = await sockets[0].receive_json_from(timeout=5)
        silent = await sockets[1].receive_nothing(timeout=0.5)
        for communicator in sockets:
            await communicator.disconnect()
        return heard, silent

    heard, silent = async_to_sync(scenario)()
    assert heard == frames and silent  # the frames go to their session's group and the users group only


def test_a_sessions_budget_is_shown_beside_it_and_folded_live(published, alice, digits, monkeypatch):
    """The coordinator's budget (docs/qos.md, "Budgets"): each session's share of the edge it may use, in the
    snapshot and from the ``budget.change`` event the pass publishes."""
    from edgeorch.jobs import agents
    from edgeorch.jobs.services import budget

    monkeypatch.setattr(agents, "send", lambda *a, **kw: None)  # the agents' part: the budget is sent
    cam, edge = enroll("cam"), enroll("edge")
    hello(cam)
    hello(edge)
    first = running(digits, cam, edge, alice, priority="low")
    second = running(digits, cam, edge, alice, priority="high")
    plan = {"stages": [{"device": str(edge.pk), "compute": 0.01}]}  # 10 ms a frame on the edge
    Session.objects.filter(pk__in=[first.pk, second.pk]).update(plan=plan)
    before = users.users_snapshot()
    assert {row["budget"] == {} for row in before["sessions"]} == {True}  # none yet: no limit
    layer.drain()
    published.clear()

    assert len(budget.assign(lambda device: False)) == 2
    layer.drain()
    applied = before
    for event in published:
        applied = users.apply_event(applied, event)
    fresh = users.users_snapshot()
    shares = {row["id"]: row["budget"] for row in fresh["sessions"]}
    assert shares[str(second.pk)][str(edge.pk)] > shares[str(first.pk)][str(edge.pk)] > 0  # high: 4x low
    mine, theirs = comparable(applied, fresh)
    assert mine == theirs
