"""A hostile device on the agent websocket (issue 17), against a live Daphne: it may report only on work
addressed to it, every malformed value gets an ``error`` (never a 1011 close), and its bad messages do not
write a log line each.

victim is the source of a running job and a running session and has a profile pending; mallory is another
enrolled device that knows (or guesses) their ids.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from edgeorch_wire import protocol as p

from edgeorch.jobs.choices import DeploymentState, MeasurementState, RunState
from edgeorch.jobs.models import Deployment, Frame, Job, Measurement, Session
from edgeorch.telemetry.models import TelemetryRecord

from .test_agent_socket import Conn, enroll, hello, record, run, telemetry

pytestmark = pytest.mark.e2e


@pytest.fixture
def victims_work(digits):
    """victim's device, and its running job, running session, ready deployment and pending profile."""
    victim = enroll("victim")
    device = victim.device
    stage = {"stage": 0, "device": str(device.pk), "url": "u", "sha256": "s", "inputs": [], "outputs": []}
    deployment = Deployment.objects.create(
        key="k", model=digits, stages=[stage], devices=[str(device.pk)], state=DeploymentState.DEPLOYING
    )
    common = {"model": digits, "source": device, "strategy": "local", "deployment": deployment}
    job = Job.objects.create(**common, state=RunState.RUNNING, timeout_s=600, base_url="http://cp")
    session = Session.objects.create(
        **common, state=RunState.RUNNING, timeout_s=600, base_url="http://cp", rate=1.0, frames=10
    )
    profile = Measurement.objects.create(kind=Measurement.PROFILE, device=device, model=digits)
    return victim, job, session, deployment, profile


async def greeted(server, enrolled) -> Conn:
    conn = await Conn(server, enrolled.credential).__aenter__()
    await conn.send(hello(str(enrolled.device.pk)))
    assert (await conn.recv())["type"] == "welcome"
    return conn


def frame(request_id, **extra) -> dict:
    trace = [{"stage": 0, "compute_s": 0.01, "start": 1.0, "end": 1.01}]
    return {"request_id": request_id, "ok": True, "latency_s": 0.01, "trace": trace, **extra}


def test_a_device_cannot_fail_complete_or_report_on_another_devices_runs(live_server_proc, victims_work):
    _, job, session, deployment, profile = victims_work
    mallory = enroll("mallory")
    forged = [
        p.StageFailed(str(deployment.pk), job.pk, None, 0, str(mallory.device.pk), "FORGED"),
        p.StageFailed(str(deployment.pk), -1, str(session.pk), 0, str(mallory.device.pk), "FORGED"),
        p.StreamDone(str(session.pk), 999, 999),
        p.StreamReport(str(session.pk), [frame(0)]),
        p.DeployStatus(str(deployment.pk), False, "FORGED"),
        p.ProfileResult(str(profile.pk), error="FORGED"),
        p.StageFailed(str(deployment.pk), job.pk + 1000, None, 0, str(mallory.device.pk), "no such job"),
    ]

    async def go():
        conn = await greeted(live_server_proc, mallory)
        for message in forged:
            await conn.send(message.to_json())
            error = await conn.recv()
            assert (error["type"], error["code"], error["refers_to"]) == ("error", "forbidden", message.type)
            assert "is not addressed to this device" in error["message"]
        # A result with a garbage tensor for victim's job: refused, not decoded (so victim's job does not
        # fail as "could not be decoded").
        result = p.Result(str(deployment.pk), job.pk, None, [], {"name": "x"})
        await conn.send(result.to_json())
        await conn.ws.send(b"\x00garbage")
        assert (await conn.recv())["code"] == "forbidden"
        await conn.send(telemetry(record(0)))  # the socket is still open and serving
        assert (await conn.recv())["type"] == "ack"
        await conn.__aexit__()

    run(go())
    job.refresh_from_db()
    session.refresh_from_db()
    assert (job.state, job.reason) == (RunState.RUNNING, "")
    assert (session.state, session.frames_sent, session.frames_ok) == (RunState.RUNNING, 0, 0)
    assert not Frame.objects.exists()
    assert Deployment.objects.get(pk=deployment.pk).state == DeploymentState.DEPLOYING
    assert Measurement.objects.get(pk=profile.pk).state == MeasurementState.PENDING


