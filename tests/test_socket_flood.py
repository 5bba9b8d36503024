"""One agent socket may have only so much waiting to be handled (edgeorch.gateway.inbox): a device that
floods it is closed with 4029 and told why, and the server keeps the bound, not the backlog."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from edgeorch_wire import protocol as p

from edgeorch.gateway.inbox import Inbox

from .test_agent_socket import Conn, enroll, hello, record, run, telemetry

pytestmark = pytest.mark.e2e


@pytest.fixture
def server_env(server_env):
    return {**server_env, "EDGEORCH_WS_INBOX_MESSAGES": "16", "EDGEORCH_WS_INBOX_MB": "2"}


def test_a_device_flooding_its_socket_is_closed_with_4029(live_server_proc):
    enrolled = enroll()

    async def go():
        async with Conn(live_server_proc, enrolled.credential) as c:
            await c.send(hello(str(enrolled.device.pk)))
            assert (await c.recv())["type"] == "welcome"
            codes: list = []
            told = asyncio.Event()

            async def read() -> int | None:
                try:
                    while True:
                        codes.append(json.loads(await asyncio.wait_for(c.ws.recv(), 10)).get("code"))
                        if codes[-1] == "flooded":
                            told.set()
                except websockets.ConnectionClosed as exc:
                    told.set()
                    return exc.rcvd.code if exc.rcvd else exc.code

            reader = asyncio.create_task(read())
            try:
                # Each batch is written to the database: far slower than sent. The flood stops once the
                # server says so, or its close reply would queue behind megabytes it no longer reads (and
                # the close handshake time out: 1006 instead of 4029, on a loaded host).
                for seq in range(5000):
                    if told.is_set():
                        break
                    await c.ws.send(telemetry(record(seq)))
                    if seq % 20 == 19:
                        await asyncio.sleep(0)
            except websockets.ConnectionClosed:
                pass
            return await reader, codes

    close_code, codes = run(go())
    assert close_code == p.CLOSE_FLOODED
    assert "flooded" in codes
    assert live_server_proc.log().count("closing the socket of") == 1


def test_a_well_behaved_device_is_not_closed(live_server_proc):
    enrolled = enroll()

    async def go():
        async with Conn(live_server_proc, enrolled.credential) as c:
            await c.send(hello(str(enrolled.device.pk)))
            await c.recv()
            for seq in range(40):  # one at a time, each waited for
                await c.send(telemetry(record(seq)))
                assert (await c.recv())["type"] == "ack"

    run(go())


def test_the_inbox_counts_bytes_too():
    sent: list[dict] = []

    async def go():
        incoming: asyncio.Queue = asyncio.Queue()
        for _ in range(3):
            incoming.put_nowait({"type": "websocket.receive", "text": "x" * 600})

        async def send(message):
            sent.append(message)

        inbox = Inbox(max_messages=100, max_bytes=2500, scope={"client": ("10.0.0.9", 1)})
        await inbox.fill(incoming.get, send)
        return await inbox.get(), inbox

    first, inbox = asyncio.run(go())
    assert first == {"type": "websocket.disconnect", "code": p.CLOSE_FLOODED}  # what waited was dropped
    assert sent[-1] == {"type": "websocket.close", "code": p.CLOSE_FLOODED} and inbox.flooded
