"""The agent's configuration file: what enrollment wrote and ``edgeorch-agent run`` reads.

The file is JSON::

    {"server": "http://cp:8000", "ws_url": "ws://cp:8000/ws/agent/", "device_id": "<uuid>",
     "name": "jetson-1", "credential": "<device_id>.<secret>", "profile": null}

It holds the device's credential, so it is created with mode 0600 (and any directory we create with 0700)
and replaced atomically: it is never readable by others, not even for an instant.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CONFIG_ENV = "EDGEORCH_AGENT_CONFIG"
_REQUIRED = ("server", "ws_url", "device_id", "name", "credential")


class ConfigError(Exception):
    """The configuration file is missing or unusable; the message says how to fix it."""


@dataclass(frozen=True)
class AgentConfig:
    server: str
    ws_url: str
    device_id: str
    name: str
    credential: str
    profile: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "config") -> AgentConfig:
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a JSON object")
        for key in _REQUIRED:
            if not isinstance(data.get(key), str) or not data[key]:
                raise ConfigError(f"{where}: {key!r} is missing or empty (enroll the agent again)")
        profile = data.get("profile")
        if profile is not None and not isinstance(profile, str):
            raise ConfigError(f"{where}: 'profile' must be a string or null")
        if not data["ws_url"].startswith(("ws://", "wss://")):
            raise ConfigError(f"{where}: 'ws_url' must start with ws:// or wss://")
        return cls(**{key: data[key] for key in _REQUIRED}, profile=profile)


def default_config_path() -> Path:
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else Path.home() / ".config" / "edgeorch" / "agent.json"


def save_config(config: AgentConfig, path: Path) -> None:
    """Write ``config`` to ``path`` with mode 0600, atomically replacing any previous file."""
    _make_private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # O_EXCL: never write through a file (or symlink) someone else planted at the temporary name.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(config.to_dict(), handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        # Replacing (not rewriting) also fixes an older file that had looser permissions.
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _make_private_dirs(directory: Path) -> None:
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        os.mkdir(created, 0o700)


def load_config(path: Path) -> AgentConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist: run 'edgeorch-agent enroll' first") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    return AgentConfig.from_dict(data, where=str(path))


def is_private(path: Path) -> bool:
    """True when no one but the owner can read the file (the credential inside must stay secret)."""
    return path.stat().st_mode & 0o077 == 0
