"""What the device is: sent at enrollment and in every ``Hello``.

Keys: ``hostname``, ``os`` (platform.platform()), ``system``, ``machine``, ``cpu_model``,
``cpu_cores_logical``, ``cpu_cores_physical`` (null where unknown), ``memory_bytes``,
``execution_providers`` (onnxruntime's, [] without the ``runtime`` extra), ``agent_version``,
``python_version``.
"""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path
from typing import Any

import psutil

from . import __version__

# x86 says "model name"; ARM boards often only have "Model" (Raspberry Pi) or "Hardware".
_CPU_MODEL_KEYS = ("model name", "Model", "Hardware", "cpu model")


def collect_inventory(proc: str = "/proc") -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "os": platform.platform(),
        "system": platform.system(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(proc),
        "cpu_cores_logical": psutil.cpu_count(logical=True) or os.cpu_count(),
        "cpu_cores_physical": psutil.cpu_count(logical=False),
        "memory_bytes": psutil.virtual_memory().total,
        "execution_providers": execution_providers(),
        "agent_version": __version__,
        "python_version": platform.python_version(),
    }


def cpu_model(proc: str = "/proc") -> str:
    try:
        text = (Path(proc) / "cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in _CPU_MODEL_KEYS and value.strip():
            found.setdefault(key.strip(), value.strip())
    for key in _CPU_MODEL_KEYS:
        if key in found:
            return found[key]
    return platform.processor()


def execution_providers() -> list[str]:
    # Imported lazily: onnxruntime is an optional extra and takes a while to import.
    try:
        import onnxruntime
    except (ImportError, OSError):
        return []
    return list(onnxruntime.get_available_providers())
