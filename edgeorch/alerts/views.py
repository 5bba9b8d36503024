"""The Alerts page: open and past alerts (live, from GET /api/alerts/ and the ``alerts`` events) and the
rules, with a form to add one and buttons to enable, disable or delete (all through the REST API)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from edgeorch.api.permissions import is_operator
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device

from .choices import RuleKind
from .models import Rule


@login_required
@ensure_csrf_cookie
def alerts(request):
    context = {
        "rules": Rule.objects.select_related("device").order_by("name", "id"),
        "kinds": RuleKind.choices,
        "devices": Device.objects.exclude(status=DeviceStatus.REVOKED).order_by("name").only("id", "name"),
        "can_change": is_operator(request.user),
        "interval": settings.ALERT_EVALUATION_INTERVAL_S,
    }
    return render(request, "alerts/alerts.html", context)
