"""``edgeorch-agent run --profile``: the agent process presents the emulated device to the control plane."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import pytest
from edgeorch_agent.cli import main
from edgeorch_agent.config import AgentConfig, save_config
from edgeorch_wire.protocol import Welcome
from websockets.asyncio.server import ServerConnection, serve

DEVICE_ID = "8d0a3c55-0000-4000-8000-000000000003"


def test_run_with_an_unknown_profile_names_the_known_ones_and_exits_2(tmp_path, capsys):
    save_config(AgentConfig("http://x", "ws://x/ws/agent/", DEVICE_ID, "n", "c"), tmp_path / "a.json")
    assert main(["run", "--config", str(tmp_path / "a.json"), "--profile", "toaster"]) == 2
    assert "unknown device profile 'toaster'" in capsys.readouterr().err


def test_run_with_a_malformed_links_file_exits_2(tmp_path, capsys):
    save_config(AgentConfig("http://x", "ws://x/ws/agent/", DEVICE_ID, "n", "c"), tmp_path / "a.json")
    (tmp_path / "links.json").write_text('{"peer": {"rtt": 1}}')
    assert main(["run", "--config", str(tmp_path / "a.json"), "--links", str(tmp_path / "links.json")]) == 2
    assert "unknown field(s) ['rtt']" in capsys.readouterr().err


@pytest.mark.e2e  # starts a process
def test_an_agent_run_as_a_jetson_nano_says_so_and_reports_emulated_metrics(tmp_path):
    async def scenario() -> tuple[int | None, dict, dict]:
        hellos: list[dict] = []
        records: list[dict] = []
        got = asyncio.Event()

        async def control_plane(ws: ServerConnection) -> None:
            hellos.append(json.loads(await ws.recv()))
            await ws.send(Welcome(DEVICE_ID, "n", 60.0, 30.0, last_seq=-1).to_json())
            async for frame in ws:
                message = json.loads(frame)
                records.extend(message.get("records", []))
                if any("temp.emulated" in r["metrics"] for r in records):
                    got.set()

        async with serve(control_plane, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            url = f"127.0.0.1:{port}"
            save_config(
                AgentConfig(f"http://{url}", f"ws://{url}/ws/agent/", DEVICE_ID, "n", "c"),
                tmp_path / "a.json",
            )
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "edgeorch_agent",
                "run",
                "--config",
                str(tmp_path / "a.json"),
                "--dataplane-host",
                "127.0.0.1",
                "--profile",
                "jetson-nano",
                "--background-load",
                "0.2",
                env={**os.environ, "EDGEORCH_AGENT_TELEMETRY_INTERVAL": "0.05"},
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                await asyncio.wait_for(got.wait(), 10)
            finally:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.communicate(), 10)
        last = [r for r in records if "temp.emulated" in r["metrics"]][-1]
        return process.returncode, hellos[0], last["metrics"]

    code, hello, metrics = asyncio.run(scenario())
    assert code == 0
    assert hello["profile"] == "jetson-nano"
    inventory = hello["inventory"]
    assert inventory["memory_bytes"] <= 4 << 30
    assert set(inventory["emulated_metrics"]) == {
        "emulated",
        "tenant.share",
        "temp.emulated",
        "cpu.throttle_factor",
        "power.watts",
    }
    assert metrics["emulated"] == 1.0 and metrics["tenant.share"] == 0.2
    assert metrics["temp.emulated"] >= 25.0 and metrics["cpu.throttle_factor"] >= 1.0
    # The host's own sensors are not the emulated device's: only the model's temperature is reported.
    assert [m for m in metrics if m.startswith("temp.")] == ["temp.emulated"]
