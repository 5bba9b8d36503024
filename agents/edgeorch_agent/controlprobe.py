"""Measuring the link from this agent to the control plane (docs/protocol.md, ``probe``).

Peers are measured with data-plane PING/PONGs, but the control plane has no data-plane listener. Its link is
measured over what the agent already uses to reach it:

- RTT: the median of ``PINGS`` websocket ping/pong exchanges on the control channel. The server's websocket
  layer answers a ping itself, so no application time is in it.
- Bandwidth, agent to control plane: ``8 * bytes / (t_big - t_empty)`` bits/s, with ``t_big`` the median of
  ``UPLOADS`` timed POSTs of ``payload_bytes`` random bytes to the control plane's link-probe endpoint and
  ``t_empty`` the median of as many empty POSTs: the empty POST carries each request's fixed cost (headers,
  authentication), which the difference removes. A separate HTTP connection keeps a large upload from holding
  up telemetry and replies on the control channel. Only the upload direction is measured: it is the one a
  ``LinkSample`` from this device to the control plane describes (results and relayed activations go up).

Standard library only, like the rest of the agent's HTTP.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

PINGS = 5
UPLOADS = 3
TIMEOUT = 30.0  # seconds per socket operation of an upload


class ControlProbeError(Exception):
    """The control plane refused or garbled a probe upload; the message says what it answered."""


async def probe_control_plane(
    ping: Callable[[], Awaitable[float]],
    url: str,
    credential: str,
    payload_bytes: int,
    timeout: float = TIMEOUT,
) -> dict[str, Any]:
    """``{rtt_s, bandwidth_bps, error}`` of the link to the control plane; on failure, nulls and the error.

    ``ping`` runs one websocket ping/pong on the control channel and returns its seconds; ``url`` is the
    link-probe endpoint (absolute), ``credential`` the device credential it is authenticated with.
    """
    link: dict[str, Any] = {"rtt_s": None, "bandwidth_bps": None, "error": None}
    try:
        rtts = [await ping() for _ in range(PINGS)]
        empty, loaded = await asyncio.to_thread(time_uploads, url, credential, payload_bytes, timeout)
    except (OSError, TimeoutError, http.client.HTTPException, ControlProbeError) as exc:
        link["error"] = f"{type(exc).__name__}: {exc}"
        return link
    link["rtt_s"] = statistics.median(rtts)
    link["bandwidth_bps"] = 8 * payload_bytes / max(loaded - empty, 1e-9)
    return link


def time_uploads(
    url: str, credential: str, payload_bytes: int, timeout: float = TIMEOUT
) -> tuple[float, float]:
    """Median seconds of an empty POST and of a ``payload_bytes`` POST to ``url``, on one connection (its
    setup is not timed: a first empty POST opens it)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ControlProbeError(f"{url!r} is not an http(s) URL")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    payload = os.urandom(payload_bytes)
    try:
        _post(connection, target, credential, b"")
        empty = [_post(connection, target, credential, b"") for _ in range(UPLOADS)]
        loaded = [_post(connection, target, credential, payload) for _ in range(UPLOADS)]
    finally:
        connection.close()
    return statistics.median(empty), statistics.median(loaded)


def _post(connection: http.client.HTTPConnection, target: str, credential: str, body: bytes) -> float:
    headers = {"Authorization": f"Device {credential}", "Content-Type": "application/octet-stream"}
    started = time.perf_counter()
    connection.request("POST", target, body=body, headers=headers)
    response = connection.getresponse()
    answer = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise ControlProbeError(f"the control plane answered HTTP {response.status}: {_detail(answer)}")
    try:
        received = json.loads(answer)["received"]
    except (ValueError, KeyError, TypeError):
        raise ControlProbeError(
            f"the control plane's answer is not a probe receipt: {answer[:200]!r}"
        ) from None
    if received != len(body):
        raise ControlProbeError(f"the control plane received {received} of {len(body)} bytes")
    return elapsed


def _detail(answer: bytes) -> str:
    try:
        return str(json.loads(answer)["detail"])
    except (ValueError, KeyError, TypeError):
        return answer[:200].decode("utf-8", "replace")
