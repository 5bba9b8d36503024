"""Serving at the source end to end: a real agent's inference endpoint (Open Inference Protocol v2) called
with ``tritonclient.http`` unmodified and with plain ``requests``, over a real 2-stage split between two agent
processes, planned and deployed by the control plane (Daphne, a Celery worker, PostgreSQL, Redis)."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest
import requests
import tritonclient.http as triton
from edgeorch_agent.serving.client import Client, EndpointError
from tritonclient.utils import InferenceServerException

from edgeorch.devices import services as device_services
from edgeorch.devices.models import Device
from edgeorch.jobs.models import Frame, Session

from .support import free_port, full_model_output, wait_until

pytestmark = [pytest.mark.django_db(transaction=True)]


def _serving_agents(agents, *names, in_flight=2, queue=2):
    """Enrolled agents with their inference endpoint open; returns [(agent, endpoint port)]."""
    started = []
    for name in names:
        _, token = device_services.create_enrollment_token()
        agent = agents(name)
        assert agent.enroll(token).returncode == 0
        port = free_port()
        started.append(
            (
                agent.start(
                    "--serve-port",
                    str(port),
                    "--serve-in-flight",
                    str(in_flight),
                    "--serve-queue",
                    str(queue),
                ),
                port,
            )
        )
    for agent, _ in started:
        wait_until(
            lambda a=agent: Device.objects.filter(
                pk=a.device_id, status="online", dataplane_port__isnull=False
            ).exists(),
            message=f"{agent.name} online",
        )
    return started


def _sample(k):
    from edgeorch.catalog.models import MLModel
    from edgeorch.jobs.inputs import sample

    return sample(MLModel.objects.get(name="digits-cnn"), k)


def _serve_split(api, digits, phone, edge):
    """An operator pins the split (cut 3, phone then edge) that phone's endpoint serves digits on."""
    created = api.post(
        api.base + "/api/sessions/",
        json={
            "model": digits.pk,
            "source": phone.device_id,
            "strategy": "split",
            "params": {"cut": 3, "device": edge.device_id},
            "serve": True,
        },
    )
    assert created.status_code == 202, created.text
    return created


def _json_body(name: str, x: np.ndarray) -> dict:
    """An OIP infer request with ``x`` as a JSON tensor."""
    return {
        "inputs": [{"name": name, "shape": list(x.shape), "datatype": "FP32", "data": x.ravel().tolist()}]
    }


