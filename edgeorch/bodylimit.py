"""Request bodies are bounded while they are read: in size (413) and in time (408), before anything else
(authentication included) spends memory or disk on them.

``limit_for`` is the one policy: a model upload may be ``MODEL_UPLOAD_MAX_BYTES`` (plus its multipart
envelope), every other request ``MAX_BODY_BYTES``. A body must arrive within ``BODY_TIMEOUT_S`` plus its
length at ``BODY_MIN_RATE`` bytes/s (``deadline_for``), so a client trickling a byte a second is cut off.

Two places apply it, because an ASGI app alone comes too late under Daphne: Daphne (Twisted) reads a whole
body, spooling it to a temporary file past 100 kB, before it calls the app. So

- ``guard_daphne()`` makes Daphne's request refuse a declared length over the limit as soon as the headers
  are in, stop writing a streamed (chunked) body at the limit, and answer 408 at the deadline, closing the
  connection each time; nothing over the limit reaches the disk;
- ``BodyLimit``, the ASGI middleware ``edgeorch.asgi`` wraps the app in, applies the same limits to the body
  as the app receives it, for servers that stream bodies to the app (uvicorn, hypercorn) and as a second
  line under Daphne.

docs/deployment.md: a reverse proxy in front should carry the same limits.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging

from django.conf import settings

from edgeorch.gateway.lograte import RateLimitedLog

log = logging.getLogger(__name__)
limited = RateLimitedLog(log, window=60.0)  # one line per client and status a minute

UPLOAD_PATHS = ("/api/models/", "/models/")  # POST: a model upload (REST, and the catalog page's form)
MULTIPART_SLACK = 1024 * 1024  # the form's other fields and boundaries around the file


def limit_for(method: str, path: str) -> int:
    """The largest body a request to ``path`` may carry."""
    if method == "POST" and path in UPLOAD_PATHS:
        return settings.MODEL_UPLOAD_MAX_BYTES + MULTIPART_SLACK
    return settings.MAX_BODY_BYTES


def deadline_for(length: int) -> float:
    """Seconds a body of ``length`` bytes may take to arrive."""
    return settings.BODY_TIMEOUT_S + length / settings.BODY_MIN_RATE


def _detail(status: int, limit: int) -> bytes:
    if status == 413:
        text = f"The request body exceeds the limit of {limit} bytes for this path."
    else:
        text = "The request body arrived too slowly."
    return json.dumps({"detail": text}).encode()


def _declared_length(headers) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """ASGI middleware: a declared ``Content-Length`` over the limit is answered 413 before the app runs;
    a body that grows past it (413) or does not arrive in time (408) ends the request: the app is told the
    client went away (Django then answers nothing itself) and the client gets the refusal."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("method", ""), scope.get("path", ""))
        declared = _declared_length(scope.get("headers", ()))
        if declared is not None and declared > limit:
            await _answer(send, 413, limit)
            return
        guard = _Guard(receive, send, limit, deadline_for(declared if declared is not None else limit))
        await self.app(scope, guard.receive, guard.send)


class _Guard:
    """One request's body, bounded. The deadline is one timer for the whole body, not a timeout around each
    ``receive``: Daphne hands a body over in 8 KiB chunks, and a timeout each cost 5 ms on a 602 KB /v2
    request (bench_serving)."""

    def __init__(self, receive, send, limit: int, deadline_s: float):
        self._receive, self._send, self.limit = receive, send, limit
        loop = asyncio.get_running_loop()
        self.deadline = loop.time() + deadline_s
        self.read = 0
        self.complete = False  # the whole body is in: later receives wait for a disconnect, unbounded
        self.answered = False
        self.expired = False
        self._waiting: asyncio.Task | None = None  # the task in ``receive`` when the deadline passes
        self._timer = loop.call_at(self.deadline, self._expire)

    def _expire(self) -> None:
        self.expired = True
        if self._waiting is not None:
            self._waiting.cancel()

    async def receive(self):
        if self.complete:
            return await self._receive()
        if self.expired:
            return await self._refuse(408)
        self._waiting = asyncio.current_task()
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            if not self.expired:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # the deadline's cancel, answered here: the task goes on
            return await self._refuse(408)
        finally:
            self._waiting = None
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > self.limit:
                return await self._refuse(413)
            self.complete = not message.get("more_body", False)
            if self.complete:
                self._timer.cancel()
        return message

    async def send(self, message):
        if not self.answered:
            await self._send(message)

    async def _refuse(self, status: int):
        self._timer.cancel()
        self.complete = True
        await _answer(self._send, status, self.limit)
        self.answered = True
        return {"type": "http.disconnect"}


