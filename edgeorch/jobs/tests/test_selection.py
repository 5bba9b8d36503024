"""The ``qoe-bandit`` strategy in the control plane, without agents: a session starts on the variant its
source's bandit chooses, each window it judges teaches the bandit (kept per device across sessions), users'
scores count, and what may not be asked is refused."""

from __future__ import annotations

import threading

import pytest
from edgeorch_wire import protocol as p

from edgeorch.jobs import services
from edgeorch.jobs.choices import DeploymentState, RunState
from edgeorch.jobs.models import Deployment, Frame, PlanSwitch, Session, VariantBandit
from edgeorch.jobs.services import selection
from edgeorch.planning.qoe import QoEBandit, QoEWeights, qoe

pytestmark = pytest.mark.django_db(transaction=True)

WINDOW = 4


def start(digits, phone, **params) -> Session:
    session = services.start_session(
        model=digits,
        source=phone,
        strategy="qoe-bandit",
        params={"window": WINDOW, "split": "local", **params},
        rate=10,
        frames=40,
        sample=0,
        base_url="http://cp",
    )
    services.dispatch_session(session.pk)
    return Session.objects.get(pk=session.pk)


def ready(deployment) -> None:
    for device_id in deployment.devices:
        services.record_deploy_status(device_id, p.DeployStatus(str(deployment.pk), True, None, 0.01))


def report(session, phone, first: int, latency_s: float, count: int = WINDOW) -> None:
    frames: list[dict] = [
        {
            "request_id": i,
            "ok": True,
            "latency_s": latency_s,
            "error": None,
            "trace": [],
            "deployment": str(session.deployment_id),
        }
        for i in range(first, first + count)
    ]
    services.record_frames(session.pk, frames, phone.pk)


def select_loading(session, variant) -> str | None:
    """``selection.select``, the agents' part played: a deployment of ``variant`` that appears is loaded."""

    def mark_ready():
        for _ in range(400):
            new = Deployment.objects.filter(model=variant, state=DeploymentState.DEPLOYING).first()
            if new is not None:
                ready(new)
                return
            threading.Event().wait(0.05)

    loader = threading.Thread(target=mark_ready)
    loader.start()
    try:
        return selection.select(session.pk)
    finally:
        loader.join()


def test_a_session_starts_on_the_variant_its_sources_bandit_has_learned_is_best(digits, narrow, devices):
    phone, _ = devices
    names = ["digits-cnn v" + digits.version, "digits-cnn-narrow v" + narrow.version]
    taught = QoEBandit(names, dim=len(selection.CONTEXT))
    for _ in range(20):  # on this device the narrow model has served far better
        taught.update(names[0], [1.0, 1.0, 0.0], -5.0)
        taught.update(names[1], [1.0, 1.0, 0.0], 1.0)
    VariantBandit.objects.create(device=phone, model=digits, state=taught.to_dict())
    session = start(digits, phone)
    assert session.plan["variant"]["name"] == names[1] and session.plan["model"]["id"] == narrow.pk
    assert session.deployment.model_id == narrow.pk  # it deploys the variant, not the base


def test_a_bandit_kept_before_its_width_was_scaled_to_the_noise_starts_afresh(digits, narrow, devices):
    """A state saved with alpha in reward units (no per-arm sums of rewards: its width cannot be scaled) is
    not read as if it were the new kind: the device's bandit starts again, trying every variant."""
    phone, _ = devices
    names = ["digits-cnn v" + digits.version, "digits-cnn-narrow v" + narrow.version]
    taught = QoEBandit(names, dim=len(selection.CONTEXT))
    for _ in range(20):
        taught.update(names[1], [1.0, 1.0, 0.0], 1.0)
    old = {k: v for k, v in taught.to_dict().items() if k not in ("rsum", "rsq", "beta", "sigma0", "nu0")}
    VariantBandit.objects.create(device=phone, model=digits, state={**old, "alpha": 0.5})
    session = start(digits, phone)
    assert session.plan["variant"]["model"] == digits.pk  # afresh: the first listed, untried, goes first


