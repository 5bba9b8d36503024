"""Real agent processes against a live Daphne, PostgreSQL, Redis and a Celery worker."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from edgeorch.devices import services
from edgeorch.devices.models import Device
from edgeorch.telemetry.models import TelemetryRecord

from .support import ROOT, token_for, wait_until

pytestmark = pytest.mark.e2e


def stored_seqs(device_id) -> list[int]:
    return list(
        TelemetryRecord.objects.filter(device_id=device_id).order_by("seq").values_list("seq", flat=True)
    )


def test_an_agent_process_enrolls_and_its_telemetry_lands_in_postgres(agents):
    _, token = services.create_enrollment_token(max_uses=2)
    agent = agents("pi-kitchen")
    result = agent.enroll(token)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(agent.config.stat().st_mode) == 0o600
    agent.start()
    wait_until(lambda: len(stored_seqs(agent.device_id)) >= 5, message=f"telemetry stored\n{agent.log()}")
    device = Device.objects.get(pk=agent.device_id)
    assert device.status == "online" and device.name == "pi-kitchen"
    assert device.inventory["cpu_cores_logical"] >= 1 and device.inventory["memory_bytes"] > 0
    assert "CPUExecutionProvider" in device.inventory["execution_providers"]
    assert device.dataplane_port
    metrics = TelemetryRecord.objects.filter(device=device).order_by("-seq").first().metrics
    assert 0 <= metrics["cpu.percent"] <= 100 and metrics["mem.total_bytes"] > 0


def test_an_agent_with_a_used_up_token_is_told_why(agents):
    _, token = services.create_enrollment_token(max_uses=1)
    assert agents("first").enroll(token).returncode == 0
    second = agents("second")
    result = second.enroll(token)
    assert result.returncode != 0
    assert "used up" in result.stdout + result.stderr
    assert not second.config.exists()


def test_restarting_the_server_under_a_running_agent_loses_and_duplicates_nothing(agents, live_server_proc):
    _, token = services.create_enrollment_token()
    agent = agents("survivor")
    assert agent.enroll(token).returncode == 0
    agent.start()
    wait_until(lambda: len(stored_seqs(agent.device_id)) >= 5, message="telemetry before the restart")
    live_server_proc.stop()
    down_at = time.time()
    time.sleep(2.0)  # the agent keeps sampling into its buffer while the server is down
    live_server_proc.start()
    wait_until(
        lambda: TelemetryRecord.objects.filter(device_id=agent.device_id, ts__gt=_dt(down_at + 2.5)).exists(),
        timeout=30,
        message=f"telemetry after the restart\n{agent.log()}",
    )
    seqs = stored_seqs(agent.device_id)
    assert seqs == list(range(len(seqs))), "a gap or a duplicate in the stored sequence"
    # Records sampled while the server was down were buffered and arrived after the restart.
    during = TelemetryRecord.objects.filter(
        device_id=agent.device_id, ts__gt=_dt(down_at + 0.3), ts__lt=_dt(down_at + 1.7)
    )
    assert during.count() >= 4


def _dt(ts: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, tz=UTC)


def test_revoking_a_device_cuts_its_agent_off_for_good(agents, live_server_proc, alice):
    _, token = services.create_enrollment_token()
    agent = agents("stolen")
    assert agent.enroll(token).returncode == 0
    agent.start()
    wait_until(
        lambda: Device.objects.filter(pk=agent.device_id, status="online").exists(), message="agent online"
    )
    response = requests.post(
        f"{live_server_proc.url}/api/devices/{agent.device_id}/revoke/",
        headers={"Authorization": f"Token {token_for(alice)}"},
        timeout=10,
    )
    assert response.status_code == 200
    # The agent hears the fatal close code and stops instead of hammering the server with reconnects.
    wait_until(lambda: agent.proc.poll() is not None, timeout=15, message=f"the agent to exit\n{agent.log()}")
    assert agent.proc.returncode == 3
    assert "revoked" in agent.log()
    count = TelemetryRecord.objects.filter(device_id=agent.device_id).count()
    time.sleep(0.5)
    assert TelemetryRecord.objects.filter(device_id=agent.device_id).count() == count


def test_a_stalled_agent_is_marked_offline_by_the_celery_beat_task(agents, server_env, tmp_path):
    """Liveness reflects progress: a frozen agent keeps its socket open but stops sending."""
    _, token = services.create_enrollment_token()
    agent = agents("frozen")
    assert agent.enroll(token).returncode == 0
    agent.start()
    wait_until(
        lambda: Device.objects.filter(pk=agent.device_id, status="online").exists(), message="agent online"
    )
    env = {**server_env, "EDGEORCH_LIVENESS_TIMEOUT": "2", "EDGEORCH_LIVENESS_CHECK_INTERVAL": "0.5"}
    env["EDGEORCH_CELERY_QUEUE"] = f"q-{env['EDGEORCH_CHANNEL_PREFIX']}"
    log = open(tmp_path / "celery.log", "wb")
    celery = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "edgeorch",
            "worker",
            "-B",
            "-l",
            "info",
            "--concurrency",
            "1",
            "-s",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        os.kill(agent.proc.pid, signal.SIGSTOP)
        device = wait_until(
            lambda: Device.objects.filter(pk=agent.device_id, status="offline").first(),
            timeout=30,
            message="the beat task to mark the device offline\n"
            f"{(tmp_path / 'celery.log').read_text()[-3000:]}",
        )
        assert device.last_seen is not None
        os.kill(agent.proc.pid, signal.SIGCONT)
        wait_until(
            lambda: Device.objects.filter(pk=agent.device_id, status="online").exists(), message="back online"
        )
    finally:
        os.kill(agent.proc.pid, signal.SIGCONT)
        os.killpg(celery.pid, signal.SIGTERM)
        celery.wait(20)
