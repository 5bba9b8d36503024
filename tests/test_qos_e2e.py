"""Per-request QoS end to end (docs/qos.md): a real agent process whose stage is busy serves the requests
waiting for it by priority, then earliest deadline, and drops one that cannot make its deadline before
computing it, with the reason, in the caller's answer, the frame record, the session's summary and the agent's
telemetry. The agent emulates a slow device (a profile of its own) so that one compute outlasts the requests'
arrivals."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from edgeorch.devices import services as device_services
from edgeorch.devices.models import Device
from edgeorch.jobs import stats
from edgeorch.jobs.models import Frame, Session
from edgeorch.telemetry.models import TelemetryRecord

from .support import free_port, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

# Ten thousand times this host's time: the digits CNN's ~15 us becomes over a hundred ms per request.
SLOW = {
    "name": "qos-slow",
    "description": "a very slow end device, for the QoS test only",
    "class": "end",
    "speed": 10000.0,
    "units": [{"name": "cpu", "speed": 1.0, "shm_bandwidth_bps": 3.2e10}],
}


def _body(digits, x, **parameters) -> dict:
    name = digits.inputs[0]["name"]
    tensor = {"name": name, "shape": list(x.shape), "datatype": "FP32", "data": x.ravel().tolist()}
    return {"inputs": [tensor], "parameters": parameters}


def _serving_slowly(agents, api, digits, tmp_path, priority: str, *serve_args: str) -> tuple:
    """An agent ``cam`` emulating the ``SLOW`` device and serving (``serve_args`` added to its start), and a
    serving session of ``digits`` on it of class ``priority``, ready: the agent, the session's id, the model's
    URL on the agent's endpoint and an input for it."""
    from edgeorch.jobs.inputs import sample

    profile = tmp_path / "slow.json"
    profile.write_text(json.dumps(SLOW))
    _, token = device_services.create_enrollment_token()
    cam = agents("cam")
    assert cam.enroll(token).returncode == 0
    port = free_port()
    cam.start("--serve-port", str(port), "--profile", str(profile), *serve_args)
    wait_until(
        lambda: Device.objects.filter(
            pk=cam.device_id, status="online", dataplane_port__isnull=False
        ).exists(),
        message="cam online",
    )
    created = api.post(
        api.base + "/api/sessions/",
        json={
            "model": digits.pk,
            "source": cam.device_id,
            "strategy": "local",
            "serve": True,
            "priority": priority,
        },
    )
    assert created.status_code == 202, created.text
    url = f"http://127.0.0.1:{port}/v2/models/{digits.name}"
    wait_until(
        lambda: requests.get(url + "/ready", timeout=5).status_code == 200, timeout=30, message="ready"
    )
    return cam, created.json()["id"], url, sample(digits, 1)


