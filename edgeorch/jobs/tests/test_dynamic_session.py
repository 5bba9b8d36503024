"""A dynamic session on the control plane, the agents' part played (docs/qos.md, "Dynamic inference"): it
streams on its plan at once; its model's variants are planned and deployed, and once ready the source is sent
the configuration table on its running stream (``stream_switch`` to the same route with ``dynamic``); frames
the source reports on a variant's deployment name their configuration and are counted at its accuracy."""

from __future__ import annotations

import threading

import pytest
from edgeorch_wire import protocol as p

from edgeorch.jobs import services, stats
from edgeorch.jobs.choices import DeploymentState, RunState
from edgeorch.jobs.models import Deployment, Frame, Session
from edgeorch.jobs.services import dynamic

pytestmark = pytest.mark.django_db(transaction=True)


def ready(deployment) -> None:
    for device_id in deployment.devices:
        services.record_deploy_status(device_id, p.DeployStatus(str(deployment.pk), True, None, 0.01))


def load_deployments(seen: set, stop: threading.Event) -> None:
    """The agents' part: every new deployment, as it appears, is loaded (until ``stop``)."""
    from django.db import connection

    try:
        while not stop.is_set():
            for new in Deployment.objects.filter(state=DeploymentState.DEPLOYING).exclude(pk__in=seen):
                seen.add(new.pk)
                ready(new)
            stop.wait(0.05)
    finally:
        connection.close()  # this thread's own


def test_a_variant_offers_its_plans_split_and_the_next_fastest_others():
    predicted = {0: 0.030, 1: 0.012, 2: 0.010, 3: 0.010, 4: float("inf"), 5: 0.020}
    assert dynamic.best_splits(3, predicted, k=3) == [2, 1]  # the plan's own (3) is not repeated
    assert dynamic.best_splits(None, predicted, k=3) == [2, 3]  # ties: the lower cut first
    assert dynamic.best_splits(2, predicted, k=1) == []
    assert 4 not in dynamic.best_splits(0, predicted, k=10)  # no way to run it: never offered


def test_the_source_is_sent_the_table_of_the_model_and_its_variants(digits, narrow, devices, monkeypatch):
    from edgeorch.jobs import agents

    phone, _ = devices
    sent: list = []
    monkeypatch.setattr(
        agents, "send", lambda device, message, data=None, **kw: sent.append((device, message))
    )
    session = services.start_session(
        model=digits, source=phone, strategy="local", rate=10, frames=40, deadline_s=0.05, dynamic=True
    )
    services.dispatch_session(session.pk)
    session = Session.objects.get(pk=session.pk)
    base = session.deployment
    ready(base)
    assert Session.objects.get(pk=session.pk).state == RunState.RUNNING

    stop = threading.Event()
    loader = threading.Thread(target=load_deployments, args=({base.pk}, stop))
    loader.start()
    try:
        table = dynamic.prepare(session.pk)
    finally:
        stop.set()
        loader.join()
    assert (table[0]["variant"], table[0]["deployment_id"]) == ("digits-cnn", str(base.pk))
    by_variant: dict[str, list[dict]] = {}
    for config in table:
        by_variant.setdefault(config["variant"], []).append(config)
    assert set(by_variant) == {"digits-cnn", "digits-cnn-narrow"}
    for rows in by_variant.values():  # its plan's split, then the next fastest others, each deployed
        assert 1 < len(rows) <= dynamic.SPLITS
        assert len({c["split"] for c in rows}) == len({c["deployment_id"] for c in rows}) == len(rows)
    assert len({c["name"] for c in table}) == len(table)
    narrow_row = by_variant["digits-cnn-narrow"][0]
    variant = Deployment.objects.get(pk=narrow_row["deployment_id"])
    assert variant.model_id == narrow.pk
    assert {c["accuracy"] for c in by_variant["digits-cnn"]} == {digits.accuracy}
    assert {c["accuracy"] for c in by_variant["digits-cnn-narrow"]} == {narrow.accuracy}
    assert all(c["stages"] and all(s["compute_s"] >= 0 for s in c["stages"]) for c in table)
    switch = next(m for _, m in sent if isinstance(m, p.StreamSwitch))
    assert switch.deployment_id == str(base.pk) and switch.dynamic == {"configs": table}  # the same route
    decoded = p.decode(switch.to_json(), p.SERVER_MESSAGES)  # what the agent reads
    assert decoded.dynamic["configs"][table.index(narrow_row)]["deployment_id"] == str(variant.pk)
    assert Session.objects.get(pk=session.pk).dynamic == table

    frames = [
        {
            "request_id": 0,
            "ok": True,
            "latency_s": 0.01,
            "deployment": str(base.pk),
            "config": table[0]["name"],
        },
        {
            "request_id": 1,
            "ok": True,
            "latency_s": 0.01,
            "deployment": str(variant.pk),
            "config": narrow_row["name"],
        },
    ]
    services.record_frames(session.pk, frames, phone.pk)
    rows = {f.request_id: f for f in Frame.objects.filter(session=session)}
    assert rows[1].model_id == narrow.pk and rows[1].accuracy == narrow.accuracy
    summary = stats.summarise(Session.objects.get(pk=session.pk))
    assert summary["mean_accuracy"] == pytest.approx((digits.accuracy + narrow.accuracy) / 2)


