"""REST API for alert rules (create, read, change, delete) and alerts (list, read, acknowledge)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db.models import Count, Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from edgeorch.api.permissions import IsOperatorOrReadOnly
from edgeorch.api.schema import ERROR
from edgeorch.devices.api import DeviceRefField

from . import services
from .choices import NEEDS_DURATION, NEEDS_THRESHOLD, OPEN, AlertState, RuleKind
from .models import Alert, Rule, TransitionRefused

MAX_DURATION_S = 30 * 86400.0  # a month: longer than any retention of the telemetry a rule reads
TEMPERATURE_RANGE = (-50.0, 200.0)  # °C a sensor can report
MAX_EMAILS = 20


class PeopleOnly(IsOperatorOrReadOnly):
    """Devices never read or change alerts; viewers read, operators change."""

    def has_permission(self, request, view) -> bool:
        return not getattr(request.user, "is_device", False) and super().has_permission(request, view)


class RuleSerializer(serializers.ModelSerializer):
    device = DeviceRefField(
        required=False, allow_null=True, help_text="A device id or name; null or absent: every device"
    )
    threshold = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="temperature_above: °C (-50..200); deadline_miss_rate_above: the share of frames, 0..1",
    )
    duration_s = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=MAX_DURATION_S,
        help_text="throttled_for/offline_for: for longer than this (s); deadline_miss_rate_above: its window",
    )
    emails = serializers.ListField(
        child=serializers.EmailField(), required=False, max_length=MAX_EMAILS, help_text="Told by email"
    )
    webhook_url = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="An http(s) URL POSTed JSON"
    )
    open_alerts = serializers.SerializerMethodField()

    class Meta:
        model = Rule
        fields = [
            "id",
            "name",
            "kind",
            "threshold",
            "duration_s",
            "device",
            "enabled",
            "emails",
            "webhook_url",
            "open_alerts",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def get_open_alerts(self, rule) -> int:
        counted = getattr(rule, "open_count", None)  # annotated by the viewset's queryset
        return counted if counted is not None else rule.alerts.filter(state__in=OPEN).count()

    def validate_webhook_url(self, value: str) -> str:
        if not value:
            return ""
        parts = urlsplit(value)
        # Looser than Django's URLValidator on purpose: a receiver on an internal network often has a bare
        # host name (http://hooks:8080/) that it refuses for want of a top-level domain.
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
            raise ValidationError(
                "An http:// or https:// URL with a host, e.g. https://hooks.example/alerts."
            )
        return value

    def validate(self, attrs):
        merged = (
            {f: getattr(self.instance, f) for f in ("kind", "threshold", "duration_s")}
            if self.instance
            else {}
        )
        merged.update({k: v for k, v in attrs.items() if k in ("kind", "threshold", "duration_s")})
        kind = merged.get("kind")
        errors = {}
        threshold, duration = merged.get("threshold"), merged.get("duration_s")
        if kind in NEEDS_THRESHOLD and threshold is None:
            errors["threshold"] = f"A {kind} rule needs a threshold."
        elif (
            kind == RuleKind.TEMPERATURE_ABOVE
            and not TEMPERATURE_RANGE[0] <= threshold <= TEMPERATURE_RANGE[1]
        ):
            errors["threshold"] = "A temperature in °C between -50 and 200."
        elif kind == RuleKind.DEADLINE_MISS_RATE_ABOVE and not 0.0 <= threshold < 1.0:
            errors["threshold"] = "A share of frames between 0 and 1 (0.1 = 10 %), below 1."
        if kind in NEEDS_DURATION and not duration:
            errors["duration_s"] = f"A {kind} rule needs duration_s, a number of seconds above 0."
        if errors:
            raise ValidationError(errors)
        return attrs


class AlertSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    kind = serializers.CharField(source="rule.kind", read_only=True)
    device_name = serializers.CharField(source="device.name", read_only=True)
    acknowledged_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "rule_name",
            "kind",
            "device",
            "device_name",
            "state",
            "value",
            "message",
            "fired_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "deliveries",
        ]
        read_only_fields = fields


class RuleViewSet(viewsets.ModelViewSet):
    """Alert rules: what the workers watch on the fleet's telemetry, and whom they tell (docs/alerts.md)."""

    queryset = Rule.objects.select_related("device").annotate(
        open_count=Count("alerts", filter=Q(alerts__state__in=sorted(OPEN)))
    )
    serializer_class = RuleSerializer
    permission_classes = [PeopleOnly]
    http_method_names = ["get", "post", "patch", "delete"]

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)


STATE_FILTER = OpenApiParameter(
    "state", str, description="open (fired or acknowledged), fired, acknowledged or resolved; absent: all"
)


@extend_schema_view(list=extend_schema(parameters=[STATE_FILTER]))
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Alerts raised by the rules, newest first, with their history (fired, acknowledged, resolved)."""

    serializer_class = AlertSerializer
    permission_classes = [PeopleOnly]

    def get_queryset(self):
        alerts = Alert.objects.select_related("rule", "device", "acknowledged_by")
        if self.action != "list" or "state" not in self.request.query_params:
            return alerts
        state = self.request.query_params["state"]
        if state == "open":
            return alerts.filter(state__in=OPEN)
        if state not in AlertState.values:
            raise ValidationError({"state": ["One of open, fired, acknowledged, resolved."]})
        return alerts.filter(state=state)

    @extend_schema(request=None, responses={200: AlertSerializer, 409: ERROR})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """An operator has seen this alert: fired -> acknowledged (409 when it is not fired)."""
        alert = self.get_object()
        try:
            services.acknowledge_alert(alert, request.user)
        except TransitionRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(AlertSerializer(alert).data)


def register(router) -> None:
    router.register("alert-rules", RuleViewSet, basename="alert-rule")
    router.register("alerts", AlertViewSet, basename="alert")
