"""Fixtures for end-to-end tests: a real Daphne server and real agent processes, on PostgreSQL and Redis."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=15.0, interval=0.1, message="condition"):
    """Poll ``predicate`` until it returns a truthy value; fail the test with ``message`` after ``timeout``."""
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

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(ROOT / "scripts/web.sh")], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_until(self._answers, timeout=30, message=f"Daphne on port {self.port} (log: {self.log_path})")
        return self

    def _answers(self) -> bool:
        if self.proc and self.proc.poll() is not None:
            raise AssertionError(
                f"Daphne exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}"
            )
        try:
            return requests.get(self.url + "/accounts/login/", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
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
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def server_env(settings, django_db_blocker, transactional_db, tmp_path):
    """Environment for processes that must see the test database and an isolated channel layer."""
    db = settings.DATABASES["default"]
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    media = settings.MEDIA_ROOT = tmp_path / "media"
    if db["ENGINE"].endswith("sqlite3"):  # the demo tier: the test database is a file the processes share
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret-key"),
        "EDGEORCH_CHANNEL_PREFIX": prefix,
        "EDGEORCH_TELEMETRY_INTERVAL": "0.2",
        "EDGEORCH_LIVENESS_TIMEOUT": "3",
        "PYTHONUNBUFFERED": "1",
        # The test's own Celery queue and media directory, shared with this process's settings.
        "EDGEORCH_CELERY_QUEUE": f"q-{prefix}",
        "EDGEORCH_MEDIA_ROOT": str(media),
        "EDGEORCH_JOB_TIMEOUT": "20",
    }


@pytest.fixture
def live_server_proc(server_env, tmp_path, settings):
    """A running Daphne on a free port, stopped after the test. Its channel prefix is the test's own."""
    settings.CHANNEL_LAYERS = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {
                **settings.CHANNEL_LAYERS["default"]["CONFIG"],
                "prefix": server_env["EDGEORCH_CHANNEL_PREFIX"],
            },
        }
    }
    from channels import layers

    layers.channel_layers.backends.clear()
    server = Server(server_env, tmp_path / "daphne.log").start()
    yield server
    server.stop()
    layers.channel_layers.backends.clear()


@pytest.fixture
def agents(live_server_proc, tmp_path):
    """A factory of agent processes; every one is stopped after the test."""
    started: list[Agent] = []

    def make(name: str) -> Agent:
        agent = Agent(live_server_proc, tmp_path, name)
        started.append(agent)
        return agent

    yield make
    for agent in started:
        agent.stop()


def token_for(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
def worker(live_server_proc, server_env, tmp_path):
    """A real Celery worker on the test's queue (the live server enqueues there)."""
    log_path = tmp_path / "celery.log"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "edgeorch", "worker", "-l", "info", "--concurrency", "2",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=server_env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    wait_until(lambda: b"ready" in log_path.read_bytes(), timeout=30, message="the celery worker")
    yield log_path
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(20)


@pytest.fixture
def fleet(agents, worker):
    """Start named agents and wait until each is online with its data plane announced."""

    from edgeorch.devices import services as device_services
    from edgeorch.devices.models import Device

    def start(*names):
        started = []
        for name in names:
            _, token = device_services.create_enrollment_token()
            agent = agents(name)
            assert agent.enroll(token).returncode == 0
            started.append(agent.start())
        for agent in started:
            wait_until(
                lambda a=agent: Device.objects.filter(pk=a.device_id, status="online", dataplane_port__isnull=False)
                .exists(),
                message=f"{agent.name} online",
            )  # fmt: skip
        return started

    return start


# --- jobs over the REST API, as a script would run them -------------------------------------------


@pytest.fixture
def api(live_server_proc, alice):
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token_for(alice)}"
    session.base = live_server_proc.url
    return session


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
