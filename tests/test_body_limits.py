"""Request bodies are bounded while Daphne reads them (edgeorch.bodylimit): a huge body is refused before it
costs disk, a trickling one times out, and neither needs an account to be refused."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time

import pytest

from edgeorch.bodylimit import BodyLimit

LIMIT_MB = 2


@pytest.fixture
def server_env(server_env):
    """The server with a 2 MiB body limit and a body deadline of 1 s + length at 1 KiB/s."""
    return {
        **server_env,
        "EDGEORCH_MAX_BODY_MB": str(LIMIT_MB),
        "EDGEORCH_BODY_TIMEOUT": "1",
        "EDGEORCH_BODY_MIN_RATE_KB": "1",
    }


def _connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def _head(path: str, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status(sock: socket.socket) -> int:
    answer = sock.recv(4096)
    return int(answer.split(b" ", 2)[1])


def _largest_spooled_file(pid: int) -> int:
    """The largest deleted file the server process holds open (Twisted spools a body to a temporary file,
    unlinked as it is made)."""
    largest = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if not os.readlink(f"/proc/{pid}/fd/{fd}").endswith(" (deleted)"):
                continue
            info = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if (info.st_mode & 0o170000) == 0o100000:
            largest = max(largest, info.st_size)
    return largest


def test_a_declared_huge_body_is_refused_before_a_byte_of_it_is_sent(live_server_proc):
    sock = _connect(live_server_proc)
    sock.sendall(_head("/api/agent/enroll/", Content_Length=str(10 * 2**30)))
    assert _status(sock) == 413


def test_an_unauthenticated_streamed_body_is_cut_off_at_the_limit_without_growing_the_disk(live_server_proc):
    pid = live_server_proc.proc.pid
    largest, sending = [0], True

    def watch():
        while sending:
            largest[0] = max(largest[0], _largest_spooled_file(pid))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    sock = _connect(live_server_proc)
    sock.sendall(_head("/api/agent/enroll/", Transfer_Encoding="chunked"))
    chunk, sent = b"x" * 65536, 0
    try:
        while sent < 40 * 2**20:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
    except OSError:
        pass  # the server closed the connection: what is expected
    finally:
        sending = False
        watcher.join()
    assert _status(sock) == 413
    assert sent < 40 * 2**20, "the whole 40 MiB body was taken"
    assert largest[0] <= LIMIT_MB * 2**20, f"the server spooled {largest[0]} bytes"


def test_a_body_trickling_slower_than_its_deadline_is_answered_408(live_server_proc):
    sock = _connect(live_server_proc)
    sock.sendall(_head("/api/agent/enroll/", Content_Length="2000"))  # deadline: 1 s + 2000 B at 1 KiB/s
    started = time.monotonic()
    sock.settimeout(0.2)
    for _ in range(100):  # 10 bytes a second
        try:
            sock.sendall(b"x" * 10)
            answer = sock.recv(4096)
            break
        except TimeoutError:
            continue
    else:
        pytest.fail("no answer in 20 s")
    assert int(answer.split(b" ", 2)[1]) == 408
    assert time.monotonic() - started < 6


def test_a_client_leaving_mid_body_leaves_no_deadline_behind(live_server_proc):
    sock = _connect(live_server_proc)
    sock.sendall(_head("/api/agent/enroll/", Content_Length="2000") + b"x" * 10)
    sock.close()
    time.sleep(4)  # past the body's deadline (3 s)
    assert "Traceback" not in live_server_proc.log() and "Unhandled" not in live_server_proc.log()
    assert _status_of_a_small_request(live_server_proc) in (400, 403)


def _status_of_a_small_request(server) -> int:
    sock = _connect(server)
    body = b'{"token": "nope"}'
    sock.sendall(_head("/api/agent/enroll/", Content_Length=str(len(body))) + body)
    return _status(sock)


def test_a_body_within_its_limit_reaches_the_app(live_server_proc):
    sock = _connect(live_server_proc)
    body = b'{"token": "nope"}'
    sock.sendall(_head("/api/agent/enroll/", Content_Length=str(len(body))) + body)
    assert _status(sock) in (400, 403)


# --- the ASGI middleware, for servers that stream bodies to the app ------------------------------------


def _run(app, scope, messages, delay=0.0):
    sent: list[dict] = []

    async def receive():
        if not messages:
            await asyncio.sleep(3600)
        await asyncio.sleep(delay)
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def _scope(path="/api/agent/enroll/", **headers: str) -> dict:
    encoded = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "method": "POST", "path": path, "headers": encoded}


def _reading_app(seen: list):
    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen.append(message)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        if seen[-1]["type"] == "http.request":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

    return app


def test_the_middleware_answers_413_to_a_declared_length_without_calling_the_app(settings):
    settings.MAX_BODY_BYTES = 100
    seen: list = []
    sent = _run(BodyLimit(_reading_app(seen)), _scope(Content_Length="101"), [])
    assert sent[0]["status"] == 413 and seen == []


def test_the_middleware_answers_413_to_a_streamed_body_past_the_limit(settings):
    settings.MAX_BODY_BYTES = 100
    seen: list = []
    chunks = [{"type": "http.request", "body": b"x" * 60, "more_body": True} for _ in range(3)]
    sent = _run(BodyLimit(_reading_app(seen)), _scope(), chunks)
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]
    assert seen[-1] == {"type": "http.disconnect"}


def test_the_middleware_answers_408_to_a_slow_body(settings):
    settings.MAX_BODY_BYTES, settings.BODY_TIMEOUT_S, settings.BODY_MIN_RATE = 100, 0.05, 10**9
    seen: list = []
    chunks = [{"type": "http.request", "body": b"x", "more_body": True} for _ in range(5)]
    sent = _run(BodyLimit(_reading_app(seen)), _scope(), chunks, delay=0.03)
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [408]


def test_the_middleware_passes_a_body_within_its_limit(settings):
    settings.MAX_BODY_BYTES = 100
    seen: list = []
    sent = _run(BodyLimit(_reading_app(seen)), _scope(), [{"type": "http.request", "body": b"{}"}])
    assert sent[0]["status"] == 200


def test_model_uploads_get_the_upload_limit_and_everything_else_the_small_one(settings):
    from edgeorch.bodylimit import MULTIPART_SLACK, limit_for

    settings.MODEL_UPLOAD_MAX_BYTES, settings.MAX_BODY_BYTES = 200 * 2**20, 16 * 2**20
    assert limit_for("POST", "/api/models/") == limit_for("POST", "/models/") == 200 * 2**20 + MULTIPART_SLACK
    assert limit_for("POST", "/api/jobs/upload/") == limit_for("POST", "/api/agent/enroll/") == 16 * 2**20
    assert limit_for("PUT", "/api/models/") == 16 * 2**20
