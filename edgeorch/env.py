"""Typed environment helpers that fail loudly on a bad value (the healthchecks habit).

Every setting may also come from a file named by ``NAME_FILE`` (Docker/Kubernetes secrets). After
``make demo``, the demo's settings come from the file it wrote (``load_demo_env``).
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv

DEMO_ENV = Path("run") / "demo.env"


def load_demo_env(base_dir: Path) -> Path | None:
    """Put the settings ``make demo`` wrote into ``os.environ`` under the ones already there; the file read.

    ``scripts/demo_setup.sh`` writes ``<run dir>/run/demo.env`` (the run dir is ``$EDGEORCH_RUN_DIR``, else
    ``base_dir/var``, as in the settings): the demo's secret key file, ``DEBUG``, its Redis, its database
    and public URL. So a ``manage.py`` command typed in a new shell after ``make demo`` uses the demo's
    settings, while a variable set explicitly always wins (python-dotenv, ``override=False``; no ``${}``
    expansion). Where the environment names a secret key (``SECRET_KEY`` or ``SECRET_KEY_FILE``: production,
    the test suite, the demo's own processes) the file is not read at all, so a demo once run on the same
    checkout never turns ``DEBUG`` on there; without the file nothing changes (None), and the settings still
    refuse to start without a secret key.
    """
    if os.environ.get("SECRET_KEY") or os.environ.get("SECRET_KEY_FILE"):
        return None
    path = Path(envstr("EDGEORCH_RUN_DIR") or base_dir / "var") / DEMO_ENV
    if not path.is_file():
        return None
    load_dotenv(path, override=False, interpolate=False)
    return path


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
