"""Throttles for the requests an attacker would repeat: enrollment (per client address), enrollment-token
creation and model uploads (per user). Each answers 429 with ``Retry-After`` (DRF's ``Throttled``).

The rates are ``settings.THROTTLE_RATES`` (``EDGEORCH_THROTTLE_*``, docs/deployment.md), read on each
request rather than once at import as DRF's own ``SimpleRateThrottle.THROTTLE_RATES`` is; a scope without a
rate is not throttled. The counters live in Django's default cache (the server's memory: Daphne is one
process; several server processes need a shared cache for one count).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class SettingsRateThrottle(SimpleRateThrottle):
    """Requests per ``scope``, counted per user when logged in, else per client address."""

    def get_rate(self) -> str | None:
        return settings.THROTTLE_RATES.get(self.scope or "")

    def get_cache_key(self, request, view) -> str:
        user = getattr(request, "user", None)
        ident = user.pk if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class EnrollThrottle(SettingsRateThrottle):
    scope = "enroll"


class EnrollmentTokenThrottle(SettingsRateThrottle):
    scope = "enrollment_token"


class UploadThrottle(SettingsRateThrottle):
    scope = "upload"