@pytest.mark.parametrize(
    ("message", "code", "words"),
    [
        ({"type": "stage_error", "request_id": "1"}, "wrong_type", "request_id"),
        ({"type": "stage_error", "request_id": 2**64}, "bad_value", "request_id"),
        ({"type": "stream_done", "session_id": 5}, "wrong_type", "session_id"),
        ({"type": "stream_done", "session_id": "not-a-session"}, "bad_value", "not-a-session"),
        ({"type": "stream_done", "frames_sent": -1}, "bad_value", "frames_sent"),
        ({"type": "stream_done", "frames_ok": 2**40}, "bad_value", "frames_ok"),
        ({"type": "profile_result", "profile_id": 5}, "wrong_type", "profile_id"),
        ({"type": "profile_result", "profile_id": "p-1"}, "bad_value", "p-1"),
        ({"type": "profile_progress", "done": 4, "total": 3}, "bad_value", "more than total"),
        ({"type": "profile_progress", "done": "1"}, "wrong_type", "done"),
        ({"type": "profile_progress", "profile_id": "p-1"}, "bad_value", "p-1"),
        ({"type": "deploy_status", "deployment_id": 7}, "wrong_type", "deployment_id"),
        ({"type": "deploy_status", "deployment_id": "d", "load_s": "slow"}, "wrong_type", "load_s"),
        ({"type": "relay", "request_id": "x"}, "wrong_type", "request_id"),
        ({"type": "stream_report", "frames": [{"request_id": 2**31}]}, "bad_value", "request_id"),
        ({"type": "stream_report", "frames": [{"request_id": 1, "trace": "t"}]}, "wrong_type", "trace"),
    ],
)
def test_malformed_values_get_an_error_and_the_socket_stays_open(live_server_proc, message, code, words):
    enrolled = enroll()
    defaults = {
        "stage_error": {"deployment_id": "d", "request_id": 1, "session_id": None, "stage": 0},
        "stream_done": {"session_id": "s", "frames_sent": 1, "frames_ok": 1},
        "profile_result": {"profile_id": "p"},
        "profile_progress": {"profile_id": "p", "done": 1, "total": 3},
        "deploy_status": {"deployment_id": "d", "ok": True},
        "relay": {"deployment_id": "d", "request_id": 1, "to_device_id": "x"},
        "stream_report": {"session_id": "s", "frames": []},
    }[message["type"]]
    text = json.dumps({"v": 1, **defaults, "device_id": "x", "error": "e", **message})

    async def go():
        conn = await greeted(live_server_proc, enrolled)
        await conn.send(text)
        error = await conn.recv()
        assert error["type"] == "error" and error["code"] == code and words in error["message"], error
        await conn.send(telemetry(record(3)))
        assert (await conn.recv())["seqs"] == [3]
        await conn.__aexit__()

    run(go())
    assert list(TelemetryRecord.objects.values_list("seq", flat=True)) == [3]


def test_a_report_without_trace_times_is_stored_and_the_source_keeps_its_socket(
    live_server_proc, victims_work
):
    victim, _, session, _, _ = victims_work
    bare = [{"request_id": 0, "ok": True, "latency_s": 0.02, "trace": [{"stage": 0}]}]

    async def go():
        conn = await greeted(live_server_proc, victim)
        await conn.send(p.StreamReport(str(session.pk), [*bare, frame(1)]).to_json())
        await conn.send(p.StreamDone(str(session.pk), 2, 2).to_json())
        await conn.send(telemetry(record(0)))
        assert (await conn.recv())["type"] == "ack"  # nothing refused: the ack is the first reply
        await conn.__aexit__()

    run(go())
    session.refresh_from_db()
    assert session.state == RunState.COMPLETED and (session.frames_sent, session.frames_ok) == (2, 2)
    assert session.summary["frames"] == 2 and session.summary["ok"] == 2


def test_ten_thousand_bad_messages_do_not_write_ten_thousand_log_lines(live_server_proc):
    enrolled = enroll()
    count = 10_000

    async def go():
        conn = await greeted(live_server_proc, enrolled)
        for i in range(count):
            await conn.send('{"v": 1, "type": "telemetry", "records": "many"}' if i % 2 else "{not json")
        for _ in range(count):
            assert (await conn.recv())["type"] == "error"
        await conn.send(telemetry(record(0)))
        assert (await conn.recv())["type"] == "ack"
        await conn.__aexit__()

    started = asyncio.run(_timed(go()))
    lines = [line for line in live_server_proc.log().splitlines() if "sent a bad message" in line]
    assert 1 <= len(lines) <= 4, f"{len(lines)} lines for {count} bad messages ({started:.1f} s)"


async def _timed(coro) -> float:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await coro
    return loop.time() - t0