async def _answer(send, status: int, limit: int) -> None:
    body = _detail(status, limit)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": [*headers, (b"connection", b"close")]}
    )
    await send({"type": "http.response.body", "body": body})


# --- Daphne -------------------------------------------------------------------------------------------

REASONS = {408: b"Request Timeout", 413: b"Content Too Large"}


def guard_daphne() -> None:
    """Make Daphne's ``WebRequest`` apply ``limit_for``/``deadline_for`` while Twisted reads the body.

    It relies on Twisted's ``Request.gotLength``/``handleContentChunk``/``requestReceived``/
    ``connectionLost`` (called by the channel with the declared length, each chunk, at the end, and when the
    client goes) and on the channel's ``_command`` and
    ``_path`` being set when ``gotLength`` is called: tests/test_body_limits.py pins both."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # another server: BodyLimit alone
        return
    if getattr(WebRequest, "edgeorch_guarded", False):
        return
    got_length, handle_chunk, received, lost = (
        WebRequest.gotLength,
        WebRequest.handleContentChunk,
        WebRequest.requestReceived,
        WebRequest.connectionLost,
    )

    def gotLength(self, length):
        channel = self.channel
        path = channel._path.split(b"?", 1)[0].decode("latin-1")
        self.body_limit, self.body_read, self.body_refused = (
            limit_for(channel._command.decode(), path),
            0,
            False,
        )
        self.body_timer = None
        if length is not None and length > self.body_limit:
            self.content = io.BytesIO()
            _refuse_body(self, 413)
            return
        got_length(self, length)
        if length != 0:
            from twisted.internet import reactor

            seconds = deadline_for(length if length is not None else self.body_limit)
            self.body_timer = reactor.callLater(seconds, _refuse_body, self, 408)

    def handleContentChunk(self, data):
        if self.body_refused:
            return
        self.body_read += len(data)
        if self.body_read > self.body_limit:
            _refuse_body(self, 413)
            return
        handle_chunk(self, data)

    def requestReceived(self, command, path, version):
        _cancel_timer(self)
        if getattr(self, "body_refused", False):
            return  # answered and closing: the app never sees this request
        received(self, command, path, version)

    def connectionLost(self, reason):
        _cancel_timer(self)  # the client went away mid-body: no deadline left to keep
        lost(self, reason)

    WebRequest.gotLength = gotLength
    WebRequest.connectionLost = connectionLost
    WebRequest.handleContentChunk = handleContentChunk
    WebRequest.requestReceived = requestReceived
    WebRequest.edgeorch_guarded = True


def _cancel_timer(request) -> None:
    timer = getattr(request, "body_timer", None)
    if timer is not None and timer.active():
        timer.cancel()
    request.body_timer = None


def _refuse_body(request, status: int) -> None:
    """Answer ``status`` on the raw connection and close it; what was spooled is dropped."""
    _cancel_timer(request)
    if request.body_refused or request.channel is None:
        return
    request.body_refused = True
    request.requestHeaders.removeHeader(b"Expect")  # no "100 Continue" after the refusal
    spooled, request.content = request.content, io.BytesIO()
    if spooled is not None:
        spooled.close()
    body = _detail(status, request.body_limit)
    head = (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
        % (status, REASONS[status], len(body))
    )
    peer = getattr(request.channel.transport.getPeer(), "host", "?")
    limited.warning((str(peer), f"body:{status}"), "request body from %s refused with %d", peer, status)
    request.channel.transport.write(head + body)
    request.channel.transport.loseConnection()
