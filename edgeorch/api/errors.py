"""One error shape for every API answer (``edgeorch.api.schema.ErrorSerializer``)."""

from __future__ import annotations

from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
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


@csrf_exempt  # it changes nothing: a POST to no path is a 404, not a CSRF failure
def not_found(request):
    """Any other path under /api/: 404 in the ``Error`` shape, not Django's HTML page (a script reads JSON).
    A path that exists with a trailing slash is redirected there, as Django's APPEND_SLASH would."""
    if not request.path.endswith("/") and _resolves(request.path + "/"):
        query = request.META.get("QUERY_STRING")
        return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
    return JsonResponse({"detail": "Not found."}, status=404)


def _resolves(path: str) -> bool:
    try:
        return resolve(path).func is not not_found
    except Resolver404:
        return False
