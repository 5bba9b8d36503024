"""The what-if page: the cut sweep between a device and an edge, re-planned live over the REST API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from edgeorch import planning
from edgeorch.catalog.models import MLModel
from edgeorch.devices.choices import DeviceRole, DeviceStatus
from edgeorch.devices.models import Device

from . import conf


@login_required
@ensure_csrf_cookie
def whatif(request):
    """Pickers for model, devices and strategy; the chart and tables are drawn by ``plans/whatif.js``."""
    devices = list(Device.objects.exclude(status=DeviceStatus.REVOKED))
    sources = [d for d in devices if d.role == DeviceRole.END_DEVICE] or devices
    edges = [d for d in devices if d.role == DeviceRole.EDGE] or devices
    context = {
        "models": MLModel.objects.only("id", "name", "version"),
        "sources": sources,
        "edges": edges,
        "default_edge": next((e for e in edges if sources and e.pk != sources[0].pk), None),
        "strategies": planning.STRATEGIES.values(),
        "default_bandwidth_bps": conf.DEFAULT_BANDWIDTH_BPS,
        "default_rtt_ms": conf.DEFAULT_RTT_S * 1e3,
    }
    return render(request, "plans/whatif.html", context)
