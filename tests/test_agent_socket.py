"""The agent websocket against a live Daphne: authentication, protocol order and every kind of bad input.

Each bad input gets a clear error or close code and a log line; the server keeps serving the others and
stores nothing half-written.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import requests
import websockets
from edgeorch_wire import protocol as p

from edgeorch.devices import services
from edgeorch.devices.models import Device
from edgeorch.telemetry.models import TelemetryRecord

from .support import token_for, wait_until

pytestmark = pytest.mark.e2e


def enroll(name="dev"):
    _, plain = services.create_enrollment_token(max_uses=5)
    return services.enroll_device(plain, name=name)


def ws_url(server) -> str:
    return server.url.replace("http://", "ws://") + "/ws/agent/"


def hello(device_id: str) -> str:
    return p.Hello(device_id=device_id, agent_version="test", inventory={"hostname": "h"}).to_json()


def record(seq, **metrics):
    return {"seq": seq, "ts": time.time(), "metrics": metrics or {"cpu.percent": 1.0}}


def telemetry(*records, dropped=0) -> str:
    return json.dumps({"v": 1, "type": "telemetry", "records": list(records), "dropped": dropped})


class Conn:
    """A raw protocol client, so tests can send exactly what a broken agent would."""

    def __init__(self, server, credential: str | None):
        self.url = ws_url(server)
        self.headers = {"Authorization": f"Device {credential}"} if credential else {}

    async def __aenter__(self):
        self.ws = await websockets.connect(self.url, additional_headers=self.headers, max_size=2**25)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def send(self, text):
        await self.ws.send(text)

    async def recv(self) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), 10))

    async def closed_with(self) -> int:
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), 10)
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else exc.code


def run(coro):
    return asyncio.run(coro)


def test_a_wrong_credential_is_closed_with_4001(live_server_proc):
    device = enroll().device

    async def go():
        async with Conn(live_server_proc, f"{device.pk}.wrong") as c:
            error = await c.recv()
            assert error["type"] == "error" and error["code"] == "auth_failed"
            assert await c.closed_with() == p.CLOSE_AUTH_FAILED
        async with Conn(live_server_proc, None) as c:
            await c.recv()
            assert await c.closed_with() == p.CLOSE_AUTH_FAILED

    run(go())
    assert "agent refused" in live_server_proc.log()


def test_hello_then_telemetry_is_stored_and_acknowledged(live_server_proc):
    enrolled = enroll()
    device_id = str(enrolled.device.pk)

    async def go():
        async with Conn(live_server_proc, enrolled.credential) as c:
            await c.send(hello(device_id))
            welcome = await c.recv()
            assert welcome["type"] == "welcome" and welcome["last_seq"] == -1
            assert welcome["telemetry_interval"] == 0.2
            await c.send(telemetry(record(0), record(1), dropped=3))
            ack = await c.recv()
            assert ack == {"v": 1, "type": "ack", "seqs": [0, 1], "stored": 2, "duplicates": 0}
            await c.send(telemetry(record(1), record(2)))
            ack = await c.recv()
            assert (ack["stored"], ack["duplicates"]) == (1, 1)
        # A new connection learns where the stored telemetry ends.
        async with Conn(live_server_proc, enrolled.credential) as c:
            await c.send(hello(device_id))
            assert (await c.recv())["last_seq"] == 2

    run(go())
    assert list(TelemetryRecord.objects.filter(device_id=device_id).values_list("seq", flat=True)) == [
        0,
        1,
        2,
    ]
    device = Device.objects.get(pk=device_id)
    assert device.dropped_records == 3 and device.inventory == {"hostname": "h"}


def test_a_message_before_hello_is_closed_with_4002(live_server_proc):
    enrolled = enroll()

    async def go():
        async with Conn(live_server_proc, enrolled.credential) as c:
            await c.send(telemetry(record(0)))
            error = await c.recv()
            assert error["code"] == "hello_first" and "before 'hello'" in error["message"]
            assert await c.closed_with() == p.CLOSE_PROTOCOL

    run(go())
    assert not TelemetryRecord.objects.exists()


def test_a_device_claiming_another_id_is_closed_with_4009(live_server_proc):
    mine, theirs = enroll("mine"), enroll("theirs")

    async def go():
        async with Conn(live_server_proc, mine.credential) as c:
            await c.send(hello(str(theirs.device.pk)))
            error = await c.recv()
            assert error["code"] == "identity"
            assert await c.closed_with() == p.CLOSE_IDENTITY

    run(go())
    assert Device.objects.get(pk=theirs.device.pk).status == "pending"


@pytest.mark.parametrize(
    ("frame", "code", "words"),
    [
        ("{not json", "malformed_json", "not valid JSON"),
        ('["a list"]', "malformed_json", "JSON object"),
        ('{"v": 9, "type": "telemetry"}', "bad_version", "version 9"),
        ('{"v": 1, "type": "selfdestruct"}', "unknown_type", "'selfdestruct'"),
        ('{"v": 1, "type": "telemetry", "records": "many"}', "wrong_type", "must be an array"),
        (
            '{"v": 1, "type": "telemetry", "records": [{"seq": "0", "ts": 1, "metrics": {}}]}',
            "wrong_type",
            "seq",
        ),
        (
            '{"v": 1, "type": "telemetry", "records": [{"seq": 5, "ts": 1, "metrics": {"cpu": "hot"}}]}',
            "wrong_type",
            "'cpu'",
        ),
    ],
)
def test_bad_messages_get_a_clear_error_and_the_connection_survives(live_server_proc, frame, code, words):
    enrolled = enroll()
    device_id = str(enrolled.device.pk)

    async def go():
        async with Conn(live_server_proc, enrolled.credential) as c:
            await c.send(hello(device_id))
            await c.recv()
            await c.send(frame)
            error = await c.recv()
            assert error["type"] == "error" and error["code"] == code and words in error["message"]
            await c.send(telemetry(record(7)))
            assert (await c.recv())["seqs"] == [7]

    run(go())
    assert list(TelemetryRecord.objects.values_list("seq", flat=True)) == [7]
    assert "sent a bad message" in live_server_proc.log()


def test_a_batch_with_one_bad_record_stores_none_of_it(live_server_proc):
    enrolled = enroll()

    async def go():
        async with Conn(live_server_proc, enrolled.credential) as c:
            await c.send(hello(str(enrolled.device.pk)))
            await c.recv()
            await c.send(telemetry(record(0), {"seq": 1, "ts": "noon", "metrics": {}}))
            assert (await c.recv())["code"] == "wrong_type"

    run(go())
    assert not TelemetryRecord.objects.exists()


def test_an_oversized_frame_is_closed_with_4013(live_server_proc, settings):
    enrolled = enroll()

    async def go():
        async with Conn(live_server_proc, enrolled.credential) as c:
            await c.send(hello(str(enrolled.device.pk)))
            await c.recv()
            await c.send(json.dumps({"v": 1, "type": "telemetry", "pad": "x" * (2 * 1024 * 1024)}))
            error = await c.recv()
            assert error["code"] == "too_big"
            assert await c.closed_with() == p.CLOSE_TOO_BIG

    run(go())


def test_revocation_cuts_a_live_connection_and_refuses_reconnects(live_server_proc, alice):
    enrolled = enroll()
    device_id = str(enrolled.device.pk)
    key = token_for(alice)

    async def go():
        async with Conn(live_server_proc, enrolled.credential) as c:
            await c.send(hello(device_id))
            await c.recv()
            # Revoke through the REST API, as an operator would, while the socket is open.
            response = await asyncio.to_thread(
                requests.post,
                f"{live_server_proc.url}/api/devices/{device_id}/revoke/",
                headers={"Authorization": f"Token {key}"},
            )
            assert response.status_code == 200
            error = await c.recv()
            assert error["code"] == "revoked"
            assert await c.closed_with() == p.CLOSE_REVOKED
        async with Conn(live_server_proc, enrolled.credential) as c:
            assert (await c.recv())["code"] == "auth_failed"
            assert await c.closed_with() == p.CLOSE_REVOKED

    run(go())


def test_a_second_connection_of_a_device_replaces_the_first(live_server_proc):
    enrolled = enroll()
    device_id = str(enrolled.device.pk)

    async def go():
        async with (
            Conn(live_server_proc, enrolled.credential) as old,
            Conn(live_server_proc, enrolled.credential) as new,
        ):
            await old.send(hello(device_id))
            await old.recv()
            await new.send(hello(device_id))
            await new.recv()
            assert (await old.recv())["code"] == "replaced"
            assert await old.closed_with() == p.CLOSE_REPLACED
            await new.send(telemetry(record(0)))
            assert (await new.recv())["type"] == "ack"
            # Online while the newer connection is open: the older one's close must not mark it offline.
            # (Checked here, not after the block: leaving it closes the newer connection too, and a loaded
            # host may have marked the device offline for that before the first look.)
            await asyncio.to_thread(
                wait_until,
                lambda: Device.objects.get(pk=device_id).status == "online",
                message="device online",
            )

    run(go())


def test_disconnect_marks_the_device_offline_and_keeps_last_seen(live_server_proc):
    enrolled = enroll()
    device_id = str(enrolled.device.pk)

    async def go():
        async with Conn(live_server_proc, enrolled.credential) as c:
            await c.send(hello(device_id))
            await c.recv()

    run(go())
    device = wait_until(
        lambda: Device.objects.filter(pk=device_id, status="offline").first(), message="device marked offline"
    )
    assert device.last_seen is not None and device.channel_name == ""
