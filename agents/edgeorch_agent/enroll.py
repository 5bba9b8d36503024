"""Enrollment: trade a one-time token for the device's credential (standard library HTTP only).

``POST {server}/api/agent/enroll/`` with ``{"token", "name", "profile", "inventory"}``; the server answers
201 ``{"device_id", "name", "credential", "ws_url"}`` or 4xx ``{"detail": "..."}``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .config import AgentConfig

ENROLL_PATH = "/api/agent/enroll/"
MAX_RESPONSE = 1024 * 1024


class EnrollError(Exception):
    """Enrollment failed; the message is fit to show the operator as is."""


def enroll(
    server: str, token: str, name: str, profile: str | None, inventory: dict[str, Any], timeout: float = 30.0
) -> AgentConfig:
    server = server.rstrip("/")
    body = json.dumps({"token": token, "name": name, "profile": profile, "inventory": inventory}).encode()
    request = urllib.request.Request(
        server + ENROLL_PATH,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = _json(response.read(MAX_RESPONSE))
    except urllib.error.HTTPError as exc:
        raise EnrollError(_refusal(exc)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EnrollError(f"cannot reach {server}: {reason}") from None
    return _config(server, profile, data)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _refusal(exc: urllib.error.HTTPError) -> str:
    data = _json(exc.read(MAX_RESPONSE))
    detail = data.get("detail") if isinstance(data, dict) else None
    return f"enrollment refused (HTTP {exc.code}): {detail or exc.reason}"


def _config(server: str, profile: str | None, data: Any) -> AgentConfig:
    if not isinstance(data, dict):
        raise EnrollError("the server's answer is not a JSON object; is --server the control plane's URL?")
    missing = [key for key in ("device_id", "name", "credential") if not isinstance(data.get(key), str)]
    if missing:
        raise EnrollError(f"the server's answer lacks {', '.join(missing)}")
    return AgentConfig(
        server=server,
        ws_url=str(data.get("ws_url") or default_ws_url(server)),
        device_id=data["device_id"],
        name=data["name"],
        credential=data["credential"],
        profile=profile,
    )


def default_ws_url(server: str) -> str:
    """The agent websocket on the same host as ``server`` (used if the server does not say)."""
    parts = urllib.parse.urlsplit(server)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urllib.parse.urlunsplit((scheme, parts.netloc, "/ws/agent/", "", ""))
