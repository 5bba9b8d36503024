"""REST snapshots of the live pages: what a page loads before (and after every reconnect of) its socket."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from edgeorch.api.schema import ERROR
from edgeorch.devices.models import Device
from edgeorch.telemetry.api import time_range

from . import snapshots, users

RANGE_PARAMS = ("since", "until", "points")  # any of them: the fleet snapshot over a time range


@extend_schema(
    operation_id="dashboard_fleet",
    parameters=[
        OpenApiParameter(
            "since",
            OpenApiTypes.DATETIME,
            description="ISO 8601: the sparklines cover [since, until) instead of the live window "
            "(default: an hour before until)",
        ),
        OpenApiParameter(
            "until", OpenApiTypes.DATETIME, description="ISO 8601, the range's end; default: now"
        ),
        OpenApiParameter(
            "points",
            int,
            description=f"A range's buckets per sparkline, about, at most "
            f"(1-{snapshots.MAX_RANGE_POINTS}, default {snapshots.RANGE_POINTS})",
        ),
    ],
    responses={200: OpenApiTypes.OBJECT, 400: ERROR},
    tags=["dashboard"],
)
@api_view(["GET"])
def fleet_snapshot(request):
    """Every device: status, last seen, profile, latest compact sample, CPU and temperature sparklines;
    ``energy``: per device id, its joules per inference in the latest finished run it took part in.

    Series are ``[bucket start (epoch s), maximum]`` pairs over the last ``points * bucket_s`` seconds.
    Apply ``/ws/dashboard/`` events of topic ``fleet`` to keep it current (``energy`` changes only with a
    fresh snapshot).

    With ``since``, ``until`` or ``points`` the series cover ``[since, until)`` instead (``until`` default
    now, ``since`` an hour before it), for the whole fleet in one request (the fleet page's range picker:
    1 h, 6 h, 24 h, 7 d or custom): ``bucket_s`` grows with the range (a multiple of 30 s, about ``points``
    buckets across it), ``since`` and ``until`` are echoed, and each bucket holds the peak of the stored
    30 s peaks or, older than the raw retention, of the one-minute roll-ups' means. A range that ends now
    takes the same events (they fold into its last bucket and the oldest drops out); one that ends earlier
    is a fixed picture.
    """
    params = request.query_params
    if not any(name in params for name in RANGE_PARAMS):
        return Response({**snapshots.fleet_snapshot(), "energy": snapshots.fleet_energy()})
    for name in ("since", "until"):
        if name in params and not params[name].strip():
            raise ValidationError({name: f"Give {name} as an ISO 8601 date-time, or leave it out."})
    since, until = time_range(params)
    try:
        points = int(params.get("points", snapshots.RANGE_POINTS))
    except ValueError:
        raise ValidationError({"points": "points must be an integer."}) from None
    if not 1 <= points <= snapshots.MAX_RANGE_POINTS:
        raise ValidationError({"points": f"points must be between 1 and {snapshots.MAX_RANGE_POINTS}."})
    snapshot = snapshots.fleet_snapshot(since=since, until=until, points=points)
    return Response({**snapshot, "energy": snapshots.fleet_energy()})


@extend_schema(operation_id="dashboard_device", responses=OpenApiTypes.OBJECT, tags=["dashboard"])
@api_view(["GET"])
def device_snapshot(request, pk):
    """One device with finer series of every compact metric, its throttle threshold, links and stages."""
    device = get_object_or_404(Device, pk=pk)
    return Response(snapshots.device_page_snapshot(device))


@extend_schema(operation_id="dashboard_users", responses=OpenApiTypes.OBJECT, tags=["dashboard"])
@api_view(["GET"])
def users_snapshot(request):
    """Which running sessions (users) each device serves, and how they fare (docs/qos.md, "The fleet's
    users"). ``devices``: every edge server and every device serving a session, with ``qos`` (``queued``
    frames, least ``slack_s``, ``dropped`` so far) from its newest telemetry record. ``sessions``: per running
    session its ``owner``, ``source``, ``model``, ``priority``, ``deadline_s``, ``served_by`` (device ids),
    counts so far (``frames``, ``judged``: with a deadline, ``misses``, ``dropped``, ``failed``) and
    ``miss_rate`` (misses / judged; drops apart), ``configs`` (frames per configuration the answers record;
    ``""``: the plan's route, ``route`` its cuts) and ``config`` (the newest frame's), and over its last
    ``recent_frames`` frames ``recent_stats`` (``frames``, ``misses``, ``dropped``, ``miss_rate``).

    Apply ``/ws/dashboard/`` events of topics ``users``, ``runs`` and ``fleet`` to keep it current
    (``session.running`` and ``plan.switch``: load a fresh one).
    """
    return Response(users.users_snapshot())


extra_urlpatterns = [
    path("dashboard/fleet/", fleet_snapshot, name="dashboard-fleet"),
    path("dashboard/devices/<uuid:pk>/", device_snapshot, name="dashboard-device"),
    path("dashboard/users/", users_snapshot, name="dashboard-users"),
]
