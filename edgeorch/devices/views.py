"""Plain HTTP views for devices: the agent install script and the two packages it installs (the agent and
the wire contract it depends on), so a device needs no other index for our code."""

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

# The served packages: file name -> (source directory, the directory name inside the archive).
PACKAGES = {
    "edgeorch-agent.tar.gz": (Path(settings.BASE_DIR) / "agents", "edgeorch-agent"),
    "edgeorch-wire.tar.gz": (Path(settings.BASE_DIR) / "wire", "edgeorch-wire"),
}


@require_GET
def install_script(request):
    """``curl -fsSL SERVER/agent/install.sh | sh -s -- --server SERVER --token TOKEN`` installs an agent."""
    body = render_to_string("devices/install.sh", {"server": public_base_url(request)})
    return HttpResponse(body, content_type="text/x-shellscript; charset=utf-8")


@require_GET
def agent_package(request, filename: str = "edgeorch-agent.tar.gz"):
    """A source distribution (the agent's or the wire contract's), built from this server's own copy."""
    return HttpResponse(
        _sdist(filename),
        content_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@lru_cache(maxsize=len(PACKAGES))
def _sdist(filename: str) -> bytes:
    directory, name = PACKAGES[filename]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(directory.rglob("*")):
            rel = path.relative_to(directory)
            if path.is_file() and not _skipped(rel):
                tar.add(path, arcname=f"{name}/{rel}")
    return buffer.getvalue()


def _skipped(rel: Path) -> bool:
    parts = rel.parts
    return parts[0] == "tests" or "__pycache__" in parts or any(p.endswith(".egg-info") for p in parts)
