"""GET /healthz: up with the real database and Redis, 503 naming Redis when the broker is unreachable."""

import json
import os
import socket
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def test_healthy_with_the_database_and_redis_answering_and_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_redis_away_is_a_503_that_names_it_but_liveness_still_answers(client, settings):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down" and body["database"] == "ok"
    assert body["redis"].startswith("down (") and "ConnectionError" in body["redis"]
    assert client.get("/healthz?live").json() == {"status": "ok"}
    assert client.post("/healthz").status_code == 405


def test_behind_tls_the_probe_is_not_redirected_to_https_and_everything_else_is(client, settings):
    # The settings module as production reads it (EDGEORCH_TLS=true), in a process of its own.
    env = {**os.environ, "EDGEORCH_TLS": "true", "DEBUG": "false", "SECRET_KEY": "x" * 50}
    code = "import json; from edgeorch import settings as s; print(json.dumps(s.SECURE_REDIRECT_EXEMPT))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = json.loads(out.stdout.strip().splitlines()[-1])
    assert client.get("/healthz?live").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 301
