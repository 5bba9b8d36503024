"""The client against a small in-process control plane that speaks protocol v1 on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from http import HTTPStatus

from edgeorch_agent.client import EXIT_FATAL, Agent, AgentOptions, _Flight
from edgeorch_agent.collectors import Sampler
from edgeorch_agent.config import AgentConfig
from edgeorch_wire.protocol import (
    AGENT_MESSAGES,
    CLOSE_AUTH_FAILED,
    CLOSE_REVOKED,
    Ack,
    Error,
    Telemetry,
    Welcome,
    decode,
)
from websockets.asyncio.server import ServerConnection, serve

DEVICE_ID = "2f1c9a4e-0000-4000-8000-000000000001"


class Counter:
    """A collector whose value says which sample a record holds."""

    def __init__(self) -> None:
        self.n = 0

    def collect(self) -> dict[str, float]:
        self.n += 1
        return {"test.n": float(self.n)}


def make_agent(port: int, **options) -> Agent:
    config = AgentConfig(
        server=f"http://127.0.0.1:{port}",
        ws_url=f"ws://127.0.0.1:{port}/ws/agent/",
        device_id=DEVICE_ID,
        name="pi-1",
        credential=f"{DEVICE_ID}.s3cret",
        profile="rpi4",
    )
    defaults = {
        "telemetry_interval": 0.01,
        "backoff_base": 0.01,
        "backoff_cap": 0.02,
        "dataplane_host": "127.0.0.1",
    }
    return Agent(
        config, Sampler([Counter()]), AgentOptions(**{**defaults, **options}), inventory={"hostname": "pi"}
    )


def welcome(last_seq: int) -> str:
    return Welcome(
        DEVICE_ID, "pi-1", telemetry_interval=1.0, heartbeat_timeout=30.0, last_seq=last_seq
    ).to_json()


async def next_batch(ws: ServerConnection) -> Telemetry:
    message = decode(await asyncio.wait_for(ws.recv(), 5), AGENT_MESSAGES)
    assert isinstance(message, Telemetry)
    return message


def ack(batch: Telemetry) -> str:
    return Ack(seqs=[r.seq for r in batch.records], stored=len(batch.records), duplicates=0).to_json()


def seqs(batches: list[Telemetry]) -> list[int]:
    return [r.seq for b in batches for r in b.records]


async def run_against(handler, timeout: float = 10.0, **options) -> tuple[int, Agent]:
    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        agent = make_agent(port, **options)
        code = await asyncio.wait_for(agent.run(asyncio.Event()), timeout)
    return code, agent


def test_it_says_hello_first_resends_exactly_the_unacked_records_after_a_reconnect_and_stops_when_revoked():
    seen: list[dict] = []

    async def control_plane(ws: ServerConnection) -> None:
        hello = json.loads(await ws.recv())
        seen.append({"hello": hello, "auth": ws.request.headers["Authorization"], "batches": []})
        batches = seen[-1]["batches"]
        if len(seen) == 1:
            # Records pile up before the welcome (one per 10 ms): they must come in bounded batches. 0.3 s:
            # beside a make test the agent once sampled only 2 in 0.1 s.
            await asyncio.sleep(0.3)
            await ws.send(welcome(last_seq=41))
            for i in range(5):
                batches.append(await next_batch(ws))
                if i < 3:
                    await ws.send(ack(batches[-1]))
            await ws.close(1011, "server restarting")
        else:
            acked, unacked = seqs(seen[0]["batches"][:3]), seqs(seen[0]["batches"][3:])
            await ws.send(welcome(last_seq=max(acked)))
            while len(seqs(batches)) < len(unacked):  # the unacked records come again, however many
                batches.append(await next_batch(ws))
            await ws.close(CLOSE_REVOKED, "revoked")

    code, agent = asyncio.run(run_against(control_plane, batch_size=4))

    assert code == EXIT_FATAL
    assert len(seen) == 2  # a revoked device does not try again
    first, second = seen
    assert first["auth"] == f"Device {DEVICE_ID}.s3cret"
    assert first["hello"]["type"] == "hello" and first["hello"]["device_id"] == DEVICE_ID
    assert first["hello"]["profile"] == "rpi4"
    assert first["hello"]["dataplane"]["host"] == "127.0.0.1" and first["hello"]["dataplane"]["port"] > 0
    sent_first = seqs(first["batches"])
    assert sent_first == list(range(42, 42 + len(sent_first)))  # continues after the server's last_seq
    assert all(len(b.records) <= 4 for b in first["batches"]) and len(first["batches"][0].records) == 4
    acked, unacked = seqs(first["batches"][:3]), seqs(first["batches"][3:])
    resent = seqs(second["batches"])
    assert resent[: len(unacked)] == unacked  # the unacked records first, in order
    assert not set(resent) & set(acked)  # and nothing that was acked
    assert resent == list(range(resent[0], resent[0] + len(resent)))  # no gap: nothing lost


def test_server_errors_are_logged_and_the_connection_carries_on(caplog):
    async def control_plane(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(welcome(last_seq=-1))
        await ws.send(Error(code="rate_limited", message="slow down").to_json())
        batch = await next_batch(ws)
        await ws.send(ack(batch))
        await next_batch(ws)  # still sending after the error
        await ws.close(CLOSE_AUTH_FAILED, "bad credential")

    with caplog.at_level(logging.INFO):
        code, _ = asyncio.run(run_against(control_plane))
    assert code == EXIT_FATAL
    messages = [r.getMessage() for r in caplog.records]
    assert any("server error rate_limited: slow down" in m for m in messages)
    assert any("authentication failed" in m for m in messages)


def test_it_keeps_at_most_max_in_flight_messages_unacknowledged():
    received: list[Telemetry] = []

    async def control_plane(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(welcome(last_seq=-1))
        received.append(await next_batch(ws))
        received.append(await next_batch(ws))
        try:
            received.append(await asyncio.wait_for(ws.recv(), 0.3))
        except TimeoutError:
            pass
        await ws.close(CLOSE_REVOKED)

    code, agent = asyncio.run(run_against(control_plane, max_in_flight=2))
    assert code == EXIT_FATAL
    assert len(received) == 2
    assert len(agent.buffer) > 2  # sampling went on; the records wait in the buffer


def test_it_reconnects_after_the_server_goes_away_without_a_close_code():
    connections = 0

    async def control_plane(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await ws.recv()
        if connections < 3:
            ws.transport.abort()  # a crash, not a goodbye
            return
        await ws.close(CLOSE_REVOKED)

    code, agent = asyncio.run(run_against(control_plane))
    assert code == EXIT_FATAL
    assert connections == agent.connections == 3


def test_an_http_403_handshake_refusal_stops_the_agent():
    attempts = 0

    def refuse(connection, request):
        nonlocal attempts
        attempts += 1
        return connection.respond(HTTPStatus.FORBIDDEN, "unknown device\n")

    async def scenario() -> int:
        async with serve(lambda ws: None, "127.0.0.1", 0, process_request=refuse) as server:
            agent = make_agent(server.sockets[0].getsockname()[1])
            return await asyncio.wait_for(agent.run(asyncio.Event()), 5)

    assert asyncio.run(scenario()) == EXIT_FATAL
    assert attempts == 1


def test_setting_stop_shuts_the_agent_down_cleanly():
    async def scenario() -> tuple[int, int | None]:
        stop = asyncio.Event()
        close_codes: list[int | None] = []

        async def control_plane(ws: ServerConnection) -> None:
            await ws.recv()
            await ws.send(welcome(last_seq=-1))
            await next_batch(ws)
            stop.set()
            await ws.wait_closed()
            close_codes.append(ws.close_code)

        async with serve(control_plane, "127.0.0.1", 0) as server:
            agent = make_agent(server.sockets[0].getsockname()[1])
            code = await asyncio.wait_for(agent.run(stop), 5)
            await asyncio.sleep(0.05)
        return code, close_codes[0] if close_codes else None

    assert asyncio.run(scenario()) == (0, 1001)


def test_a_server_that_stops_acking_gets_a_fresh_connection_that_resends_everything():
    first_seqs: list[int] = []
    resent: list[int] = []

    async def control_plane(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(welcome(last_seq=-1))
        if not first_seqs:
            first_seqs.extend(r.seq for r in (await next_batch(ws)).records)
            await ws.wait_closed()  # never acks: the agent must give up on this connection
            return
        resent.extend(r.seq for r in (await next_batch(ws)).records)
        await ws.close(CLOSE_REVOKED)

    code, agent = asyncio.run(run_against(control_plane, ack_timeout=0.2))
    assert code == EXIT_FATAL and agent.connections == 2
    assert resent[: len(first_seqs)] == first_seqs


def test_a_batch_the_server_could_not_store_is_offered_again_on_the_same_connection():
    refused: list[int] = []
    later: list[int] = []

    async def control_plane(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(welcome(last_seq=-1))
        refused.extend(r.seq for r in (await next_batch(ws)).records)
        await ws.send(Error(code="store_failed", message="database busy").to_json())
        while not set(refused) <= set(later):
            batch = await next_batch(ws)
            later.extend(r.seq for r in batch.records)
            await ws.send(ack(batch))
        await ws.close(CLOSE_REVOKED)

    code, agent = asyncio.run(run_against(control_plane, retry_delay=0.05))
    assert code == EXIT_FATAL and agent.connections == 1
    assert not set(refused) & set(agent.buffer.unacked())


def test_batches_stay_under_the_byte_limit():
    raw: list[str] = []

    async def control_plane(ws: ServerConnection) -> None:
        await ws.recv()
        await asyncio.sleep(0.15)  # a backlog builds up before the welcome
        await ws.send(welcome(last_seq=-1))
        for _ in range(4):
            raw.append(await asyncio.wait_for(ws.recv(), 5))
        await ws.close(CLOSE_REVOKED)

    asyncio.run(run_against(control_plane, max_batch_bytes=300, max_in_flight=100))
    assert all(len(text.encode()) <= 300 for text in raw)
    assert len(json.loads(raw[0])["records"]) > 1  # still batched, just smaller
    sent = [r["seq"] for text in raw for r in json.loads(text)["records"]]
    assert sent == list(range(len(sent)))


def test_the_telemetry_sender_stops_when_cancelled_as_it_is_woken():
    """Cancelled in the same moment as the sampler wakes it (the connection closing while a record comes
    in), the sender stops: with asyncio.wait_for, Python 3.11 returned the wake and swallowed the cancel,
    and the sender waited for the next wake for ever (the agent never stopped after the server closed)."""

    async def scenario() -> bool:
        agent = make_agent(9)
        flight = _Flight(batches=deque([(time.monotonic(), 0)]))  # a batch unacked: its ack deadline
        sender = asyncio.create_task(agent._wait_until_sendable(flight))
        await asyncio.sleep(0.01)  # waiting for a wake: nothing to send
        agent._wake.set()
        sender.cancel()
        done, _ = await asyncio.wait({sender}, timeout=2)
        if not done:
            sender.cancel()
            await asyncio.wait({sender}, timeout=2)
        return bool(done) and sender.cancelled()

    assert asyncio.run(scenario())


def test_a_failover_wait_for_the_next_route_stops_when_cancelled_as_the_switch_comes():
    """``next_route`` (a frame or a served request waiting for its failover route) cancelled in the same
    moment the switch arrives is cancelled, not handed the route (edgeorch_wire.aio.within)."""
    from types import SimpleNamespace

    from edgeorch_agent.executor.state import announce_switch, next_route

    async def scenario() -> bool:
        holder = SimpleNamespace(route=SimpleNamespace(deployment_id="old"), switched=asyncio.Event())
        waiting = asyncio.create_task(next_route(holder, "old", 5.0))
        await asyncio.sleep(0.01)
        holder.route = SimpleNamespace(deployment_id="new")
        announce_switch(holder)
        waiting.cancel()
        await asyncio.wait({waiting}, timeout=2)
        return waiting.cancelled()

    assert asyncio.run(scenario())
