"""Static files (settings: STORAGES, docs/deployment.md "Static files"): WhiteNoise serves them from Daphne's
process; plotly.js is one of them, the official basic bundle vendored under static/vendor/.

Where ``collectstatic`` has run (the image), WhiteNoise serves STATIC_ROOT: content-hashed names, gzip and
Brotli copies, cached for years. Elsewhere (the demo, the tests, a checkout) it serves the app folders' files
by name, through the finders, with no build step.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage

HASHED = re.compile(r"\.[0-9a-f]{12}(\.[^./]+)?$")  # Django's manifest names: name.<12 hex digits>.ext


class StaticFiles(WhiteNoiseMiddleware):
    """WhiteNoise, which looks in STATIC_ROOT only where something was collected there (it warns of a missing
    folder on every start otherwise: the demo and the tests have none)."""

    def add_files(self, root, prefix=None):
        if not settings.STATIC_MANIFEST and not Path(root).is_dir():
            return
        super().add_files(root, prefix)


class CompressedHashedStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage (hashed names, gzip and Brotli copies), compressing the hashed copies only: pages
    link those (``{% static %}``), and a file asked for by its plain name goes out uncompressed. Half the
    build's time (docs/deployment.md, "Static files")."""

    def compress_files(self, paths):
        return super().compress_files([path for path in paths if HASHED.search(path)])
