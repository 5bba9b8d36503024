"""The ``ans`` strategy end to end, with a live Daphne, a real Celery worker and real agents: the control
plane deploys every arm's segments once (one deployment, one chain per cut), the source's μLinUCB picks an
arm per frame and reports what it has learned, every frame is the model's answer whichever arm it took, and
the learned state survives the source's agent restarting (docs/learning.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeorch.jobs.models import Deployment, Frame, Session, VariantBandit

from .support import finished, full_model_output, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

FRAMES = 60


def run_session(api, digits, phone, beside: bool = True) -> dict:
    body = {
        "model": digits.pk,
        "source": phone.device_id,
        "strategy": "ans",
        "rate": 30,
        "frames": FRAMES,
        "sample": 3,
        # every cut an arm: split chains (source, then edge) among them; with beside false, every look a frame
        "params": {"prune": False, "beside": beside},
    }
    response = api.post(api.base + "/api/sessions/", json=body, timeout=10)
    assert response.status_code == 202, response.text
    session = finished(api, "sessions", response.json()["id"], timeout=90)
    assert session["state"] == "completed", (session, phone.log()[-3000:])
    assert session["frames_sent"] == session["frames_ok"] == FRAMES
    return session


def learned_pulls(session_id) -> dict[int, int]:
    arms = Session.objects.get(pk=session_id).learning["arms"]
    return {a["cut"]: a["pulls"] for a in arms}


def test_an_ans_session_deploys_every_arm_once_and_learns_per_frame(api, digits, fleet, client, alice):
    phone, edge = fleet("phone", "edge")
    n = len(digits.blocks)
    first = run_session(api, digits, phone, beside=False)  # every arm's answers are frames: each checked

    deployment = Deployment.objects.get(pk=first["deployment"])
    cuts = [a["cut"] for a in deployment.arms]
    planned = sorted(a["cut"] for a in Session.objects.get(pk=first["id"]).plan["arms"])
    assert sorted(cuts) == planned == list(range(n + 1))  # prune false: every cut to the edge, all-local
    assert {a["edge"] for a in deployment.arms} == {edge.device_id}
    for arm in deployment.arms:  # each arm's chain: the source's blocks, then the edge's
        chain = [s for s in deployment.stages if s["stage"] >= arm["first_stage"]][: 1 + (0 < arm["cut"] < n)]
        devices = [s["device"] for s in chain]
        expected = [phone.device_id] * (arm["cut"] > 0) + [edge.device_id] * (arm["cut"] < n)
        assert devices == expected, (arm, chain)

    frames = list(Frame.objects.filter(session_id=first["id"]).order_by("request_id"))
    assert len(frames) == FRAMES and all(f.arm in cuts for f in frames)
    assert any(0 < f.arm < n for f in frames), [f.arm for f in frames]  # a split chain: source, then edge
    expected = full_model_output(digits, input_of_session(first["id"])).ravel()
    top = int(np.argmax(expected))
    for frame in frames:  # the right answer on whichever arm the frame took
        devices = {t["device"] for t in frame.trace}
        assert (phone.device_id in devices) == (frame.arm > 0), frame.trace
        assert (edge.device_id in devices) == (frame.arm < n), frame.trace
        best, score = frame.output["top_k"][0]
        assert best == top and abs(score - float(expected[top])) < 1e-4, (frame.arm, frame.output)

    detail = api.get(f"{api.base}/api/sessions/{first['id']}/", timeout=10).json()
    learning = detail["learning"]
    assert learning["strategy"] == "ans" and learning["edge"] == edge.device_id
    assert sorted(a["cut"] for a in learning["arms"]) == sorted(cuts)
    pulls = {a["cut"]: a["pulls"] for a in learning["arms"]}
    # Every answered frame taught its arm once: offloaded frames the bandit, local ones the local estimate.
    for cut in cuts:
        assert pulls[cut] == sum(1 for f in frames if f.arm == cut), (cut, pulls)
    assert all(a["beside"] == 0 for a in learning["arms"]), learning
    assert all(a["estimate_s"] is not None for a in learning["arms"] if a["pulls"])
    summary = Session.objects.get(pk=first["id"]).summary["learned"]
    assert summary["by"] == "arm" and sum(c["frames"] for c in summary["choices"]) == FRAMES
    best = next(c["mean_latency_s"] for c in summary["choices"] if c["choice"] == summary["best"])
    assert best == min(c["mean_latency_s"] for c in summary["choices"] if c["frames"] >= 3)
    assert summary["regret_s"] == pytest.approx(sum(f.latency_s - best for f in frames))
    client.force_login(alice)
    page = client.get(f"/runs/sessions/{first['id']}/").content.decode()
    assert 'id="learned"' in page and "(best in hindsight)" in page and 'id="frame-choices"' in page
    assert "Cumulative regret against the best fixed arm (cut) in hindsight" in page
    api_frames = api.get(f"{api.base}/api/sessions/{first['id']}/frames/", timeout=10).json()
    rows = api_frames["results"] if isinstance(api_frames, dict) else api_frames
    assert {r["arm"] for r in rows} <= set(cuts)

    # The source restarts: what it learned is kept on its disk and goes on in the next session, whose looks
    # at the edge go beside local frames (the default): each teaches its arm, and none is a frame.
    phone.stop()
    phone.start()
    wait_until(lambda: _online(phone.device_id), timeout=30, message="the phone back online")
    second = run_session(api, digits, phone)
    assert "ans state for" in phone.log() and "loaded" in phone.log()
    both = list(Frame.objects.filter(session_id__in=[first["id"], second["id"]]))
    assert len(both) == 2 * FRAMES and all(f.ok and f.request_id < FRAMES for f in both)
    after = learned_pulls(second["id"])
    beside = {a["cut"]: a["beside"] for a in Session.objects.get(pk=second["id"]).learning["arms"]}
    assert sum(beside.values()) >= 1, beside  # the device alone wins here: the edge is looked at beside it
    for cut in cuts:
        assert after[cut] == sum(1 for f in both if f.arm == cut) + beside[cut], (cut, after, beside)
    page = client.get(f"/runs/sessions/{second['id']}/").content.decode()
    shown = page.split('id="looks-beside"', 1)[1].split("</p>", 1)[0]
    assert all(f"cut {cut} ×{n}" in shown for cut, n in beside.items() if n), (shown, beside)


def _online(device_id) -> bool:
    from edgeorch.devices.models import Device

    return Device.objects.filter(pk=device_id, status="online", dataplane_port__isnull=False).exists()


def input_of_session(session_id) -> np.ndarray:
    return np.load(Session.objects.get(pk=session_id).input_path)


def test_a_qoe_bandit_session_tries_the_variants_and_keeps_what_it_learned(api, digits, narrow, fleet):
    phone, _ = fleet("phone", "edge")
    body = {
        "model": digits.pk,
        "source": phone.device_id,
        "strategy": "qoe-bandit",
        "params": {"window": 5, "split": "device-edge"},
        "rate": 10,
        "frames": 60,
        "sample": 3,
    }
    response = api.post(api.base + "/api/sessions/", json=body, timeout=10)
    assert response.status_code == 202, response.text
    session = finished(api, "sessions", response.json()["id"], timeout=90)
    assert session["state"] == "completed" and session["frames_ok"] == 60, session

    detail = api.get(f"{api.base}/api/sessions/{session['id']}/", timeout=10).json()
    learning = detail["learning"]
    names = {f"digits-cnn v{digits.version}", f"digits-cnn-narrow v{narrow.version}"}
    assert learning["strategy"] == "qoe-bandit" and {a["variant"] for a in learning["arms"]} == names
    # The base first (nothing learned), then the untried narrow model (optimistic): both were judged.
    judged = {w["variant"] for w in learning["windows"]}
    assert judged == names, learning["windows"]
    assert all(a["pulls"] >= 1 and a["estimate"] is not None for a in learning["arms"])
    assert any(s["reason"].startswith("qoe-bandit:") for s in detail["switches"])
    learned = Session.objects.get(pk=session["id"]).summary["learned"]
    assert learned["by"] == "model" and {c["choice"] for c in learned["choices"]} == {digits.pk, narrow.pk}

    frames = list(Frame.objects.filter(session_id=session["id"]).select_related("model"))
    assert {f.model_id for f in frames} == {digits.pk, narrow.pk}  # each frame says which variant answered
    x = input_of_session(session["id"])
    top = {m.pk: int(np.argmax(full_model_output(m, x))) for m in (digits, narrow)}
    assert all(f.output["top_k"][0][0] == top[f.model_id] for f in frames)

    def kept_as_shown():  # the last window's look may still be saving when the session completes
        kept = VariantBandit.objects.get(device_id=phone.device_id, model=digits).state["pulls"]
        shown = Session.objects.get(pk=session["id"]).learning
        return sum(kept.values()) == len(shown["windows"]) and not shown.get("busy_until")

    wait_until(kept_as_shown, timeout=20, message="the device's bandit kept every window judged")


def test_ans_and_qoe_bandit_together_learn_the_cut_of_whichever_variant_the_bandit_chose(
    api, digits, narrow, fleet
):
    """qoe-bandit with split ans: the bandit picks the variant per window, the source learns the cut among
    that variant's arms per frame (one deployment of arms per variant), each frame recorded with both its
    arm and the variant that answered; the bandit's switch moves the learning to the variant chosen, whose
    state is kept apart on the device."""
    phone, edge = fleet("phone", "edge")
    n = len(digits.blocks)
    body = {
        "model": digits.pk,
        "source": phone.device_id,
        "strategy": "qoe-bandit",
        "params": {"window": 5, "split": "ans", "edge": edge.device_id},
        "rate": 15,
        "frames": 40,
        "sample": 3,
    }
    response = api.post(api.base + "/api/sessions/", json=body, timeout=10)
    assert response.status_code == 202, response.text
    session = finished(api, "sessions", response.json()["id"], timeout=90)
    assert session["state"] == "completed" and session["frames_ok"] == 40, (session, phone.log()[-3000:])

    detail = api.get(f"{api.base}/api/sessions/{session['id']}/", timeout=10).json()
    switches = [s for s in detail["switches"] if s["reason"].startswith("qoe-bandit:")]
    assert switches, detail["switches"]  # the base first, then the untried narrow model (optimistic)
    frames = list(Frame.objects.filter(session_id=session["id"]).order_by("request_id"))
    by_model = {m: [f for f in frames if f.model_id == m] for m in (digits.pk, narrow.pk)}
    assert all(by_model.values()), {m: len(v) for m, v in by_model.items()}
    deployments = {d.model_id: d for d in Deployment.objects.filter(model__in=[digits, narrow])}
    for model, rows in by_model.items():  # each variant's frames took that variant's arms
        cuts = {a["cut"] for a in deployments[model].arms}
        assert {0, n} <= cuts <= set(range(n + 1)), cuts  # the variant's undominated cuts and all-local
        assert all(f.arm in cuts for f in rows), (model, [f.arm for f in rows])
    x = input_of_session(session["id"])
    top = {m.pk: int(np.argmax(full_model_output(m, x))) for m in (digits, narrow)}
    assert all(f.output["top_k"][0][0] == top[f.model_id] for f in frames)  # right, whichever way it went

    learning = detail["learning"]
    assert learning["strategy"] == "qoe-bandit" and {w["variant"] for w in learning["windows"]} == {
        f"digits-cnn v{digits.version}",
        f"digits-cnn-narrow v{narrow.version}",
    }
    ans = {v["model"]: v for v in learning["ans"]}
    assert set(ans) == {digits.pk, narrow.pk} and {v["edge"] for v in ans.values()} == {edge.device_id}
    for model, rows in by_model.items():  # what the source learned on each variant's arms, reported apart
        pulls = sum(a["pulls"] or 0 for a in ans[model]["arms"])
        looks = sum(a["beside"] for a in ans[model]["arms"])  # of the pulls, looks beside local frames
        assert 0 < pulls - looks <= len(rows) and looks <= len(rows), (model, pulls, looks, len(rows))
    kept = sorted((phone.config.parent / "phone.learning").glob("ans-*.json"))
    keys = {json.loads(p.read_text())["key"] for p in kept}
    assert keys == {f"model {m} edge {edge.device_id}" for m in (digits.pk, narrow.pk)}
