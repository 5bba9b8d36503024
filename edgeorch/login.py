"""The login page with a throttle on failed logins: after ``LOGIN_FAILURES`` failures within
``LOGIN_FAILURE_WINDOW_S`` from one client address, or for one username, further attempts are answered 429
with ``Retry-After`` until the window has passed, right password or not. A success clears the username's
count. Counters live in Django's default cache, like the API's throttles (``edgeorch.api.throttles``).

django-axes would do this, but its authentication backend refuses every ``authenticate()`` without a request
(the test client's ``login``, management commands), so a small cache-based count does the one thing needed.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponse


def _keys(request) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "?")
    keys = [f"login-failures:ip:{address}"]
    username = (request.POST.get("username") or "").strip().lower()
    if username:
        keys.append(f"login-failures:user:{username}")
    return keys


def _retry_after(keys: list[str]) -> int | None:
    """Seconds until the oldest counted failure of a key at its limit leaves the window; None: go on."""
    now, window = time.time(), settings.LOGIN_FAILURE_WINDOW_S
    waits = []
    for key in keys:
        failures = [t for t in cache.get(key, []) if now - t < window]
        if len(failures) >= settings.LOGIN_FAILURES:
            waits.append(int(failures[-settings.LOGIN_FAILURES] + window - now) + 1)
    return max(waits) if waits else None


def _count_failure(keys: list[str]) -> None:
    now, window = time.time(), settings.LOGIN_FAILURE_WINDOW_S
    for key in keys:
        failures = [t for t in cache.get(key, []) if now - t < window][-settings.LOGIN_FAILURES :]
        cache.set(key, [*failures, now], timeout=int(window) + 1)


class LoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        keys = _keys(request)
        wait = _retry_after(keys)
        if wait is not None:
            response = HttpResponse(
                "Too many failed logins; try again later.\n", status=429, content_type="text/plain"
            )
            response["Retry-After"] = str(wait)
            return response
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:  # the form again: the credentials were refused
            _count_failure(keys)
        elif len(keys) > 1:
            cache.delete(keys[1])  # logged in: this user's count starts again
        return response
