"""The control plane's ``/v2`` (Open Inference Protocol v2) for scripts: a request naming a ``source`` device
(``?source=<id or name>`` or the ``Edgeorch-Source`` header) is forwarded to that device's inference endpoint
and its answer returned as it came (status, body, ``Inference-Header-Content-Length``, ``Retry-After``).

Authentication is the REST API's token (``Authorization: Token <key>``); running an inference (``POST``) is
an operator's action. ``/v2`` and ``/v2/health/*`` describe the control plane itself.

Speed: this is a plain ASGI app that ``edgeorch.asgi`` puts before Django for ``/v2`` (``InferenceRouter``):
no Django request, middleware or URL resolution on the path; the token's verdict and the source's endpoint are
reused for ``RECENT_S`` (``Recent``); the forward is one HTTP/1.1 exchange on a kept-alive connection to the
agent (``AgentConnections``), from the event loop. docs/benchmarks.md, "Serving", has what each part costs.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from edgeorch_wire.aio import within

from edgeorch.api.keys import user_of
from edgeorch.api.permissions import is_operator
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device

FORWARDED_HEADERS = ("content-type", "inference-header-content-length")
ANSWERED_HEADERS = ("inference-header-content-length", "retry-after")
FORWARD_TIMEOUT_S = 120.0
MAX_IDLE = 32  # kept-alive connections per agent endpoint


class ForwardError(Exception):
    pass


class AgentConnections:
    """Kept-alive HTTP/1.1 connections to agents' endpoints, one pool per event loop and address."""

    def __init__(self) -> None:
        self._idle: dict[tuple[int, str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}

    async def exchange(
        self, host: str, port: int, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        key = (id(asyncio.get_running_loop()), host, port)
        idle = self._idle.setdefault(key, [])
        # A kept-alive connection may have been closed by the agent meanwhile: then once more on a new one.
        for reused in (True, False):
            if reused and not idle:
                continue
            reader, writer = idle.pop() if reused else await asyncio.open_connection(host, port)
            try:
                status, answer, payload, keep = await within(
                    _round_trip(reader, writer, host, method, path, headers, body), FORWARD_TIMEOUT_S
                )
            except (ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
                writer.close()
                if reused:
                    continue
                raise ForwardError(
                    f"the endpoint at {host}:{port} broke off: {exc or type(exc).__name__}"
                ) from None
            except BaseException:
                writer.close()
                raise
            if keep and len(idle) < MAX_IDLE:
                idle.append((reader, writer))
            else:
                writer.close()
            return status, answer, payload
        raise AssertionError("unreachable")


async def _round_trip(
    reader, writer, host, method, path, headers, body
) -> tuple[int, dict[str, str], bytes, bool]:
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw[:-4].decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    answer = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        answer[name.strip().lower()] = value.strip()
    payload = await reader.readexactly(int(answer.get("content-length", "0")))
    return status, answer, payload, answer.get("connection", "").lower() != "close"


connections = AgentConnections()


def _allowed(token: str, method: str) -> tuple[bool, bool]:
    """(known, allowed): whether the token is an active user's, and whether that user may use ``method``."""
    user = user_of(token)
    if user is None:
        return False, False
    return True, method in ("GET", "HEAD") or is_operator(user)


def _source(ref: str) -> tuple[str, str, int | None, bool] | None:
    """(name, host, port, online) of the device ``ref`` names (its id or name), or None."""
    try:
        device = Device.objects.filter(pk=uuid.UUID(ref)).first()
    except ValueError:
        device = Device.objects.filter(name=ref).first()
    if device is None:
        return None
    return device.name, device.serve_host, device.serve_port, device.status == DeviceStatus.ONLINE


class Recent:
    """What was read from the database a moment ago, reused for ``ttl`` seconds: a token's verdict, a source's
    endpoint. Each lookup costs a thread hop and a query, so a revoked token or a moved endpoint takes effect
    up to ``ttl`` later."""

    def __init__(self, ttl: float, size: int = 1024):
        self.ttl, self.size = ttl, size
        self._entries: dict[tuple, tuple[float, Any]] = {}

    async def get(self, key: tuple, read: Callable[[], Any]) -> Any:
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        value = await sync_to_async(read, thread_sensitive=False)()
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, value)
        return value


RECENT_S = 2.0
recent = Recent(RECENT_S)
NO_SOURCE = "name the source device: ?source=<id or name> or the Edgeorch-Source header"


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("the client went away")
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send, status: int, body: bytes, headers: dict[str, str]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _json(send, status: int, payload: dict, **headers: str) -> None:
    await _answer(send, status, json.dumps(payload).encode(), {"content-type": "application/json", **headers})


async def serve_v2(scope, receive, send) -> None:
    """Everything under ``/v2``: the control plane's own metadata and health, or a forward to a source."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    method = scope["method"]
    body = await _read_body(receive)
    authorization = headers.get("authorization", "")
    if not authorization.startswith("Token "):
        await _json(send, 401, {"error": "authentication required: Authorization: Token <key>"})
        return
    token = authorization[6:].strip()
    known, allowed = await recent.get(("auth", token, method), lambda: _allowed(token, method))
    if not known:
        await _json(send, 401, {"error": "invalid token"})
        return
    if not allowed:
        await _json(send, 403, {"error": "only operators may run inferences; your account is read-only"})
        return
    path = scope["path"].removeprefix("/v2").strip("/")
    if path == "":
        await _json(send, 200, {"name": "edgeorch-control-plane", "extensions": ["binary_tensor_data"]})
        return
    if path in ("health/live", "health/ready"):
        await _json(send, 200, {"live": True} if path.endswith("live") else {"ready": True})
        return
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    ref = (query.get("source") or [""])[0] or headers.get("edgeorch-source", "")
    endpoint = await recent.get(("source", ref), lambda: _source(ref)) if ref else None
    if endpoint is None:
        await _json(send, 400, {"error": NO_SOURCE if not ref else f"no device {ref!r}"})
        return
    name, host, port, online = endpoint
    if not online or not port:
        why = "is not connected" if not online else "has no inference endpoint open"
        await _json(send, 503, {"error": f"{name} {why}"}, **{"retry-after": "1"})
        return
    forwarded = {k: headers[k] for k in FORWARDED_HEADERS if k in headers}
    try:
        status, answer, payload = await connections.exchange(
            host or "127.0.0.1", port, method, f"/v2/{path}", forwarded, body
        )
    except (OSError, ForwardError, TimeoutError) as exc:
        await _json(send, 502, {"error": f"cannot reach {name}'s endpoint: {exc}"})
        return
    out = {"content-type": answer.get("content-type", "application/json")}
    out.update({k: answer[k] for k in ANSWERED_HEADERS if k in answer})
    await _answer(send, status, payload, out)


class InferenceRouter:
    """ASGI: ``/v2`` and below to ``serve_v2``, everything else to ``app`` (Django)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == "/v2" or path.startswith("/v2/")):
            try:
                await serve_v2(scope, receive, send)
            except ConnectionResetError:
                return
            return
        await self.app(scope, receive, send)
