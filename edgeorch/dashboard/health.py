"""``GET /healthz``: whether this web process can serve — for load balancers, Kubernetes probes and compose.

Unauthenticated and says nothing but up or down per dependency: the database answers a query and Redis (the
channel layer and the Celery broker) answers a PING, each within two seconds. 200 when both do, 503 naming
the one that did not (its error class only; details go to the log). ``?live`` skips both: the process is up
(a liveness probe must not restart every web pod because the database is away).
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)

TIMEOUT_S = 2.0


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1")
        return "ok"
    except DatabaseError as exc:
        log.warning("health: the database does not answer: %s", exc)
        return f"down ({type(exc).__name__})"


def broker(timeout_s: float = TIMEOUT_S) -> redis.Redis:
    """A client of the Celery broker's Redis that gives up after ``timeout_s`` (connect and each reply): what
    the health check pings and the metrics read the queue's length from."""
    return redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
    )


def _redis() -> str:
    try:
        with broker() as client:
            client.ping()
        return "ok"
    except redis.RedisError as exc:
        log.warning("health: Redis does not answer: %s", exc)
        return f"down ({type(exc).__name__})"


@never_cache
@require_GET
def healthz(request):
    if "live" in request.GET:
        return JsonResponse({"status": "ok"})
    checks = {"database": _database(), "redis": _redis()}
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)
