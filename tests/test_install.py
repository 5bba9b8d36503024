"""The served install script installs the agent into a venv, enrolls it, and leaves a private config."""

import os
import stat
import subprocess
import sys
import sysconfig

import pytest
import requests
import yaml

from edgeorch.devices import services
from edgeorch.devices.models import Device

from .support import ROOT

pytestmark = pytest.mark.e2e


def test_install_script_installs_and_enrolls_an_agent(live_server_proc, tmp_path):
    _, token = services.create_enrollment_token()
    script = requests.get(f"{live_server_proc.url}/agent/install.sh", timeout=10)
    assert script.status_code == 200 and script.text.startswith("#!/bin/sh")
    prefix = tmp_path / "agent"
    # The device has no package index here: pip installs only the agent, whose dependencies the test's
    # own environment provides.
    env = {
        **os.environ,
        "EDGEORCH_PIP_ARGS": "--no-deps --no-build-isolation",
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
    }
    result = subprocess.run(
        [
            "sh",
            "-s",
            "--",
            "--server",
            live_server_proc.url,
            "--token",
            token,
            "--name",
            "installed",
            "--prefix",
            str(prefix),
        ],
        input=script.text,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Enrolled" in result.stdout
    config = prefix / "agent.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert Device.objects.filter(name="installed").exists()
    version = subprocess.run(
        [str(prefix / "venv/bin/edgeorch-agent"), "--version"], capture_output=True, text=True, env=env
    )
    assert version.stdout.startswith("edgeorch-agent ")


def test_install_script_refuses_to_run_without_a_token(live_server_proc):
    script = requests.get(f"{live_server_proc.url}/agent/install.sh", timeout=10).text
    result = subprocess.run(["sh", "-s", "--"], input=script, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "--token is required" in result.stderr


def test_compose_runs_every_service_from_the_same_commands():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services_ = compose["services"]
    assert set(services_) == {"secrets", "postgres", "redis", "web", "caddy", "worker", "beat", "agent"}
    assert "./scripts/web.sh" in services_["web"]["command"]
    assert services_["worker"]["command"][:4] == ["celery", "-A", "edgeorch", "worker"]
    assert services_["beat"]["command"][:4] == ["celery", "-A", "edgeorch", "beat"]
    assert "edgeorch-agent run" in services_["agent"]["command"]
    for name in ("web", "worker", "beat"):
        assert services_[name]["image"] == "edgeorch:latest"
        assert services_[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    # Every management command the compose file calls exists.
    for command in ("migrate", "build_zoo", "ensure_enrollment_token"):
        if command in services_["web"]["command"]:
            out = subprocess.run(
                [sys.executable, "manage.py", "help", command], cwd=ROOT, capture_output=True
            )
            assert out.returncode == 0, command
