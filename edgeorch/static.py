"""Static files (settings: STORAGES, docs/deployment.md "Static files"): WhiteNoise serves them from Daphne's
process, and plotly.js comes from the installed plotly package as one of them.

Where ``collectstatic`` has run (the image), WhiteNoise serves STATIC_ROOT: content-hashed names, gzip and
Brotli copies, cached for years. Elsewhere (the demo, the tests, a checkout) it serves the app folders' files
by name, through the finders, with no build step.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.contrib.staticfiles.utils import matches_patterns
from django.core.files.storage import FileSystemStorage
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage

HASHED = re.compile(r"\.[0-9a-f]{12}(\.[^./]+)?$")  # Django's manifest names: name.<12 hex digits>.ext
PLOTLY = "plotly.min.js"
PLOTLY_PREFIX = "plotly"


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
    build's time: Brotli at its best takes 13 s on plotly.js alone (docs/deployment.md, "Static files")."""

    def compress_files(self, paths):
        return super().compress_files([path for path in paths if HASHED.search(path)])


def _plotly_directory() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data"


class PlotlyFinder(BaseFinder):
    """``plotly/plotly.min.js``: the copy in the installed plotly package (the product works offline, never
    from a CDN), and nothing else of that package."""

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path != f"{PLOTLY_PREFIX}/{PLOTLY}":
            return [] if find_all else None
        found = str(_plotly_directory() / PLOTLY)
        return [found] if find_all else found

    def list(self, ignore_patterns):
        if ignore_patterns and matches_patterns(f"{PLOTLY_PREFIX}/{PLOTLY}", ignore_patterns):
            return
        storage = FileSystemStorage(location=_plotly_directory())
        storage.prefix = PLOTLY_PREFIX  # type: ignore[attr-defined]  # collectstatic and WhiteNoise read it
        yield PLOTLY, storage