def test_each_window_teaches_the_bandit_and_a_better_variant_is_switched_to(digits, narrow, devices):
    phone, _ = devices
    session = start(digits, phone)
    assert session.plan["variant"]["model"] == digits.pk  # nothing learned yet: the first listed, the base
    ready(session.deployment)
    session = Session.objects.get(pk=session.pk)
    assert session.state == RunState.RUNNING
    report(session, phone, 0, latency_s=0.4)  # the base answers slowly: 4 latency_refs a frame

    chosen = select_loading(session, narrow)
    assert chosen == f"digits-cnn-narrow v{narrow.version}"
    session = Session.objects.get(pk=session.pk)
    assert session.plan["model"]["id"] == narrow.pk and session.deployment.model_id == narrow.pk
    switch = PlanSwitch.objects.get(session=session)
    assert (
        switch.reason.startswith("qoe-bandit: digits-cnn-narrow") and "digits-cnn-narrow:" in switch.new_plan
    )
    learning = session.learning
    window = learning["windows"][0]
    expected = qoe(digits.accuracy or 1.0, 0.4, None, QoEWeights())
    assert (window["first"], window["last"], window["frames"]) == (0, WINDOW - 1, WINDOW)
    assert window["reward"] == pytest.approx(expected, abs=1e-6)
    pulls = {a["variant"]: a["pulls"] for a in learning["arms"]}
    assert pulls == {f"digits-cnn v{digits.version}": 1, f"digits-cnn-narrow v{narrow.version}": 0}
    assert learning["window_from"] == WINDOW and learning["current"] == f"digits-cnn-narrow v{narrow.version}"
    kept = VariantBandit.objects.get(device=phone, model=digits).state  # kept per device, across sessions
    assert kept["pulls"] == pulls


def test_with_an_energy_weight_a_window_costs_the_sources_joules_per_frame(digits, narrow, devices):
    """w_energy > 0 and a source whose profile models power (rpi4: 2.7 W idle, 6.4 W busy): each answered
    frame's joules, priced from its traced compute and latency (plans.energy), weigh in the window's QoE."""
    phone, _ = devices
    phone.profile = "rpi4"
    phone.save(update_fields=["profile"])
    session = start(digits, phone, w_energy=0.5)
    ready(session.deployment)
    session = Session.objects.get(pk=session.pk)
    frames = [
        {
            "request_id": i,
            "ok": True,
            "latency_s": 0.05,
            "error": None,
            "trace": [{"stage": 0, "device": str(phone.pk), "compute_s": 0.02, "start": 1.0, "end": 1.02}],
            "deployment": str(session.deployment_id),
        }
        for i in range(WINDOW)
    ]
    services.record_frames(session.pk, frames, phone.pk)
    select_loading(session, narrow)
    window = Session.objects.get(pk=session.pk).learning["windows"][0]
    radio = float((session.plan.get("energy") or {}).get("radio") or 0.0)
    joules = 2.7 * 0.05 + (6.4 - 2.7) * 0.02 + radio
    assert window["energy_j"] == pytest.approx(joules, abs=1e-6) and window["energy_basis"] == "estimated"
    expected = qoe(digits.accuracy or 1.0, 0.05, joules, QoEWeights(energy=0.5))
    assert window["reward"] == pytest.approx(expected, abs=1e-5)
    assert expected < qoe(digits.accuracy or 1.0, 0.05, None, QoEWeights())  # the joules cost QoE


def test_a_users_score_is_blended_into_the_window_it_falls_in(digits, narrow, devices, client, alice):
    from edgeorch.api.keys import create_key

    phone, _ = devices
    session = start(digits, phone)
    ready(session.deployment)
    session = Session.objects.get(pk=session.pk)
    report(session, phone, 0, latency_s=0.05)
    headers = {"HTTP_AUTHORIZATION": f"Token {create_key(alice)}"}
    url = f"/api/sessions/{session.pk}/feedback/"
    scored = client.post(url, {"score": 0.0, "from": 0, "to": 99}, content_type="application/json", **headers)
    assert scored.status_code == 200 and scored.json() == {"scored": WINDOW}
    one = client.post(url, {"score": 1.0, "request_id": 1}, content_type="application/json", **headers)
    assert one.json() == {"scored": 1}
    assert list(
        Frame.objects.filter(session=session).order_by("request_id").values_list("feedback", flat=True)
    ) == [
        0.0,
        1.0,
        0.0,
        0.0,
    ]
    for body in (
        {"score": 2},
        {"score": 0.5},
        {"score": 0.5, "from": 3, "to": 1},
        {"score": 0.5, "request_id": 500},
    ):
        bad = client.post(url, body, content_type="application/json", **headers)
        assert bad.status_code == 400, (body, bad.content)
    select_loading(session, narrow)
    window = Session.objects.get(pk=session.pk).learning["windows"][0]
    measured = qoe(digits.accuracy or 1.0, 0.05, None, QoEWeights())
    assert window["feedback"] == 0.25
    assert window["reward"] == pytest.approx(0.5 * measured + 0.5 * 0.25, abs=1e-6)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"window": 0}, "window must be a whole number"),
        ({"w_latency": -1}, "w_latency must be a number >= 0"),
        ({"latency_ref_s": 0}, "latency_ref_s must be above 0"),
    ],
)
def test_what_the_planner_cannot_take_fails_the_session_saying_why(digits, devices, params, error):
    session = start(digits, devices[0], **params)
    assert session.state == RunState.FAILED and error in session.reason


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"split": "qoe-bandit"}, "split must be one of"),
        ({"split": "device-edge", "k": 2}, "k is ans's: give split ans"),
        ({"edge": "x", "k": 2}, "k and edge are ans's: give split ans"),
        ({"split": "ans", "objective": "energy"}, "with split ans learns delays: its objective is latency"),
        ({"split": "ans", "cut": 2}, "qoe-bandit takes no parameter cut"),
    ],
)
def test_a_combination_that_can_never_plan_is_refused_before_anything_runs(digits, devices, params, error):
    with pytest.raises(services.SubmitError, match=error):
        services.start_session(
            model=digits, source=devices[0], strategy="qoe-bandit", params=params, rate=1, frames=2
        )
    assert not Session.objects.exists()


