"""Plain HTTP views for devices: the agent install script and the agent package it installs."""

from __future__ import annotations

import io
import tarfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from .api import public_base_url

AGENT_DIR = Path(settings.BASE_DIR) / "agents"


@require_GET
def install_script(request):
    """``curl -fsSL SERVER/agent/install.sh | sh -s -- --server SERVER --token TOKEN`` installs an agent."""
    body = render_to_string("devices/install.sh", {"server": public_base_url(request)})
    return HttpResponse(body, content_type="text/x-shellscript; charset=utf-8")


@require_GET
def agent_package(request):
    """The agent's source distribution, built from this server's own copy, so devices need no other index."""
    return HttpResponse(
        _agent_sdist(),
        content_type="application/gzip",
        headers={"Content-Disposition": 'attachment; filename="edgeorch-agent.tar.gz"'},
    )


@lru_cache(maxsize=1)
def _agent_sdist() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(AGENT_DIR.rglob("*")):
            rel = path.relative_to(AGENT_DIR)
            if path.is_file() and not _skipped(rel):
                tar.add(path, arcname=f"edgeorch-agent/{rel}")
    return buffer.getvalue()


def _skipped(rel: Path) -> bool:
    parts = rel.parts
    return parts[0] == "tests" or "__pycache__" in parts or any(p.endswith(".egg-info") for p in parts)
