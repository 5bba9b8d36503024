"""Fixtures for end-to-end tests: a real Daphne server and real agent processes, on PostgreSQL and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from .support import ROOT, Agent, Server, signal_worker, spawn_worker, token_for, wait_until, wait_worker


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
        "EDGEORCH_FAILBACK_HOLD": "2",  # a failed-over session returns to a device back for 2 s
        "EDGEORCH_ALERT_INTERVAL": "1",  # beat (where a test starts it) evaluates alert rules every second
        # The coordinator moves sessions off saturated edges: off here, where tests pin their routes (the
        # coordinator's own tests turn it on).
        "EDGEORCH_COORDINATOR": "false",
    }


@pytest.fixture
def live_server_proc(request, server_env, tmp_path, settings):
    """A running Daphne on a free port, stopped after the test. Its channel prefix is the test's own.

    Where the test also asks for ``worker``, the Celery worker boots beside Daphne (both mostly import
    Django); after the test every process the fixtures started is signalled first and then waited for, so
    that they stop together rather than one after another."""
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
    server = Server(server_env, tmp_path / "daphne.log").spawn()
    if "worker" in request.fixturenames:
        server.early_worker = spawn_worker(server_env, tmp_path / "celery.log")
    server.wait_ready()
    yield server
    server.signal()
    for wait in server.stopping:
        wait()
    server.wait_stopped()
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
        agent.signal()
    live_server_proc.stopping += [agent.wait_stopped for agent in started]


@pytest.fixture
def worker(live_server_proc, server_env, tmp_path):
    """A real Celery worker on the test's queue (the live server enqueues there)."""
    log_path = tmp_path / "celery.log"
    proc = wait_worker(live_server_proc.early_worker or spawn_worker(server_env, log_path), log_path)
    yield log_path
    signal_worker(proc)
    live_server_proc.stopping.append(lambda: proc.wait(20))


@pytest.fixture
def beat(worker, server_env, tmp_path):
    """Celery beat, sending the periodic tasks (liveness, alert rules...) to the test's worker."""
    log_path = tmp_path / "beat.log"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "edgeorch", "beat", "-l", "info"]
        + ["-s", str(tmp_path / "celerybeat-schedule")],
        cwd=ROOT,
        env=server_env,
        stdout=open(log_path, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until(lambda: b"beat: Starting" in log_path.read_bytes(), timeout=30, message="celery beat")
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
                lambda a=agent: Device.objects.filter(
                    pk=a.device_id, status="online", dataplane_port__isnull=False
                ).exists(),
                message=f"{agent.name} online",
            )
        return started

    return start


# --- jobs over the REST API, as a script would run them -------------------------------------------


@pytest.fixture
def api(live_server_proc, alice):
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token_for(alice)}"
    session.base = live_server_proc.url
    return session
