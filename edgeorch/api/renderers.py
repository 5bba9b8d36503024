"""CSV for the download endpoints (``?format=csv``): a list of flat rows, one line each, the header the union
of their keys in first-seen order. A nested value (a frame's trace) is written as its JSON."""

from __future__ import annotations

import csv
import io
import json

from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        rows = data if isinstance(data, list) else [data]  # an error answer ({"detail": ...}) is one row
        header: dict[str, None] = {}
        for row in rows:
            header.update(dict.fromkeys(row))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
        return out.getvalue().encode(self.charset)


def _cell(value):
    return json.dumps(value) if isinstance(value, (list, dict)) else value
