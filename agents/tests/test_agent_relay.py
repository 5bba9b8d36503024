"""Relaying: after a peer could not be reached, its activations go through the control plane for a while
without trying it again (a silent address would cost every request two connect timeouts)."""

from __future__ import annotations

import asyncio

from edgeorch_wire.protocol import Run
from execution_fixtures import chain_stages, conv_chain, file_server, node, npy
from test_agent_execution import X, deploy


async def refusing_peer() -> tuple[asyncio.Server, list[int]]:
    """A listener that accepts and hangs up at once (no handshake ever completes); counts connections."""
    accepted: list[int] = []

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        writer.close()

    return await asyncio.start_server(hang_up, "127.0.0.1", 0), accepted


def relays_and_connections(tmp_path, requests: int, **options) -> tuple[list[int], int]:
    async def scenario(files):
        server, accepted = await refusing_peer()
        async with server, node("alice", tmp_path, **options) as alice:
            peer = {
                "device_id": "bob",
                "host": "127.0.0.1",
                "port": server.sockets[0].getsockname()[1],
                "codec": "raw",
            }
            await deploy(alice, chain_stages(files, [alice.hop(), peer, None])[:2])
            for request_id in range(requests):
                await alice.executor.handle(Run("dep-1", request_id, 0, files.url("input.npy")))
                await alice.wait_for("relay", request_id + 1)
            return [m.request_id for m in alice.of_type("relay")], len(accepted)

    with file_server({**conv_chain(), "input.npy": npy(X)}) as files:
        return asyncio.run(scenario(files))


def test_after_a_failed_connection_the_next_requests_are_relayed_without_trying_the_peer_again(tmp_path):
    relayed, connections = relays_and_connections(tmp_path, 4)
    assert relayed == [0, 1, 2, 3]
    assert connections == 2  # the first request's attempt and its retry; none after


def test_once_the_relay_period_is_over_the_peer_is_tried_again(tmp_path):
    relayed, connections = relays_and_connections(tmp_path, 3, relay_for=0.0)
    assert relayed == [0, 1, 2] and connections == 6  # every request tries twice
