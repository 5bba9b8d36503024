"""Typed environment helpers that fail loudly on a bad value (the healthchecks habit).

Every setting may also come from a file named by ``NAME_FILE`` (Docker/Kubernetes secrets).
"""

from __future__ import annotations

import os


class ImproperValue(ValueError):
    """An environment variable holds a value of the wrong shape."""


def envstr(name: str, default: str | None = None) -> str | None:
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = envstr(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperValue(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def envint(name: str, default: int, minimum: int | None = None) -> int:
    raw = envstr(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperValue(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperValue(f"{name}={value} is below the minimum of {minimum}")
    return value


def envfloat(name: str, default: float, minimum: float | None = None) -> float:
    raw = envstr(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperValue(f"{name}={raw!r} is not a number") from None
    if minimum is not None and value < minimum:
        raise ImproperValue(f"{name}={value} is below the minimum of {minimum}")
    return value


def envlist(name: str, default: list[str]) -> list[str]:
    raw = envstr(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
