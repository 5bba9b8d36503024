"""REST snapshots of the live pages: what a page loads before (and after every reconnect of) its socket."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from edgeorch.devices.models import Device

from . import snapshots


@extend_schema(operation_id="dashboard_fleet", responses=OpenApiTypes.OBJECT, tags=["dashboard"])
@api_view(["GET"])
def fleet_snapshot(request):
    """Every device: status, last seen, profile, latest compact sample, CPU and temperature sparklines;
    ``energy``: per device id, its joules per inference in the latest finished run it took part in.

    Series are ``[bucket start (epoch s), maximum]`` pairs over the last ``points * bucket_s`` seconds.
    Apply ``/ws/dashboard/`` events of topic ``fleet`` to keep it current (``energy`` changes only with a
    fresh snapshot).
    """
    return Response({**snapshots.fleet_snapshot(), "energy": snapshots.fleet_energy()})


@extend_schema(operation_id="dashboard_device", responses=OpenApiTypes.OBJECT, tags=["dashboard"])
@api_view(["GET"])
def device_snapshot(request, pk):
    """One device with finer series of every compact metric, its throttle threshold, links and stages."""
    device = get_object_or_404(Device, pk=pk)
    return Response(snapshots.device_page_snapshot(device))


extra_urlpatterns = [
    path("dashboard/fleet/", fleet_snapshot, name="dashboard-fleet"),
    path("dashboard/devices/<uuid:pk>/", device_snapshot, name="dashboard-device"),
]
