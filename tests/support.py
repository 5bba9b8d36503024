"""Helpers the end-to-end tests share (the fixtures that use them are in ``conftest.py``): a live Daphne,
real agent processes, polling, and the REST calls a script makes to run a job."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=15.0, interval=0.1, message="condition"):
    """Poll ``predicate`` until it returns a truthy value; fail the test with ``message`` after
    ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


class Server:
    """A Daphne process serving edgeorch against the test database."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "PORT": str(self.port)}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        # Set by the live_server_proc fixture: a worker booting beside this server, and the waits for the
        # processes the other fixtures signalled at their teardown (all stopping together).
        self.early_worker: subprocess.Popen | None = None
        self.stopping: list = []

    def start(self):
        return self.spawn().wait_ready()

    def spawn(self):
        """Start the process without waiting for it to answer (``wait_ready``): the test fixtures boot Daphne
        and the Celery worker side by side."""
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(ROOT / "scripts/web.sh")],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self):
        wait_until(self._answers, timeout=30, message=f"Daphne on port {self.port} (log: {self.log_path})")
        return self

    def _answers(self) -> bool:
        if self.proc and self.proc.poll() is not None:
            raise AssertionError(
                f"Daphne exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}"
            )
        try:
            # The first request loads the application (1.4 s on an idle 2-core host): a slow answer is "not
            # yet", not an error.
            # Said to have come over HTTPS, as through the proxy: a server with TLS on (EDGEORCH_PUBLIC_URL
            # https://...) answers it too, instead of redirecting.
            headers = {"X-Forwarded-Proto": "https"}
            return requests.get(self.url + "/accounts/login/", headers=headers, timeout=5).status_code == 200
        except (requests.ConnectionError, requests.Timeout):
            return False

    def stop(self):
        self.signal()
        self.wait_stopped()

    def signal(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)

    def wait_stopped(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Agent:
    """A real ``edgeorch-agent`` process, enrolled against a live server."""

    def __init__(self, server: Server, workdir: Path, name: str):
        self.server = server
        self.name = name
        self.config = workdir / f"{name}.json"
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def enroll(self, token: str, *extra: str) -> subprocess.CompletedProcess:
        cmd = [str(BIN / "edgeorch-agent"), "enroll", "--server", self.server.url, "--token", token]
        cmd += ["--name", self.name, "--config", str(self.config), *extra]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30)

    @property
    def device_id(self) -> str:
        return json.loads(self.config.read_text())["device_id"]

    def start(self, *extra: str, interval: float = 0.2):
        log = open(self.log_path, "ab")
        env = {**os.environ, "EDGEORCH_AGENT_TELEMETRY_INTERVAL": str(interval)}
        cmd = [str(BIN / "edgeorch-agent"), "run", "--config", str(self.config), *extra]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def stop(self, sig=signal.SIGTERM) -> int | None:
        self.signal(sig)
        return self.wait_stopped()

    def signal(self, sig=signal.SIGTERM) -> None:
        """Send ``sig`` to the agent's process group; ``wait_stopped`` waits for it (the fixtures signal every
        process first, so that they shut down together rather than one after another)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def wait_stopped(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def run_scenario(
    spec: dict, server_env: dict, server, tmp_path: Path, name: str = "scenario"
) -> tuple[dict, Path]:
    """``manage.py run_scenario`` on ``spec`` (written to ``tmp_path/NAME.yaml``: a profile path in it is
    relative to ``tmp_path``) against the live ``server``, its agents' run directory under ``tmp_path``.
    The command runs in this process: meanwhile it enqueues on the test worker's queue. Returns the report
    (JSON) and its path (the Markdown report is beside it, ``.md``)."""
    import yaml
    from django.core.management import call_command

    from edgeorch.celery import app

    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    report = tmp_path / "report.json"
    default = app.conf.task_default_queue
    app.conf.task_default_queue = server_env["EDGEORCH_CELERY_QUEUE"]
    try:
        run_dir = str(tmp_path / "run")
        call_command(
            "run_scenario", str(path), "--report", str(report), "--server", server.url, "--run-dir", run_dir
        )
    finally:
        app.conf.task_default_queue = default
    return json.loads(report.read_text()), report


def token_for(user) -> str:
    from edgeorch.api.keys import create_key

    return create_key(user)


def submit(api, **body):
    response = api.post(api.base + "/api/jobs/", json=body, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def finished(api, kind, pk, timeout=30.0):
    def done():
        body = api.get(f"{api.base}/api/{kind}/{pk}/", timeout=10).json()
        return body if body["state"] in ("completed", "failed", "cancelled") else None

    return wait_until(done, timeout=timeout, message=f"{kind} {pk} to finish")


def full_model_output(model, array):
    from edgeorch.catalog import runtime

    return next(iter(runtime.run(str(model.artifact_path), {model.inputs[0]["name"]: array}).values()))


def output_of(api, job_id):
    response = api.get(f"{api.base}/api/jobs/{job_id}/output.npy", timeout=10)
    assert response.status_code == 200, response.text
    return np.load(BytesIO(response.content))


def input_of(job_id):
    from edgeorch.jobs.models import Job

    return np.load(Job.objects.get(pk=job_id).input_path)


def start_worker(env: dict, log_path: Path, name: str = "celery@%h") -> subprocess.Popen:
    """A real Celery worker on the environment's queue, ready (tests/test_scale_out_e2e.py starts two)."""
    return wait_worker(spawn_worker(env, log_path, name), log_path)


def spawn_worker(env: dict, log_path: Path, name: str = "celery@%h") -> subprocess.Popen:
    """Start a Celery worker without waiting for it to be ready (``wait_worker``)."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "edgeorch",
            "worker",
            "-n",
            name,
            "-l",
            "info",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(log_path, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_worker(proc: subprocess.Popen, log_path: Path) -> subprocess.Popen:
    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(
                f"the celery worker exited with {proc.returncode}: {log_path.read_text()[-2000:]}"
            )
        return b"ready" in log_path.read_bytes()

    wait_until(ready, timeout=30, message="the celery worker")
    return proc


def stop_worker(proc: subprocess.Popen) -> None:
    signal_worker(proc)
    proc.wait(20)


def signal_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
