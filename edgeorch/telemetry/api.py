"""Telemetry over REST: ``GET /api/devices/{id}/telemetry/``, one metric downsampled on the server."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from edgeorch.api.renderers import CSVRenderer
from edgeorch.api.schema import ERROR
from edgeorch.devices.models import Device

from . import services as telemetry

EXPORT_LIMIT = 200_000  # rows a download may hold: a day of one device at 0.5 s


class TelemetryPointSerializer(serializers.Serializer):
    """One bucket: the mean ``value`` of ``n`` samples from ``t``, with their ``min`` and ``max``."""

    t = serializers.DateTimeField()
    value = serializers.FloatField()
    min = serializers.FloatField()
    max = serializers.FloatField()
    n = serializers.IntegerField()


class TelemetrySeriesSerializer(serializers.Serializer):
    device = serializers.UUIDField()
    metric = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    bucket_seconds = serializers.FloatField()
    points = TelemetryPointSerializer(many=True)
    metrics = serializers.ListField(child=serializers.CharField(), help_text="Every metric the device has")


class DeviceTelemetryViewSet(viewsets.GenericViewSet):
    """A device's telemetry series (beside ``devices``' own endpoints, under the same path)."""

    queryset = Device.objects.all()

    @extend_schema(
        parameters=[
            OpenApiParameter("metric", str, required=True, description="Metric name, e.g. cpu.percent"),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="ISO 8601; default: an hour ago"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="ISO 8601; default: now"),
            OpenApiParameter("max_points", int, description="At most this many points (1-5000, default 500)"),
        ],
        responses=TelemetrySeriesSerializer,
    )
    @action(detail=True, methods=["get"])
    def telemetry(self, request, pk=None):
        """One metric over a time range, downsampled on the server to at most ``max_points`` buckets."""
        device = self.get_object()
        metric, since, until, max_points = _series_params(request.query_params)
        points = telemetry.query_series(device, metric, since, until, max_points)
        return Response(
            {
                "device": device.pk,
                "metric": metric,
                "since": since,
                "until": until,
                "bucket_seconds": telemetry.bucket_seconds(since, until, max_points),
                "points": [pt.to_dict() for pt in points],
                "metrics": telemetry.metric_names(device),
            }
        )

    @extend_schema(
        operation_id="devices_telemetry_export",
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="ISO 8601; default: an hour ago"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="ISO 8601; default: now"),
            OpenApiParameter("format", str, enum=["json", "csv"], description="json (default) or csv"),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: ERROR},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="telemetry/export",
        renderer_classes=[JSONRenderer, CSVRenderer],
    )
    def telemetry_export(self, request, pk=None):
        """Every record of the range as a download, one row each (``t``, ``samples``, a column per metric);
        ranges past the raw retention come from the one-minute roll-ups. At most EXPORT_LIMIT rows."""
        device = self.get_object()
        since, until = time_range(request.query_params)
        rows = telemetry.export_records(device, since, until, EXPORT_LIMIT)
        if rows is None:
            too_many = f"More than {EXPORT_LIMIT} records in that range: ask for a shorter one."
            raise ValidationError({"detail": too_many})
        span = f"{since:%Y%m%dT%H%M%S}-{until:%Y%m%dT%H%M%S}"
        name = f"telemetry-{device.pk}-{span}.{request.accepted_renderer.format}"
        return Response(rows, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _series_params(params):
    metric = params.get("metric", "").strip()
    if not metric:
        raise ValidationError({"metric": "Name the metric to query, e.g. ?metric=cpu.percent."})
    since, until = time_range(params)
    try:
        max_points = int(params.get("max_points", 500))
    except ValueError:
        raise ValidationError({"max_points": "max_points must be an integer."}) from None
    if not 1 <= max_points <= 5000:
        raise ValidationError({"max_points": "max_points must be between 1 and 5000."})
    return metric, since, until, max_points


def time_range(params):
    """``since`` and ``until`` of a request's query (default: the last hour), the one before the other; a
    clear 400 otherwise. Also the fleet snapshot's range (``dashboard.api``)."""
    until = _when(params, "until", timezone.now())
    since = _when(params, "since", until - timedelta(hours=1))
    if since >= until:
        raise ValidationError({"since": "'since' must be before 'until'."})
    return since, until


def _when(params, name, default):
    raw = params.get(name)
    if not raw:
        return default
    value = parse_datetime(raw.replace(" ", "+"))
    if value is None:
        raise ValidationError({name: f"{raw!r} is not an ISO 8601 date-time."})
    return value if timezone.is_aware(value) else timezone.make_aware(value, timezone.UTC)


def register(router) -> None:
    router.register("devices", DeviceTelemetryViewSet, basename="device-series")
