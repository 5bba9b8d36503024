"""A small HTTP/1.1 server on asyncio streams, for the agent's inference endpoint.

Enough of HTTP/1.1 for API clients (``tritonclient.http``, ``requests``, ``curl``): persistent connections,
pipelined requests answered in order, ``Content-Length`` bodies (a chunked body is refused with 411),
``Expect: 100-continue``, and bounds on the head (``MAX_HEAD``) and the body (``max_body``). A malformed
request gets a 400 and the connection is closed; the server itself carries on. Written here rather than
taken from a framework because the endpoint's target is under a millisecond of overhead per request and the
agent's dependencies stay small: one read of the head, one of the body, one write of the response.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from edgeorch_wire.aio import within

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> Response:
        return cls(status, json.dumps(payload, separators=(",", ":")).encode(), headers=headers)

    @classmethod
    def error(cls, status: int, message: str, **headers: str) -> Response:
        return cls.json(status, {"error": message}, **headers)


Handler = Callable[[Request], Awaitable[Response]]


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class HttpServer:
    def __init__(self, handler: Handler, max_body: int = 64 * 1024 * 1024, idle_timeout: float = 75.0):
        self.handler = handler
        self.max_body = max_body
        self.idle_timeout = idle_timeout
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._serve, host, port, limit=MAX_HEAD)
        address = self._server.sockets[0].getsockname()
        return address[0], address[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                try:
                    request = await within(self._read(reader, writer), self.idle_timeout)
                except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
                    return  # the client went away or idled out between requests
                except HttpError as exc:
                    await self._write(writer, Response.error(exc.status, str(exc)), close=True)
                    return
                if request is None:
                    return
                try:
                    response = await self.handler(request)
                except Exception:
                    log.exception("the endpoint failed on %s %s", request.method, request.path)
                    response = Response.error(500, "internal error (see the agent's log)")
                close = request.headers.get("connection", "").lower() == "close"
                await self._write(writer, response, close)
                if close:
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise HttpError(400, f"the request head exceeds {MAX_HEAD} bytes") from None
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                return None
            raise
        try:
            lines = head[:-4].decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ")
        except ValueError:
            raise HttpError(400, "malformed request line") from None
        if not version.startswith("HTTP/1."):
            raise HttpError(400, f"unsupported protocol {version!r}")
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise HttpError(400, f"malformed header line {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise HttpError(411, "chunked bodies are not accepted: send a Content-Length")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise HttpError(400, "Content-Length is not a number") from None
        if length < 0:
            raise HttpError(400, "negative Content-Length")
        if length > self.max_body:
            raise HttpError(413, f"the body of {length} bytes exceeds this endpoint's {self.max_body}")
        if length and headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await reader.readexactly(length) if length else b""
        url = urlsplit(target)
        return Request(method.upper(), unquote(url.path), parse_qs(url.query), headers, body)

    async def _write(self, writer: asyncio.StreamWriter, response: Response, close: bool) -> None:
        head = [
            f"HTTP/1.1 {response.status} {REASONS.get(response.status, 'Status')}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
        ]
        head += [f"{name}: {value}" for name, value in response.headers.items()]
        if close:
            head.append("Connection: close")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
        await writer.drain()
