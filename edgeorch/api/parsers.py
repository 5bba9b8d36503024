"""The parsers of the API's views: DRF's JSON and multipart parsers, refusing text with a NUL character
(``\\u0000``) in any key or value, or a form field or file name, with a 400. PostgreSQL stores no NUL in a
text or JSON column, so such a body can never be valid, and let through it failed deep in a query with a 500
(a multipart job upload naming a device with a NUL did, found by the schema test). A multipart body past
Django's limits on fields or files (``DATA_UPLOAD_MAX_NUMBER_FIELDS``, ``..._FILES``) is a 400 in JSON too."""

from __future__ import annotations

from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if _has_nul(data):
            raise ParseError("JSON parse error - text may not contain the NUL character (\\u0000).")
        return data


class MultiPartParser(parsers.MultiPartParser):
    """A multipart/form-data body whose fields' names and values and files' names hold no NUL (the files'
    contents are bytes, and may)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except (TooManyFilesSent, TooManyFieldsSent) as exc:  # Django's limits: a 400 in JSON, not its page
            raise ParseError(f"Multipart form parse error - {exc}") from None
        fields = [(key, value) for key in parsed.data for value in parsed.data.getlist(key)]
        names = [(key, upload.name or "") for key in parsed.files for upload in parsed.files.getlist(key)]
        if any(_has_nul(key) or _has_nul(value) for key, value in fields + names):
            raise ParseError("Multipart form parse error - a field may not hold the NUL character (\\u0000).")
        return parsed


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False