def test_a_busy_stage_serves_by_priority_then_deadline_and_drops_the_infeasible_before_computing(
    agents, worker, api, digits, tmp_path
):
    cam, session_id, url, x = _serving_slowly(
        agents, api, digits, tmp_path, "low", "--serve-in-flight", "16", "--serve-queue", "16"
    )

    # A request the stage has measured its compute on (what the drop rule reads).
    warm = requests.post(url + "/infer", json=_body(digits, x, priority="normal"), timeout=30)
    assert warm.status_code == 200, warm.text

    # A bad priority is refused with the reason, before it reaches any queue.
    bad = requests.post(url + "/infer", json=_body(digits, x, priority="urgent"), timeout=10)
    assert bad.status_code == 400 and "urgent" in bad.json()["error"]
    bad = requests.post(url + "/infer", json=_body(digits, x, deadline_s=-1), timeout=10)
    assert bad.status_code == 400 and "deadline_s" in bad.json()["error"]

    answers: dict[str, requests.Response] = {}

    def call(label: str, **parameters) -> threading.Thread:
        def run() -> None:
            answers[label] = requests.post(url + "/infer", json=_body(digits, x, **parameters), timeout=60)

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def in_flight() -> int:
        return requests.get(url, timeout=5).json()["parameters"]["in_flight"]

    # The blocker (the session's class, low) takes the stage; then, while it computes, a low-priority request
    # with a distant deadline queues first, an infeasible one comes (50 ms to go behind a compute of hundreds
    # of ms) and a critical one (Triton's priority 1) comes last.
    threads = [call("blocker")]
    wait_until(lambda: in_flight() == 1, message="the blocker in flight")
    threads.append(call("low", deadline_s=60))
    wait_until(lambda: in_flight() == 2, message="the low-priority request queued")
    threads.append(call("infeasible", deadline_s=0.05))
    threads.append(call("critical", priority=1, deadline_s=60))
    for thread in threads:
        thread.join(timeout=60)

    assert {k: r.status_code for k, r in answers.items()} == {
        "blocker": 200,
        "low": 200,
        "critical": 200,
        "infeasible": 504,
    }
    reason = answers["infeasible"].json()["error"]
    assert reason.startswith("dropped") and "deadline" in reason, reason
    ids = {
        k: r.json()["parameters"]["edgeorch_request_id"] for k, r in answers.items() if r.status_code == 200
    }

    frames = wait_until(
        lambda: (
            (rows := {f.request_id: f for f in Frame.objects.filter(session_id=session_id)})
            and len(rows) >= 5
            and rows
        ),
        message="the five requests' records",
    )
    started = {k: frames[i].trace[-1]["start"] for k, i in ids.items()}
    # EDF within priority: the critical request, though it came after the low one, computed before it.
    assert started["blocker"] < started["critical"] < started["low"]
    assert frames[ids["critical"]].priority == "critical" and frames[ids["low"]].priority == "low"
    dropped = [f for f in frames.values() if f.dropped]
    assert len(dropped) == 1 and dropped[0].error == reason and dropped[0].priority == "low"
    assert dropped[0].deadline_s == pytest.approx(0.05) and dropped[0].deadline_met is False
    # Dropped before computing: its trace ends at the stage that dropped it, without a compute.
    assert dropped[0].trace[-1]["dropped"] is True and "compute_s" not in dropped[0].trace[-1]

    summary = stats.summarise(Session.objects.get(pk=session_id))
    assert summary["dropped"] == 1 and summary["deadline_misses"] == 0
    assert summary["by_priority"]["low"]["dropped"] == 1 and summary["by_priority"]["critical"]["ok"] == 1

    # The agent's telemetry says how many it dropped and how long its queues were.
    def dropped_reported():
        recent = TelemetryRecord.objects.filter(device_id=cam.device_id).order_by("-seq")[:50]
        return next((r for r in recent if r.metrics.get("qos.dropped", 0) >= 1), None)

    record = wait_until(dropped_reported, message="qos.dropped in the telemetry")
    assert "qos.queued" in record.metrics
    # While the two requests waited, the per-class counts were reported (absent when 0).
    queued = TelemetryRecord.objects.filter(device_id=cam.device_id, metrics__has_key="qos.queued.low")
    assert queued.exists()

    # A stream session's frames carry its class and deadline too: 50 ms is out of reach of this stage (its
    # compute alone takes longer), so its frames are dropped, not computed late, and counted as drops.
    stream = api.post(
        api.base + "/api/sessions/",
        json={
            "model": digits.pk,
            "source": cam.device_id,
            "strategy": "local",
            "rate": 5,
            "frames": 3,
            "deadline_s": 0.05,
            "priority": "high",
        },
    )
    assert stream.status_code == 202, stream.text
    done = wait_until(
        lambda: Session.objects.filter(pk=stream.json()["id"], state="completed").first(),
        timeout=30,
        message="the stream completed",
    )
    rows = list(Frame.objects.filter(session=done).order_by("request_id"))
    assert (
        len(rows) == 3 and {f.priority for f in rows} == {"high"} and {f.deadline_s for f in rows} == {0.05}
    )
    # The first frame may meet a stage that has not computed yet on a deployment of its own (then it is
    # computed and late); every frame after it is dropped before computing.
    assert all(f.dropped and f.error.startswith("dropped") and not f.ok for f in rows[1:])
    assert rows[0].dropped or (rows[0].ok and rows[0].deadline_met is False)
    counts = done.summary
    assert counts["dropped"] + counts["late"] == 3 and counts["dropped"] >= 2
    assert counts["deadline_misses"] == counts["late"]


