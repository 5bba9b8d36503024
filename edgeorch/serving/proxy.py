"""The control plane's ``/v2`` (Open Inference Protocol v2) for scripts: a request naming a ``source`` device
(``?source=<id or name>`` or the ``Edgeorch-Source`` header) is forwarded to that device's inference endpoint
and its answer returned as it came (status, body, ``Inference-Header-Content-Length``, ``Retry-After``).

Authentication as the REST API: ``Authorization: Token <key>`` for everything, a browser session for
reading; running an inference (``POST``) is an operator's action. ``/v2`` and ``/v2/health/*`` describe the
control plane itself. The forward is one HTTP/1.1 exchange on a kept-alive connection to the agent
(``AgentConnections``), from the event loop: no new connection per request.
"""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authtoken.models import Token

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
                status, answer, payload, keep = await asyncio.wait_for(
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


def _user_for(request: HttpRequest):
    """The Token's user (any method), or the session's (reading only); None when neither."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Token "):
        token = Token.objects.select_related("user").filter(key=header[6:].strip()).first()
        return token.user if token is not None and token.user.is_active else None
    user = request.user
    return user if user.is_authenticated and request.method in ("GET", "HEAD") else None


def _source(request: HttpRequest) -> Device | None:
    ref = request.GET.get("source") or request.headers.get("Edgeorch-Source", "")
    if not ref:
        return None
    try:
        query = {"pk": uuid.UUID(ref)}
    except ValueError:
        query = {"name": ref}
    return Device.objects.filter(**query).first()


def _allowed(request: HttpRequest) -> tuple[object, bool]:
    user = _user_for(request)
    return user, user is not None and (request.method in ("GET", "HEAD") or is_operator(user))


@csrf_exempt
async def v2(request: HttpRequest, path: str = "") -> HttpResponse:
    """Everything under ``/v2``: the control plane's own metadata and health, or a forward to a source."""
    user, allowed = await sync_to_async(_allowed, thread_sensitive=False)(request)
    if user is None:
        return JsonResponse({"error": "authentication required: Authorization: Token <key>"}, status=401)
    if not allowed:
        return JsonResponse(
            {"error": "only operators may run inferences; your account is read-only"}, status=403
        )
    path = path.rstrip("/")
    if path == "":
        return JsonResponse({"name": "edgeorch-control-plane", "extensions": ["binary_tensor_data"]})
    if path in ("health/live", "health/ready"):
        return JsonResponse({"live": True} if path.endswith("live") else {"ready": True})
    device = await sync_to_async(_source, thread_sensitive=False)(request)
    if device is None:
        return JsonResponse(
            {"error": "name the source device: ?source=<id or name> or the Edgeorch-Source header"},
            status=400,
        )
    if device.status != DeviceStatus.ONLINE or not device.serve_port:
        why = "is not connected" if device.status != DeviceStatus.ONLINE else "has no inference endpoint open"
        return JsonResponse({"error": f"{device.name} {why}"}, status=503, headers={"Retry-After": "1"})
    headers = {k: request.headers[k] for k in FORWARDED_HEADERS if k in request.headers}
    try:
        status, answer, body = await connections.exchange(
            device.serve_host or "127.0.0.1",
            device.serve_port,
            request.method or "GET",
            f"/v2/{path}",
            headers,
            request.body,
        )
    except (OSError, ForwardError, TimeoutError) as exc:
        return JsonResponse({"error": f"cannot reach {device.name}'s endpoint: {exc}"}, status=502)
    response = HttpResponse(body, status=status, content_type=answer.get("content-type", "application/json"))
    for name in ANSWERED_HEADERS:
        if name in answer:
            response[name.title()] = answer[name]
    return response
