"""The API key page: a user's keys for scripts (``Authorization: Token KEY``). Only a key's digest is stored
(edgeorch.api.keys), so a new key is shown in the answer to the request that created it, and never again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from edgeorch.api import keys


@login_required
@never_cache
def api_key(request):
    """Create a key (shown once, in this answer: never in a redirect, a message or the session), or revoke
    one."""
    created = None
    if request.method == "POST":
        if request.POST.get("action") == "create":
            created = keys.create_key(request.user)
        elif keys.revoke_key(request.user, request.POST.get("key", "")):
            messages.success(request, "The API key was revoked: it no longer works.")
            return redirect("dashboard:api-key")
    context = {"keys": keys.keys_of(request.user), "created": created}
    return render(request, "dashboard/api_key.html", context)
