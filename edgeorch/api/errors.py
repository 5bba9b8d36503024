"""One error shape for every API answer (``edgeorch.api.schema.ErrorSerializer``)."""

from __future__ import annotations

from rest_framework.views import exception_handler


def handle(exc, context):
    """DRF's answer, with ``detail`` always one string: ``ValidationError({"detail": why})`` would send a
    list, and scripts read ``detail`` as a sentence."""
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict):
        detail = response.data.get("detail")
        if isinstance(detail, list):
            response.data["detail"] = " ".join(str(d) for d in detail)
    return response
