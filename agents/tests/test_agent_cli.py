"""The command line: enrollment against a tiny local HTTP server, and ``run`` as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from edgeorch_agent import __version__
from edgeorch_agent.cli import main
from edgeorch_agent.config import AgentConfig, save_config
from edgeorch_wire.protocol import Welcome
from websockets.asyncio.server import ServerConnection, serve

DEVICE_ID = "8d0a3c55-0000-4000-8000-000000000002"


@contextmanager
def enrollment_server(status: int, answer: dict):
    requests: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            requests.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", requests
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_enrollment_prints_the_servers_detail_and_exits_2(tmp_path, capsys):
    detail = {"detail": "This enrollment token has expired."}
    with enrollment_server(403, detail) as (url, _):
        code = main(["enroll", "--server", url, "--token", "t0ken", "--config", str(tmp_path / "a.json")])
    assert code == 2
    assert "This enrollment token has expired." in capsys.readouterr().err
    assert not (tmp_path / "a.json").exists()


def test_an_unreachable_server_is_a_clear_error(tmp_path, capsys):
    code = main(
        ["enroll", "--server", "http://127.0.0.1:9", "--token", "t", "--config", str(tmp_path / "a.json")]
    )
    assert code == 2
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


def test_enrollment_sends_name_profile_and_inventory_and_writes_a_private_config(tmp_path):
    answer = {
        "device_id": DEVICE_ID,
        "name": "jetson-1",
        "credential": f"{DEVICE_ID}.s3cret",
        "ws_url": "ws://cp:8000/ws/agent/",
    }
    path = tmp_path / "cfg" / "agent.json"
    with enrollment_server(201, answer) as (url, requests):
        args = [
            "enroll",
            "--server",
            url + "/",
            "--token",
            "t0ken",
            "--name",
            "jetson-1",
            "--profile",
            "jetson",
        ]
        assert main([*args, "--config", str(path)]) == 0
    (request,) = requests
    assert request["path"] == "/api/agent/enroll/"
    assert request["body"]["token"] == "t0ken"
    assert request["body"]["name"] == "jetson-1" and request["body"]["profile"] == "jetson"
    assert request["body"]["inventory"]["agent_version"] == __version__
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {**answer, "server": url, "profile": "jetson"}


def test_run_without_a_config_says_to_enroll_and_exits_2(tmp_path, capsys):
    assert main(["run", "--config", str(tmp_path / "missing.json")]) == 2
    assert "enroll" in capsys.readouterr().err


def test_version_prints_the_agent_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_a_bad_telemetry_interval_in_the_environment_fails_loudly(tmp_path, monkeypatch):
    save_config(AgentConfig("http://x", "ws://x/ws/agent/", DEVICE_ID, "n", "c"), tmp_path / "a.json")
    monkeypatch.setenv("EDGEORCH_AGENT_TELEMETRY_INTERVAL", "fast")
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--config", str(tmp_path / "a.json")])
    assert exit_info.value.code == 2


@pytest.mark.e2e  # starts a process
def test_the_agent_process_streams_telemetry_and_exits_0_on_sigterm(tmp_path):
    async def scenario() -> tuple[int | None, dict, bytes]:
        hellos: list[dict] = []
        got_telemetry = asyncio.Event()

        async def control_plane(ws: ServerConnection) -> None:
            hellos.append(json.loads(await ws.recv()))
            await ws.send(Welcome(DEVICE_ID, "n", 60.0, 30.0, last_seq=-1).to_json())
            async for frame in ws:
                if json.loads(frame)["type"] == "telemetry":
                    got_telemetry.set()

        async with serve(control_plane, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            config = AgentConfig(
                f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws/agent/", DEVICE_ID, "n", "c"
            )
            save_config(config, tmp_path / "agent.json")
            env = {**os.environ, "EDGEORCH_AGENT_TELEMETRY_INTERVAL": "0.05"}  # beats the welcome's 60 s
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "edgeorch_agent",
                "run",
                "--config",
                str(tmp_path / "agent.json"),
                "--dataplane-host",
                "127.0.0.1",
                env=env,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                await asyncio.wait_for(got_telemetry.wait(), 10)
            finally:
                process.send_signal(signal.SIGTERM)
                _, stderr = await asyncio.wait_for(process.communicate(), 10)
        return process.returncode, hellos[0], stderr

    code, hello, stderr = asyncio.run(scenario())
    assert code == 0, stderr.decode()
    assert hello["device_id"] == DEVICE_ID and hello["inventory"]["hostname"]
    assert b"connected to ws://127.0.0.1" in stderr
