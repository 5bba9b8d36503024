"""A budget kept by a real agent process (docs/qos.md, "Budgets"): the control plane sends a streaming
source a ``budget`` that leaves its edge out, and the source stops sending its frames there — each is dropped
at the source, its record saying why — without its stream stopping; a budget with no limit sends them to
the edge again, and the session's summary counts the frames its budget dropped."""

from __future__ import annotations

import pytest
from edgeorch_wire import protocol as p

from edgeorch.devices.models import Device
from edgeorch.jobs import agents, stats
from edgeorch.jobs.models import Frame, Session

from .support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_a_source_given_a_budget_without_its_edge_stops_sending_there_and_its_stream_goes_on(
    fleet, api, digits
):
    cam, edge = fleet("cam", "edge-1")
    response = api.post(
        api.base + "/api/sessions/",
        json={
            "model": digits.pk,
            "source": cam.device_id,
            "strategy": "split",
            "params": {"cut": 0, "device": edge.device_id},  # every block on the edge
            "rate": 20,
            "frames": 100000,
            "max_in_flight": 4,
            "sample": 1,
        },
        timeout=10,
    )
    assert response.status_code == 202, response.text
    session_id = response.json()["id"]
    frames = Frame.objects.filter(session_id=session_id)

    def on_edge(f: Frame) -> bool:
        return f.ok and [t["device"] for t in f.trace if t.get("stage", 0) >= 0] == [edge.device_id]

    wait_until(
        lambda: sum(map(on_edge, frames.all())) >= 5, timeout=60, message="frames answered on the edge"
    )
    session = Session.objects.get(pk=session_id)
    source = Device.objects.get(pk=cam.device_id)

    agents.send(source, p.Budget(session_id, "no-edge", str(session.deployment_id), edges=[]))
    wait_until(
        lambda: frames.filter(error__startswith="budget:").count() >= 10,
        timeout=30,
        message="frames dropped over the budget",
    )
    agents.send(source, p.Budget(session_id, "lifted", str(session.deployment_id), edges=None))
    first = frames.filter(error__startswith="budget:").order_by("request_id").first()
    assert first is not None

    def answered_again() -> bool:
        last = frames.filter(error__startswith="budget:").order_by("-request_id").first()
        return last is not None and any(on_edge(f) for f in frames.filter(request_id__gt=last.request_id))

    wait_until(
        answered_again, timeout=30, message="frames answered on the edge again once the budget is lifted"
    )
    assert Session.objects.get(pk=session_id).state == "running"  # the stream never stopped

    refused = list(frames.filter(error__startswith="budget:").order_by("request_id"))
    last = refused[-1]
    between = list(frames.filter(request_id__gte=first.request_id, request_id__lte=last.request_id))
    # from the first frame chosen under the budget to the last, none went to the edge: each was dropped at
    # the source, its trace empty, its record saying why
    assert len(between) == len(refused) == last.request_id - first.request_id + 1
    assert all(f.dropped and not f.ok and f.trace == [] for f in refused)
    assert refused[0].error.startswith(
        f"budget: edge {edge.device_id} is not in this session's budget no-edge"
    )
    summary = stats.summarise(Session.objects.get(pk=session_id))
    assert summary["budget_dropped"] == len(refused) and summary["dropped"] >= len(refused)
    api.post(api.base + f"/api/sessions/{session_id}/stop/", timeout=10)