def test_a_qoe_bandit_session_takes_no_failover(digits, devices):
    with pytest.raises(services.SubmitError, match="qoe-bandit learns on a stream's frames"):
        services.start_session(
            model=digits, source=devices[0], strategy="qoe-bandit", rate=1, frames=2, failover="cold"
        )


def test_split_ans_deploys_each_variants_arms_and_the_source_learns_each_apart(
    digits, narrow, devices, monkeypatch
):
    """qoe-bandit with split ans: the session starts on the base's arms (every undominated cut to the
    edge, deployed once); the bandit moving to the narrow variant deploys the narrow model's arms and
    tells the source to learn among them under the variant's own key; what the source reports is kept per
    variant, whichever deployment it names, and survives the bandit's own saves."""
    from edgeorch.jobs import agents

    phone, edge = devices
    sent: list = []
    monkeypatch.setattr(
        agents, "send", lambda device, message, data=None, **kw: sent.append((device, message))
    )
    session = start(digits, phone, split="ans", edge=str(edge.pk))
    base = session.deployment
    n = len(digits.blocks)
    assert session.plan["strategy"] == "qoe-bandit" and base.model_id == digits.pk
    cuts = {a["cut"] for a in base.arms}  # the undominated cuts (planning.strategies.ans): raw input, local
    assert {0, n} <= cuts <= set(range(n + 1)) and len(cuts) == len(base.arms)
    ready(base)
    stream = next(m for _, m in sent if isinstance(m, p.Stream))
    assert stream.ans["key"] == f"model {digits.pk} edge {edge.pk}"

    session = Session.objects.get(pk=session.pk)
    kept = sorted(cuts)
    arms = [{"cut": c, "estimate_s": 0.02, "bound_s": 0.01, "pulls": 1} for c in kept]
    frames = [
        {
            "request_id": i,
            "ok": True,
            "latency_s": 0.4,
            "trace": [],
            "deployment": str(base.pk),
            "arm": kept[i % 2],
        }
        for i in range(WINDOW)
    ]
    services.record_frames(session.pk, frames, phone.pk, arms, str(base.pk))
    assert [f.arm for f in Frame.objects.filter(session=session).order_by("request_id")] == kept[:2] * 2
    assert Session.objects.get(pk=session.pk).learning["ans"][0]["model"] == digits.pk

    assert select_loading(session, narrow) == f"digits-cnn-narrow v{narrow.version}"
    session = Session.objects.get(pk=session.pk)
    moved = session.deployment
    assert moved.model_id == narrow.pk and {0, n} <= {a["cut"] for a in moved.arms} <= set(range(n + 1))
    switch = next(m for _, m in sent if isinstance(m, p.StreamSwitch))
    assert switch.deployment_id == str(moved.pk)
    assert switch.ans["key"] == f"model {narrow.pk} edge {edge.pk}"  # learned apart from the base's
    assert {a["cut"]: a["first_stage"] for a in switch.ans["arms"]} == {
        a["cut"]: a["first_stage"] for a in moved.arms
    }
    learning = session.learning
    assert learning["current"] == f"digits-cnn-narrow v{narrow.version}"
    assert [v["model"] for v in learning["ans"]] == [digits.pk]  # the bandit's save kept the source's part

    # A late report of the base's arms, then one of the narrow model's: each kept under its own variant.
    late = [{"request_id": WINDOW, "ok": True, "latency_s": 0.3, "deployment": str(base.pk), "arm": kept[1]}]
    services.record_frames(session.pk, late, phone.pk, [{**arms[1], "pulls": 2}], str(base.pk))
    now = [{"request_id": WINDOW + 1, "ok": True, "latency_s": 0.1, "deployment": str(moved.pk), "arm": n}]
    services.record_frames(session.pk, now, phone.pk, [{"cut": n, "pulls": 1}], str(moved.pk))
    ans = {v["model"]: v for v in Session.objects.get(pk=session.pk).learning["ans"]}
    assert set(ans) == {digits.pk, narrow.pk} and ans[narrow.pk]["edge"] == str(edge.pk)
    assert [a["pulls"] for a in ans[digits.pk]["arms"]] == [2] and ans[narrow.pk]["arms"][0]["cut"] == n
    rows = {f.request_id: (f.arm, f.model_id) for f in Frame.objects.filter(session=session)}
    assert rows[WINDOW] == (kept[1], digits.pk) and rows[WINDOW + 1] == (n, narrow.pk)
