"""The global coordinator on the control plane, the agents' part played (docs/qos.md, "The coordinator"): a
session on an edge whose stage queues are saturated is moved off it, live (a re-plan deployed, then a
``stream_switch``: its stream goes on), the lowest priority first; an edge that is not saturated, or a move
onto another saturated edge, moves nobody."""

from __future__ import annotations

import threading

import pytest
from django.utils import timezone
from edgeorch_wire import protocol as p

from edgeorch.jobs import services
from edgeorch.jobs.choices import DeploymentState, RunState
from edgeorch.jobs.models import Deployment, PlanSwitch, Session
from edgeorch.jobs.services import coordinator
from edgeorch.telemetry.models import TelemetryRecord
from edgeorch.telemetry.services import QOS_FRESH_S

pytestmark = pytest.mark.django_db(transaction=True)


def ready(deployment) -> None:
    for device_id in deployment.devices:
        services.record_deploy_status(device_id, p.DeployStatus(str(deployment.pk), True, None, 0.01))


def queues(device, seq: int, queued: int, slack_s: float | None = None) -> None:
    metrics = {"qos.queued": float(queued), **({"qos.slack_s": slack_s} if slack_s is not None else {})}
    now = timezone.now()
    TelemetryRecord.objects.create(device=device, seq=seq, ts=now, received_at=now, metrics=metrics)


def offloaded(digits, phone, edge, priority: str) -> Session:
    session = services.start_session(
        model=digits,
        source=phone,
        strategy="offload",
        candidates=[str(edge.pk)],
        rate=10,
        frames=100,
        priority=priority,
        base_url="http://cp",
    )
    services.dispatch_session(session.pk)
    session = Session.objects.get(pk=session.pk)
    ready(session.deployment)
    session = Session.objects.get(pk=session.pk)
    assert session.state == RunState.RUNNING and session.deployment is not None
    assert session.deployment.devices == [str(edge.pk)]
    return session


def rebalance_loading() -> list:
    """``coordinator.rebalance``, the agents' part played: a new deployment that appears is loaded."""
    stop = threading.Event()

    def load():
        while not stop.is_set():
            for new in Deployment.objects.filter(state=DeploymentState.DEPLOYING):
                ready(new)
            stop.wait(0.05)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        return coordinator.rebalance()
    finally:
        stop.set()
        loader.join()


def test_a_user_is_moved_off_a_saturated_edge_without_stopping_its_stream(digits, devices, monkeypatch):
    from edgeorch.jobs import agents

    phone, edge = devices
    sent: list = []
    monkeypatch.setattr(
        agents, "send", lambda device, message, data=None, **kw: sent.append((device, message))
    )
    high = offloaded(digits, phone, edge, "high")
    low = offloaded(digits, phone, edge, "low")
    queues(edge, 1, queued=3)  # busy, not saturated: nobody moves
    assert rebalance_loading() == []

    queues(edge, 2, queued=30, slack_s=-0.02)  # saturated: one user moves off it, the low-priority one
    (moved,) = rebalance_loading()
    assert moved.session_id == low.pk and moved.reason.startswith("coordinator: edge is saturated (30 frames")
    low, high = Session.objects.get(pk=low.pk), Session.objects.get(pk=high.pk)
    assert str(edge.pk) not in low.deployment.devices and low.state == RunState.RUNNING  # still streaming
    assert high.deployment.devices == [str(edge.pk)]
    switch = next(m for _, m in sent if isinstance(m, p.StreamSwitch))
    assert switch.session_id == str(low.pk) and switch.deployment_id == str(low.deployment_id)
    assert PlanSwitch.objects.filter(session=high).count() == 0


def test_a_session_whose_only_other_place_is_saturated_stays(digits, devices, monkeypatch):
    from edgeorch.jobs import agents

    phone, edge = devices
    monkeypatch.setattr(agents, "send", lambda *a, **kw: None)
    session = offloaded(digits, phone, edge, "normal")
    queues(edge, 1, queued=30)
    queues(phone, 1, queued=30)  # the only place left (the source) is saturated too
    assert rebalance_loading() == []
    assert Session.objects.get(pk=session.pk).deployment.devices == [str(edge.pk)]


def test_a_stale_queue_reading_or_the_coordinator_turned_off_moves_nobody(
    digits, devices, monkeypatch, settings
):
    from datetime import timedelta

    from edgeorch.jobs import agents

    phone, edge = devices
    monkeypatch.setattr(agents, "send", lambda device, message, data=None, **kw: None)
    offloaded(digits, phone, edge, "low")
    now = timezone.now()
    old = now - timedelta(seconds=QOS_FRESH_S + 5)
    TelemetryRecord.objects.create(device=edge, seq=1, ts=old, received_at=old, metrics={"qos.queued": 50.0})
    assert coordinator.load_of(edge) == {}  # an agent with no stage left sends none: an old one says nothing
    assert rebalance_loading() == []
    queues(edge, 2, queued=50)  # saturated now, but the coordinator is turned off
    settings.COORDINATOR = False
    assert rebalance_loading() == []
    settings.COORDINATOR = True
    assert len(rebalance_loading()) == 1


def test_an_edge_whose_users_ask_for_more_than_it_has_counts_as_saturated(digits, devices, monkeypatch):
    """Over-subscribed (docs/qos.md, "The coordinator"): two users each asking all of the edge (10 frames/s of
    100 ms there), its queues not (yet) full: the low-priority one is moved off it, saying why."""
    from edgeorch.jobs import agents

    phone, edge = devices
    monkeypatch.setattr(agents, "send", lambda device, message, data=None, **kw: None)
    high = offloaded(digits, phone, edge, "high")
    low = offloaded(digits, phone, edge, "low")
    queues(edge, 1, queued=0)
    plan = {**high.plan, "stages": [{**s, "compute": 0.1} for s in high.plan["stages"]]}
    Session.objects.filter(pk__in=[high.pk, low.pk]).update(plan=plan)
    (moved,) = rebalance_loading()
    assert moved.session_id == low.pk
    assert moved.reason.startswith("coordinator: edge is saturated (its sessions ask 200% of its compute)")
    assert Session.objects.get(pk=high.pk).deployment.devices == [str(edge.pk)]
    assert rebalance_loading() == []  # the one left asks all of it, no more: nobody else moves
