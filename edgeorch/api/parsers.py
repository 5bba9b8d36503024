"""The JSON parser of every API view: DRF's, refusing text with a NUL character (``\\u0000``) in any key or
value with a 400. PostgreSQL stores no NUL in a text or JSON column, so such a body can never be valid, and
let through it failed deep in a query with a 500."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if _has_nul(data):
            raise ParseError("JSON parse error - text may not contain the NUL character (\\u0000).")
        return data


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False
