"""The agent's control channel carries execution: deploy over the websocket, relayed activations, results."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from edgeorch_agent.dataplane import ping
from edgeorch_wire.codecs import encode
from edgeorch_wire.frames import Activation, activation_bytes, parse_activation, parse_frame
from edgeorch_wire.protocol import AGENT_MESSAGES, CLOSE_REVOKED, Deploy, Relayed, decode
from execution_fixtures import HIDDEN_SHAPE, chain_stages, conv_chain, file_server, run_model
from test_agent_client import DEVICE_ID, make_agent, welcome
from websockets.asyncio.server import ServerConnection, serve


async def next_message(ws: ServerConnection, kind: str):
    while True:
        frame = await asyncio.wait_for(ws.recv(), 10)
        if isinstance(frame, str) and json.loads(frame)["type"] == kind:
            return decode(frame, AGENT_MESSAGES)


def test_a_deployed_agent_runs_a_relayed_activation_and_returns_the_result_then_its_tensor(tmp_path):
    b = np.random.default_rng(1).standard_normal(HIDDEN_SHAPE).astype(np.float32)
    seen: dict = {}

    async def control_plane(ws: ServerConnection) -> None:
        hello = json.loads(await ws.recv())
        await ws.send(welcome(last_seq=-1))
        stages = chain_stages(files, [None, None, None])[2:]
        await ws.send(Deploy("dep-9", "k", stages, threads=1).to_json())
        seen["status"] = await next_message(ws, "deploy_status")
        # The data plane the hello announced accepts connections: it is the executor's listener.
        seen["rtt"] = await ping(hello["dataplane"]["host"], hello["dataplane"]["port"])
        payload, params = encode("raw", b)
        act = Activation("dep-9", 11, 2, "b", "float32", b.shape, "raw", payload, params, [])
        await ws.send(Relayed("dep-9", 11, "elsewhere").to_json())
        await ws.send(activation_bytes(act))
        seen["result"] = await next_message(ws, "result")
        seen["tensor"] = await asyncio.wait_for(ws.recv(), 5)  # the very next frame
        await ws.close(CLOSE_REVOKED, "done")

    async def scenario():
        async with serve(control_plane, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            agent = make_agent(port, segment_cache=tmp_path)
            return await asyncio.wait_for(agent.run(asyncio.Event()), 20)

    with file_server(conv_chain(), credential=f"{DEVICE_ID}.s3cret") as files:
        asyncio.run(scenario())
        expected = run_model(files.files["s2"], b)
    assert seen["status"].ok and seen["rtt"] > 0
    result = seen["result"]
    assert result.request_id == 11 and result.trace[0]["relayed"] is True
    tensor = parse_activation(parse_frame(seen["tensor"]))
    assert np.allclose(np.frombuffer(tensor.payload, np.float32).reshape(tensor.shape), expected, atol=1e-5)
