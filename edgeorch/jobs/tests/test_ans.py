"""The ``ans`` strategy in the control plane, without agents: one deployment holding every arm, the stream's
arms as the source gets them, what a source may report of its learning, and what a request may not ask."""

from __future__ import annotations

import pytest
from edgeorch_wire import protocol as p

from edgeorch.jobs import services
from edgeorch.jobs.choices import RunState
from edgeorch.jobs.models import Frame, Session
from edgeorch.jobs.services.commands import start_message
from edgeorch.planning.strategies import ans

pytestmark = pytest.mark.demo


@pytest.fixture
def session(digits, devices):
    """An ans session from the phone to the edge, planned and deploying."""
    phone, _ = devices
    created = services.start_session(
        model=digits, source=phone, strategy="ans", rate=10, frames=20, sample=0, base_url="http://cp"
    )
    services.dispatch_session(created.pk)
    return Session.objects.get(pk=created.pk)


def test_an_ans_session_deploys_a_chain_per_arm_in_one_deployment(session, digits, devices):
    phone, edge = (str(d.pk) for d in devices)
    n = len(digits.blocks)
    deployment = session.deployment
    assert session.state == RunState.DEPLOYING and session.plan["strategy"] == "ans"
    cuts = [a["cut"] for a in session.plan["arms"]]  # the undominated cuts, raw input and local among them
    assert sorted(a["cut"] for a in deployment.arms) == sorted(cuts) and {0, n} <= set(cuts)
    assert set(deployment.devices) == {phone, edge}
    stages = {s["stage"]: s for s in deployment.stages}
    assert sorted(stages) == list(range(len(stages)))
    for arm in deployment.arms:
        first = stages[arm["first_stage"]]
        if 0 < arm["cut"] < n:  # the source's blocks, then the edge's: the hop names the edge's stage
            assert first["device"] == phone and first["next"]["device_id"] == edge
            assert stages[first["next"].get("stage", first["stage"] + 1)]["device"] == edge
            assert stages[first["stage"] + 1]["next"] is None
        else:  # the edge alone, or the source alone: one stage, the whole model
            assert first["device"] == (edge if arm["cut"] == 0 else phone) and first["next"] is None
    # The plan's own arm comes first, so that stage 0 is where its frames enter.
    assert deployment.arms[0]["first_stage"] == 0


def test_a_plan_whose_own_arm_is_the_edge_alone_still_deploys_the_sources_arms(session, digits, devices):
    """The plan's own arm may be cut 0 (the raw input to the edge, no stage on the source); the source still
    gets the front segments of the other arms (it was left out: a KeyError at deploy)."""
    from edgeorch.jobs.services import deployments

    phone, edge = (str(d.pk) for d in devices)
    n = len(digits.blocks)
    last = session.plan["stages"][-1]
    plan = {**session.plan, "stages": [{**last, "device": edge, "first_block": 0, "last_block": n - 1}]}
    deployment = deployments.create_deployment(session, plan, deployments.candidate_devices(session))
    assert deployment.arms[0]["cut"] == 0  # the plan's own arm first
    assert sorted(a["cut"] for a in deployment.arms) == sorted(a["cut"] for a in plan["arms"])
    assert set(deployment.devices) == {phone, edge}
    assert any(s["device"] == phone for s in deployment.stages)


def test_the_source_gets_every_arm_with_its_entry_and_context(session, digits, devices):
    phone, edge = devices
    n = len(digits.blocks)
    deployment = session.deployment
    device, message, _ = start_message(session, deployment)
    assert device == phone and isinstance(message, p.Stream)
    spec = message.ans
    assert spec["blocks"] == n and spec["key"] == f"model {digits.pk} edge {edge.pk}"
    cuts = [a["cut"] for a in spec["arms"]]
    contexts = dict(zip(cuts, ans.contexts(digits.blocks, cuts), strict=True))
    for arm in spec["arms"]:
        assert arm["context"] == contexts[arm["cut"]]
        on_edge = deployment.stages[arm["first_stage"]]["device"] == str(edge.pk)
        assert ("entry" in arm) == on_edge == (arm["cut"] == 0)
        if on_edge:
            assert arm["entry"]["device_id"] == str(edge.pk) and arm["entry"]["port"] == edge.dataplane_port
    assert message.max_in_flight == 2


def frames(arms: list[int]) -> list[dict]:
    return [
        {"request_id": i, "ok": True, "latency_s": 0.01, "error": None, "trace": [], "arm": arm}
        for i, arm in enumerate(arms)
    ]


def test_a_source_reports_its_arms_and_only_the_deployed_ones_are_kept(session, devices, digits):
    phone, edge = devices
    n = len(digits.blocks)
    reported = [
        {"cut": 0, "estimate_s": 0.01, "bound_s": 0.005, "pulls": 3},
        {"cut": 0, "estimate_s": 9.0, "bound_s": 9.0, "pulls": 99},  # a repeat: the first one counts
        {"cut": n + 5, "estimate_s": 0.001, "bound_s": 0.0, "pulls": 1},  # no such arm
        {"cut": n, "estimate_s": 0.02, "bound_s": 0.02, "pulls": 1},
    ]
    assert services.record_frames(session.pk, frames([0, n, 0, n + 5, -1]), edge.pk, reported) == 0
    assert Session.objects.get(pk=session.pk).learning == {}  # not the source: ignored
    assert services.record_frames(session.pk, frames([0, n, 0, n + 5, -1]), phone.pk, reported) == 5
    learning = Session.objects.get(pk=session.pk).learning
    assert learning["strategy"] == "ans" and learning["edge"] == str(edge.pk)
    assert [(a["cut"], a["pulls"]) for a in learning["arms"]] == [(0, 3), (n, 1)]
    stored = list(Frame.objects.filter(session=session).order_by("request_id").values_list("arm", flat=True))
    assert stored == [0, n, 0, None, None]  # a frame's arm, when the source names one it has


def test_other_strategies_keep_no_learning(digits, devices):
    phone, _ = devices
    local = services.start_session(model=digits, source=phone, strategy="local", rate=10, frames=2)
    report = [{"cut": 0, "estimate_s": 0.01, "bound_s": 0.0, "pulls": 1}]
    services.record_frames(local.pk, frames([0]), phone.pk, report)
    assert Session.objects.get(pk=local.pk).learning == {}


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"failover": "cold"}, "no serve and no failover"),
        ({"params": {"objective": "energy"}}, "ans takes objective latency only, not 'energy'"),
        ({"params": {"cut": 2}}, "ans takes no parameter cut"),
    ],
)
def test_an_ans_session_refuses_what_it_cannot_learn_with(digits, devices, fields, error):
    with pytest.raises(services.SubmitError, match=error):
        services.start_session(model=digits, source=devices[0], strategy="ans", rate=10, frames=2, **fields)


def test_a_one_shot_ans_job_deploys_the_plans_own_arm_alone(digits, devices):
    job = services.submit_job(model=digits, source=devices[0], strategy="ans", sample=0, base_url="http://cp")
    services.dispatch_job(job.pk)
    deployment = type(job).objects.get(pk=job.pk).deployment
    assert deployment.arms == [] and len(deployment.stages) <= 2  # one chain: the cut the plan predicts best