def test_a_learning_strategy_takes_no_dynamic_inference(digits, devices):
    with pytest.raises(services.SubmitError, match="chooses for itself"):
        services.start_session(model=digits, source=devices[0], strategy="adaptive", frames=5, dynamic=True)


def test_a_replan_of_a_dynamic_session_rebuilds_its_table_on_the_new_route(
    digits, narrow, devices, monkeypatch
):
    """A re-plan (``adaptive.switch``: the adaptive strategy's, a failover's, the coordinator's) sends the
    source its next route without a table; the switch enqueues ``jobs.prepare_dynamic`` (seen as Celery
    publishes it), which builds the table again from the new route and sends it there."""
    from celery.signals import before_task_publish

    from edgeorch.jobs import agents
    from edgeorch.jobs.services import adaptive
    from edgeorch.plans import services as plans

    phone, edge = devices
    sent: list = []
    monkeypatch.setattr(
        agents, "send", lambda device, message, data=None, **kw: sent.append((device, message))
    )
    session = services.start_session(
        model=digits, source=phone, strategy="local", rate=10, frames=40, deadline_s=0.05, dynamic=True
    )
    services.dispatch_session(session.pk)
    session = Session.objects.get(pk=session.pk)
    ready(session.deployment)
    old = session.deployment

    published: list = []

    def on_publish(sender=None, body=None, **kw):
        published.append((sender, body[0] if body else None))

    before_task_publish.connect(on_publish, weak=False)
    try:
        plan = plans.make_plan(digits, [phone, edge], phone, "offload")
        stop = threading.Event()
        loader = threading.Thread(target=load_deployments, args=({old.pk}, stop))
        loader.start()
        try:
            record = adaptive.switch(
                Session.objects.get(pk=session.pk), plan, 0.01, "test: moved to the edge"
            )
            assert record is not None
            table = dynamic.prepare(session.pk)
        finally:
            stop.set()
            loader.join()
    finally:
        before_task_publish.disconnect(on_publish)
    assert ("jobs.prepare_dynamic", [str(session.pk)]) in [(s, list(a or [])) for s, a in published]
    new = Session.objects.get(pk=session.pk).deployment
    assert new.pk != old.pk and str(edge.pk) in map(str, new.devices)
    assert [(c["variant"], c["deployment_id"]) for c in table][0] == ("digits-cnn", str(new.pk))
    assert {c["variant"] for c in table} == {"digits-cnn", "digits-cnn-narrow"} and len(table) > 2
    switches = [m for _, m in sent if isinstance(m, p.StreamSwitch)]
    assert switches[-2].deployment_id == str(new.pk) and switches[-2].dynamic is None  # the re-plan's
    assert switches[-1].deployment_id == str(new.pk) and switches[-1].dynamic == {"configs": table}
    assert Session.objects.get(pk=session.pk).dynamic == table
