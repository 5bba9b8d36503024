"""The link to the control plane: a probe that asks for it is measured on the control connection (RTT by
websocket ping/pong) and by timed uploads to the link-probe endpoint; the advertised data-plane address."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from edgeorch_agent.cli import build_parser
from edgeorch_wire.protocol import AGENT_MESSAGES, CLOSE_REVOKED, Probe, ProbeResult, ProtocolError, decode
from test_agent_client import DEVICE_ID, make_agent, welcome
from test_agent_client_execution import next_message
from websockets.asyncio.server import ServerConnection, serve

CREDENTIAL = f"{DEVICE_ID}.s3cret"


@contextmanager
def link_probe_endpoint() -> Iterator[tuple[int, list[tuple[str, str, int]]]]:
    """The control plane's link-probe endpoint as the agent sees it: ``/probe/`` counts an authenticated
    upload and answers ``{"received": n}``; ``/refuse/`` answers 401 with a detail. Yields (port, uploads)."""
    uploads: list[tuple[str, str, int]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Daphne

        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            uploads.append((self.path, self.headers.get("Authorization", ""), len(body)))
            ok = self.path == "/probe/" and self.headers.get("Authorization") == f"Device {CREDENTIAL}"
            answer = {"received": len(body)} if ok else {"detail": "Device credential refused."}
            data = json.dumps(answer).encode()
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], uploads
    finally:
        server.shutdown()
        server.server_close()


def test_a_probe_measures_the_control_plane_link_over_the_socket_and_timed_uploads(tmp_path):
    seen: dict = {}

    async def control_plane(ws: ServerConnection) -> None:
        seen["connections"] = seen.get("connections", 0) + 1
        try:
            await probe_three_ways(ws)
        except BaseException as exc:  # reported by the assertions below, not only in websockets' log
            seen.setdefault("errors", []).append(repr(exc))
            raise

    async def probe_three_ways(ws: ServerConnection) -> None:
        await ws.recv()  # hello
        await ws.send(welcome(last_seq=-1))
        base = f"http://127.0.0.1:{http_port}"
        await ws.send(Probe("pr-1", [], 64 * 1024, control_plane_url=base + "/probe/").to_json())
        seen["measured"] = await next_message(ws, "probe_result")  # decoded as the server would: validated
        await ws.send(Probe("pr-2", [], 1024, control_plane_url=base + "/refuse/").to_json())
        seen["refused"] = await next_message(ws, "probe_result")
        await ws.send(Probe("pr-3", []).to_json())  # an old server's probe: peers only
        seen["peers_only"] = await next_message(ws, "probe_result")
        await ws.close(CLOSE_REVOKED, "done")

    async def scenario():
        async with serve(control_plane, "127.0.0.1", 0) as server:
            agent = make_agent(server.sockets[0].getsockname()[1], segment_cache=tmp_path)
            # Generous. It hung here 1 run in 12-25 on a loaded host (once in CI) until the telemetry sender
            # stopped swallowing its cancel (client._wait_until_sendable); the errors below say where.
            return await asyncio.wait_for(agent.run(asyncio.Event()), 60)

    with link_probe_endpoint() as (http_port, uploads):
        try:
            asyncio.run(scenario())
        except TimeoutError:
            pytest.fail(
                f"the agent did not finish: {seen.get('connections')} connection(s), "
                f"errors {seen.get('errors')}, uploads {uploads}, seen {sorted(seen)}"
            )
    assert seen["connections"] == 1 and "errors" not in seen, seen
    measured, refused = seen["measured"], seen["refused"]
    assert isinstance(measured, ProbeResult) and measured.probe_id == "pr-1" and measured.links == []
    link = measured.control_plane
    assert link["error"] is None and link["rtt_s"] > 0 and link["bandwidth_bps"] > 0
    # One untimed empty POST opens the connection, then three empty and three full ones, all authenticated.
    probe_uploads = [u for u in uploads if u[0] == "/probe/"]
    assert [size for _, _, size in probe_uploads] == [0, 0, 0, 0, 65536, 65536, 65536]
    assert {auth for _, auth, _ in probe_uploads} == {f"Device {CREDENTIAL}"}
    assert refused.control_plane["rtt_s"] is None and refused.control_plane["bandwidth_bps"] is None
    assert (
        "HTTP 401" in refused.control_plane["error"]
        and "credential refused" in refused.control_plane["error"]
    )
    assert seen["peers_only"].control_plane is None


def test_an_advertised_data_plane_address_is_what_hello_announces(tmp_path):
    hellos: list[dict] = []

    async def control_plane(ws: ServerConnection) -> None:
        hellos.append(json.loads(await ws.recv()))
        await ws.close(CLOSE_REVOKED, "done")

    async def scenario():
        async with serve(control_plane, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            for options in ({}, {"advertise_host": "127.0.0.2", "advertise_port": 4242}):
                agent = make_agent(port, segment_cache=tmp_path, **options)
                await asyncio.wait_for(agent.run(asyncio.Event()), 10)

    asyncio.run(scenario())
    plain, advertised = (h["dataplane"] for h in hellos)
    assert plain["host"] == "127.0.0.1" and plain["port"] > 0  # what it bound
    assert advertised == {"host": "127.0.0.2", "port": 4242}


def test_the_command_line_takes_an_advertised_address_and_refuses_a_bad_port(capsys):
    args = build_parser().parse_args(["run", "--advertise-host", "127.0.0.2", "--advertise-port", "7000"])
    assert (args.advertise_host, args.advertise_port) == ("127.0.0.2", 7000)
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["run", "--advertise-port", "70000"])
    assert exit_.value.code == 2 and "is not a port number" in capsys.readouterr().err


def result(**control_plane) -> str:
    return json.dumps(
        {"v": 1, "type": "probe_result", "probe_id": "p", "links": [], "control_plane": control_plane}
    )


@pytest.mark.parametrize(
    ("control_plane", "code", "complaint"),
    [
        (
            {"rtt_s": -0.1, "bandwidth_bps": 1e6},
            "bad_value",
            "control_plane: rtt_s must be a finite number >= 0",
        ),
        ({"rtt_s": 0.01, "bandwidth_bps": 0}, "bad_value", "bandwidth_bps must be a finite number > 0"),
        ({"rtt_s": 0.01, "bandwidth_bps": float("inf")}, "bad_value", "must be a finite number > 0"),
        ({"rtt_s": "fast", "bandwidth_bps": 1e6}, "wrong_type", "'rtt_s' must be an integer or a number"),
        ({"rtt_s": None, "bandwidth_bps": None}, "missing_field", "'rtt_s' is null, so 'error' must say why"),
    ],
)
def test_a_malformed_probe_result_is_refused_saying_what_is_wrong(control_plane, code, complaint):
    with pytest.raises(ProtocolError) as refused:
        decode(result(**control_plane), AGENT_MESSAGES)
    assert refused.value.code == code and complaint in str(refused.value)


def test_a_malformed_peer_link_is_refused_and_good_results_decode():
    bad_peer = {
        "v": 1,
        "type": "probe_result",
        "probe_id": "p",
        "links": [{"rtt_s": 0.1, "bandwidth_bps": 2.0}],
    }
    with pytest.raises(ProtocolError, match=r"links\[0\]: field 'device_id' is required"):
        decode(json.dumps(bad_peer), AGENT_MESSAGES)
    failed = decode(result(rtt_s=None, bandwidth_bps=None, error="ConnectionError: gone"), AGENT_MESSAGES)
    assert failed.control_plane["error"] == "ConnectionError: gone"
    old = decode(json.dumps({"v": 1, "type": "probe_result", "probe_id": "p", "links": []}), AGENT_MESSAGES)
    assert old.control_plane is None  # an agent from before the control-plane link