def test_a_high_priority_request_overtakes_the_queued_work_of_low_priority_sessions_on_one_unit(
    agents, worker, api, digits, tmp_path
):
    """Isolation between users (docs/qos.md): three low-priority stream sessions flood one slow device, each
    its own deployment with its own stage queue, all of them waiting for the device's one compute unit. A
    high-priority request of another session that comes meanwhile is computed as soon as the compute under
    way ends: no low frame starts computing between its arrival and its own start, although low frames that
    were waiting before it came compute after it; three such requests in turn. On this host the test also
    passed (twice) with the stages taking the emulated unit's lock in the operating system's order, before
    the units were scheduled: what pins the order across sessions is agents/tests/test_compute_units.py;
    this test shows it holds in a real agent."""
    cam, served, url, x = _serving_slowly(agents, api, digits, tmp_path, "high")
    assert requests.post(url + "/infer", json=_body(digits, x), timeout=60).status_code == 200  # warm

    # The flood: three low-priority sessions, each 4 frames/s (twice what the device computes in all), their
    # frames reported two by two.
    lows = []
    for _ in range(3):
        created = api.post(
            api.base + "/api/sessions/",
            json={
                "model": digits.pk,
                "source": cam.device_id,
                "strategy": "local",
                "rate": 4,
                "frames": 400,
                "priority": "low",
                "max_in_flight": 8,
            },
        )
        assert created.status_code == 202, created.text
        lows.append(created.json()["id"])
    wait_until(
        lambda: all(Frame.objects.filter(session_id=s).count() >= 2 for s in lows),
        timeout=90,
        message="every low session's frames computing",
    )

    # Three high-priority requests, one after the other.
    ids = []
    for _ in range(3):
        high = requests.post(url + "/infer", json=_body(digits, x, deadline_s=60), timeout=60)
        assert high.status_code == 200, high.text
        ids.append(high.json()["parameters"]["edgeorch_request_id"])
    frames = wait_until(
        lambda: (
            (rows := list(Frame.objects.filter(session_id=served, request_id__in=ids)))
            and len(rows) == 3
            and rows
        ),
        message="the high requests' records",
    )
    waits = [(t["start"] - t["queue_s"], t["start"]) for t in (f.trace[-1] for f in frames)]
    last = max(started for _, started in waits)

    def computed_after(session) -> bool:
        rows = Frame.objects.filter(session_id=session, ok=True)
        return any(f.trace and f.trace[-1]["start"] > last for f in rows)

    # Each session's frames end in the order they computed: once one that computed after the last high
    # request is recorded, all that computed before it are.
    wait_until(lambda: all(computed_after(s) for s in lows), timeout=120, message="the flood went on")
    for session in lows:
        assert api.post(api.base + f"/api/sessions/{session}/stop/").status_code == 200
    flood = [f for f in Frame.objects.filter(session_id__in=lows, ok=True) if f.trace]
    overtaken = set()
    for arrived, started in waits:
        # Nothing of the flood took the unit while a high request waited for it ...
        assert not [f.request_id for f in flood if arrived < f.trace[-1]["start"] < started]
        # ... though low frames were waiting when it came, and computed after it.
        overtaken |= {
            f.session_id
            for f in flood
            if f.trace[-1]["start"] - f.trace[-1]["queue_s"] < arrived < f.trace[-1]["start"]
        }
    assert len(overtaken) >= 2, overtaken