@pytest.mark.demo  # the demo serves too: on SQLite as well
def test_tritonclient_runs_a_two_stage_split_served_at_the_source(agents, worker, api, digits):
    (phone, port), (edge, _) = _serving_agents(agents, "phone", "edge")
    url = f"127.0.0.1:{port}"
    client = triton.InferenceServerClient(url)
    assert client.is_server_live()
    created = _serve_split(api, digits, phone, edge)
    session_id = created.json()["id"]
    wait_until(lambda: client.is_model_ready(digits.name), timeout=30, message="the served route")

    metadata = client.get_model_metadata(digits.name)
    assert metadata["inputs"][0]["name"] == digits.inputs[0]["name"]
    assert metadata["inputs"][0]["datatype"] == "FP32"
    assert metadata["outputs"][0]["name"] == digits.outputs[0]["name"]

    x = _sample(3)
    expected = full_model_output(digits, x)
    name = digits.inputs[0]["name"]
    for binary in (True, False):
        tensor = triton.InferInput(name, list(x.shape), "FP32")
        tensor.set_data_from_numpy(x, binary_data=binary)
        wanted = triton.InferRequestedOutput(digits.outputs[0]["name"], binary_data=binary)
        result = client.infer(digits.name, [tensor], outputs=[wanted])
        assert np.allclose(result.as_numpy(digits.outputs[0]["name"]), expected, atol=1e-5)

    # Plain requests, JSON tensors.
    body = _json_body(name, x)
    answer = requests.post(f"http://{url}/v2/models/{digits.name}/infer", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    out = answer.json()["outputs"][0]
    assert np.allclose(np.array(out["data"]).reshape(out["shape"]), expected, atol=1e-5)

    # Bad requests say what is wrong.
    missing = requests.post(f"http://{url}/v2/models/no-such-model/infer", json=body, timeout=10)
    assert missing.status_code == 404 and "no-such-model" in missing.json()["error"]
    wrong_shape = {**body, "inputs": [{**body["inputs"][0], "shape": [1, 2], "data": [0.0, 1.0]}]}
    bad = requests.post(f"http://{url}/v2/models/{digits.name}/infer", json=wrong_shape, timeout=10)
    assert bad.status_code == 400 and "shape" in bad.json()["error"]
    wrong_type = {**body, "inputs": [{**body["inputs"][0], "datatype": "INT64", "data": [0] * x.size}]}
    bad = requests.post(f"http://{url}/v2/models/{digits.name}/infer", json=wrong_type, timeout=10)
    assert bad.status_code == 400 and "FP32" in bad.json()["error"]
    with pytest.raises(InferenceServerException):
        client.get_model_metadata("no-such-model")

    # The same protocol on the control plane, forwarded to the source's endpoint (same auth as the API).
    plane = triton.InferenceServerClient(api.base.removeprefix("http://"))
    auth = {"Authorization": api.headers["Authorization"], "Edgeorch-Source": phone.device_id}
    tensor = triton.InferInput(name, list(x.shape), "FP32")
    tensor.set_data_from_numpy(x)
    result = plane.infer(digits.name, [tensor], headers=auth)
    assert np.allclose(result.as_numpy(digits.outputs[0]["name"]), expected, atol=1e-5)
    assert plane.get_model_metadata(digits.name, headers=auth)["name"] == digits.name
    forwarded = requests.post(
        f"{api.base}/v2/models/{digits.name}/infer?source=phone", json=body, headers=api.headers, timeout=10
    )
    assert forwarded.status_code == 200, forwarded.text
    anonymous = requests.post(f"{api.base}/v2/models/{digits.name}/infer?source=phone", json=body, timeout=10)
    assert anonymous.status_code == 401
    nowhere = requests.post(
        f"{api.base}/v2/models/{digits.name}/infer", json=body, headers=api.headers, timeout=10
    )
    assert nowhere.status_code == 400 and "source" in nowhere.json()["error"]
    plane.close()

    # The two stages ran on the two agents, and the control plane heard of every request after the fact.
    session = Session.objects.get(pk=session_id)
    assert [s["device"] for s in session.deployment.stages] == [phone.device_id, edge.device_id]
    frames = wait_until(
        lambda: (rows := list(Frame.objects.filter(session_id=session_id))) and len(rows) >= 5 and rows,
        message="the served requests' traces",
    )
    assert len(frames) == 5 and all(f.ok for f in frames)
    assert {e["device"] for f in frames for e in f.trace} == {phone.device_id, edge.device_id}
    client.close()


def test_an_agent_without_a_deployment_answers_503_then_serves_once_deployed(agents, worker, digits):
    ((phone, port),) = _serving_agents(agents, "phone")
    x = _sample(1)
    name = digits.inputs[0]["name"]
    body = _json_body(name, x)
    url = f"http://127.0.0.1:{port}/v2/models/{digits.name}"
    first = requests.post(url + "/infer", json=body, timeout=10)
    assert first.status_code == 503, first.text
    assert int(first.headers["Retry-After"]) >= 1
    # The agent asked once; the control plane planned and deployed a serving session for it.
    wait_until(
        lambda: requests.get(url + "/ready", timeout=5).status_code == 200, timeout=30, message="ready"
    )
    assert Session.objects.filter(source_id=phone.device_id, serve__isnull=False).count() == 1
    answer = requests.post(url + "/infer", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    out = answer.json()["outputs"][0]
    assert np.allclose(np.array(out["data"]).reshape(out["shape"]), full_model_output(digits, x), atol=1e-5)
    # wait_s: a caller may wait for the route instead of retrying.
    waited = requests.post(url + "/infer", json={**body, "parameters": {"wait_s": 5}}, timeout=10)
    assert waited.status_code == 200
    # The agent package's own client: numpy in, numpy out.
    with Client(f"http://127.0.0.1:{port}") as client:
        assert client.live() and client.ready(digits.name)
        outputs = client.infer(digits.name, x, deadline_s=10)
        assert np.allclose(outputs[digits.outputs[0]["name"]], full_model_output(digits, x), atol=1e-5)
        with pytest.raises(EndpointError) as refused:
            client.infer(digits.name, x.astype(np.float64))
        assert refused.value.status == 400 and "FP32" in refused.value.message


def test_served_requests_traces_reach_the_database_exactly_once_across_an_agent_restart(
    agents, worker, digits
):
    ((phone, port),) = _serving_agents(agents, "phone")
    x = _sample(2)
    name = digits.inputs[0]["name"]
    body = _json_body(name, x)
    url = f"http://127.0.0.1:{port}/v2/models/{digits.name}/infer"
    with requests.Session() as http:
        first = http.post(url, json={**body, "parameters": {"wait_s": 30}}, timeout=40)
        assert first.status_code == 200, first.text
        for _ in range(4):
            assert http.post(url, json=body, timeout=10).status_code == 200
    phone.stop(signal.SIGKILL)  # before its next report is due (every 0.5 s), or just after: either way
    session = Session.objects.get(source_id=phone.device_id, serve__isnull=False)
    spool = phone.config.with_name(f"{phone.config.stem}.traces")
    spooled = sum(len(p.read_bytes().splitlines()) for p in spool.glob("*.jsonl"))
    stored = Frame.objects.filter(session=session).count()
    assert stored + spooled >= 5  # every trace is in the database or on the agent's disk

    phone.start("--serve-port", str(port))
    wait_until(
        lambda: Frame.objects.filter(session=session).count() == 5 and not list(spool.glob("*.jsonl")),
        timeout=30,
        message="the spooled traces sent again and acknowledged",
    )
    assert sorted(Frame.objects.filter(session=session).values_list("request_id", flat=True)) == [
        0,
        1,
        2,
        3,
        4,
    ]
    # The restarted agent serves again (a new serving session: the old one ended with its source).
    again = requests.post(url, json={**body, "parameters": {"wait_s": 30}}, timeout=40)
    assert again.status_code == 200, again.text
    assert Frame.objects.filter(session=session).count() == 5


def test_a_full_queue_answers_429_and_a_stalled_stage_a_504(agents, worker, api, digits):
    (phone, port), (edge, _) = _serving_agents(agents, "phone", "edge", in_flight=1, queue=0)
    created = _serve_split(api, digits, phone, edge)
    url = f"http://127.0.0.1:{port}/v2/models/{digits.name}"
    wait_until(
        lambda: requests.get(url + "/ready", timeout=5).status_code == 200, timeout=30, message="ready"
    )
    x = _sample(0)
    name = digits.inputs[0]["name"]
    body = _json_body(name, x)
    assert requests.post(url + "/infer", json=body, timeout=10).status_code == 200
    os.killpg(edge.proc.pid, signal.SIGSTOP)  # the second stage stalls: a request stays in flight
    try:
        stalled = {}
        waiting = threading.Thread(
            target=lambda: stalled.update(
                r=requests.post(url + "/infer", json={**body, "parameters": {"deadline_s": 3}}, timeout=20)
            )
        )
        waiting.start()
        wait_until(
            lambda: requests.get(url, timeout=5).json()["parameters"]["in_flight"] == 1,
            message="the stalled request in flight",
        )
        full = requests.post(url + "/infer", json=body, timeout=10)
        assert full.status_code == 429, full.text
        assert int(full.headers["Retry-After"]) >= 1 and "in flight" in full.json()["error"]
        waiting.join(20)
        assert stalled["r"].status_code == 504 and "no answer" in stalled["r"].json()["error"]
    finally:
        os.killpg(edge.proc.pid, signal.SIGCONT)
    # The refused request was counted nowhere as served; the stalled one is reported failed.
    session_id = created.json()["id"]
    frames = wait_until(
        lambda: (rows := list(Frame.objects.filter(session_id=session_id))) and len(rows) >= 2 and rows,
        message="the traces",
    )
    assert sorted(f.ok for f in frames) == [False, True]


def test_a_re_planned_serving_session_switches_route_between_requests_and_fails_none(
    agents, worker, api, digits
):
    """The control plane re-plans a serving session (the adaptive path's ``switch``: deploy, then a
    stream_switch to the source): requests in flight meanwhile all succeed, and those after it run on the new
    route — here the whole model on the phone instead of the phone-edge split."""
    from edgeorch.jobs.models import PlanSwitch
    from edgeorch.jobs.services import adaptive
    from edgeorch.plans import services as plans

    (phone, port), (edge, _) = _serving_agents(agents, "phone", "edge", in_flight=2, queue=8)
    session_id = _serve_split(api, digits, phone, edge).json()["id"]
    url = f"http://127.0.0.1:{port}/v2/models/{digits.name}"
    wait_until(
        lambda: requests.get(url + "/ready", timeout=5).status_code == 200, timeout=30, message="ready"
    )
    x = _sample(2)
    body = _json_body(digits.inputs[0]["name"], x)
    expected = full_model_output(digits, x)
    answers: list[tuple[int, int | None]] = []  # (status, request id)
    stop = threading.Event()

    def caller() -> None:
        with requests.Session() as http:
            while not stop.is_set():
                reply = http.post(url + "/infer", json=body, timeout=30)
                status, rid = reply.status_code, None
                if status == 200:
                    rid = reply.json()["parameters"]["edgeorch_request_id"]
                    out = reply.json()["outputs"][0]
                    got = np.array(out["data"]).reshape(out["shape"])
                    status = 200 if np.allclose(got, expected, atol=1e-5) else -1  # -1: a wrong answer
                answers.append((status, rid))

    thread = threading.Thread(target=caller)
    thread.start()
    try:
        wait_until(lambda: len(answers) >= 5, timeout=30, message="requests on the split")
        session = Session.objects.select_related("model", "source").get(pk=session_id)
        devices = [Device.objects.get(pk=phone.device_id)]
        local = plans.make_plan(session.model, devices, session.source, "local")
        record = adaptive.switch(session, local, session.predicted_latency_s or 0.0, "test: re-planned")
        assert record is not None
        switched_after = len(answers)
        wait_until(
            lambda: len(answers) >= switched_after + 10, timeout=30, message="requests after the switch"
        )
    finally:
        stop.set()
        thread.join(timeout=60)
    assert answers and all(status == 200 for status, _ in answers), answers
    assert PlanSwitch.objects.filter(session_id=session_id).count() == 1
    ids = [rid for _, rid in answers]
    frames = wait_until(
        lambda: (
            (rows := {f.request_id: f for f in Frame.objects.filter(session_id=session_id)})
            and set(ids) <= set(rows)
            and rows
        ),
        timeout=30,
        message="every request's trace",
    )
    routes = [tuple(e["device"] for e in frames[rid].trace) for rid in ids]
    assert routes[0] == (phone.device_id, edge.device_id)  # the split first
    assert routes[-1] == (phone.device_id,)  # the whole model on the phone at the end
    changes = [k for k in range(1, len(routes)) if routes[k] != routes[k - 1]]
    assert len(changes) == 1, routes  # one switch, between two requests, never back


def test_a_serving_session_that_loses_its_edge_answers_every_request_on_the_phone(
    agents, worker, api, digits
):
    """Serving sessions fail over (cold by default): requests cut off when the edge dies are sent again on
    the phone alone, so every caller gets the model's answer."""
    (phone, port), (edge, _) = _serving_agents(agents, "phone", "edge", in_flight=2, queue=8)
    created = api.post(
        api.base + "/api/sessions/",
        json={
            "model": digits.pk,
            "source": phone.device_id,
            "strategy": "split",
            "params": {"cut": 3, "device": edge.device_id},
            "serve": True,
            "failover": "cold",
        },
    )
    assert created.status_code == 202, created.text
    session_id = created.json()["id"]
    url = f"http://127.0.0.1:{port}/v2/models/{digits.name}"
    wait_until(
        lambda: requests.get(url + "/ready", timeout=5).status_code == 200, timeout=30, message="ready"
    )
    x = _sample(4)
    body = _json_body(digits.inputs[0]["name"], x)
    expected = full_model_output(digits, x)
    answers: list[int] = []
    stop = threading.Event()

    def caller() -> None:
        with requests.Session() as http:
            while not stop.is_set():
                reply = http.post(url + "/infer", json={**body, "parameters": {"deadline_s": 20}}, timeout=30)
                ok = reply.status_code == 200
                if ok:
                    out = reply.json()["outputs"][0]
                    ok = np.allclose(np.array(out["data"]).reshape(out["shape"]), expected, atol=1e-5)
                answers.append(reply.status_code if ok else -1)

    threads = [threading.Thread(target=caller) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(answers) >= 10, timeout=30, message="requests on the split")
        os.killpg(edge.proc.pid, signal.SIGKILL)
        edge.proc.wait()
        from edgeorch.jobs.models import Failure

        wait_until(
            lambda: Failure.objects.filter(session_id=session_id, outcome="recovered").exists(),
            timeout=30,
            message="recovered on the phone",
        )
        after = len(answers)
        wait_until(lambda: len(answers) >= after + 10, timeout=30, message="requests after the failover")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert answers and set(answers) == {200}, answers
    frames = wait_until(
        lambda: (
            (rows := list(Frame.objects.filter(session_id=session_id))) and len(rows) >= len(answers) and rows
        ),
        timeout=30,
        message="every request's trace",
    )
    assert all(f.ok for f in frames)
    assert any({e["device"] for e in f.trace} == {phone.device_id} for f in frames)  # the phone alone
    assert any(f.resent for f in frames)  # cut off by the kill, sent again on the phone
