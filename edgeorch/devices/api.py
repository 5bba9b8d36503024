"""REST API for devices, enrollment tokens, agent enrollment, the agents' link probe and telemetry queries."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from edgeorch_wire.protocol import LINK_PROBE_MAX_BYTES
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response

from edgeorch.api.schema import ERROR, ErrorSerializer
from edgeorch.api.throttles import EnrollmentTokenThrottle, EnrollThrottle

from . import profiles, services
from .auth import DeviceCredentialAuthentication
from .choices import DeviceRole, DeviceStatus
from .models import MAX_TAGS, TAG_PATTERN, Device, EnrollmentToken


def public_base_url(request) -> str:
    """The URL devices should use to reach this server."""
    return settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


@extend_schema_field(OpenApiTypes.STR)
class DeviceRefField(serializers.Field):
    """A device by id (UUID), or by name where one device has it; read back as its id."""

    def to_internal_value(self, data) -> Device:
        text = str(data).strip()
        try:
            return Device.objects.get(pk=uuid.UUID(text))
        except ValueError:
            found = list(Device.objects.filter(name=text)[:2])
        except Device.DoesNotExist:
            found = []
        if len(found) != 1:
            several = f"several devices are named {text!r}: give its id"
            raise ValidationError(several if found else f"no device {text!r}")
        return found[0]

    def to_representation(self, value) -> str:
        return str(getattr(value, "pk", value))


TAG_WORDS = "a tag is 1 to 32 letters, digits or . - _ : (starting with a letter or digit)"


class DeviceSerializer(serializers.ModelSerializer):
    online = serializers.SerializerMethodField()
    liveness = serializers.SerializerMethodField()
    tags = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=True),
        max_length=MAX_TAGS,
        required=False,
        help_text=f"The operator's labels (at most {MAX_TAGS}; {TAG_WORDS}); PATCH replaces the list",
    )

    class Meta:
        model = Device
        fields = [
            "id",
            "name",
            "role",
            "profile",
            "tags",
            "status",
            "online",
            "last_seen",
            "connected_at",
            "enrolled_at",
            "revoked_at",
            "hostname",
            "agent_version",
            "inventory",
            "dataplane_host",
            "dataplane_port",
            "serve_host",
            "serve_port",
            "last_seq",
            "dropped_records",
            "liveness",
        ]
        read_only_fields = [f for f in fields if f not in ("name", "role", "profile", "tags")]

    def validate_tags(self, value: list[str]) -> list[str]:
        """Each tag once, in the order given; one that breaks ``TAG_PATTERN`` is refused by name."""
        for tag in value:
            if not re.match(TAG_PATTERN, tag):
                raise ValidationError(f"{tag!r} is not a tag: {TAG_WORDS}")
        return list(dict.fromkeys(value))

    def get_online(self, device) -> bool:
        return device.status == "online"

    def get_liveness(self, device) -> dict:
        """The rules behind ``status``, so nobody has to guess them."""
        return {
            "telemetry_interval_s": settings.TELEMETRY_INTERVAL_S,
            "timeout_s": settings.LIVENESS_TIMEOUT_S,
        }


class EnrollmentTokenSerializer(serializers.ModelSerializer):
    ttl_hours = serializers.FloatField(write_only=True, default=24.0, min_value=0.01, max_value=24 * 365)
    usable = serializers.BooleanField(read_only=True)

    class Meta:
        model = EnrollmentToken
        fields = [
            "id",
            "name",
            "prefix",
            "max_uses",
            "uses",
            "expires_at",
            "revoked",
            "usable",
            "profile",
            "role",
            "created_at",
            "ttl_hours",
        ]
        read_only_fields = ["prefix", "uses", "expires_at", "revoked", "created_at"]
        extra_kwargs = {"max_uses": {"min_value": 1, "max_value": 100000}}


class EnrollmentTokenCreatedSerializer(EnrollmentTokenSerializer):
    """The create reply: the token with its secret, which no later read shows."""

    token = serializers.CharField(read_only=True, help_text="Shown once, on creation")
    install_command = serializers.CharField(read_only=True, help_text="Shown once, on creation")

    class Meta(EnrollmentTokenSerializer.Meta):
        fields = [*EnrollmentTokenSerializer.Meta.fields, "token", "install_command"]


ORDERINGS = (
    "name",
    "-name",
    "status",
    "role",
    "profile",
    "last_seen",
    "-last_seen",
    "enrolled_at",
    "-enrolled_at",
)


def _one_of(what: str, values) -> dict:
    """A choice's refusal that names the valid values."""
    return {"invalid_choice": f'"{{input}}" is not {what}: one of {", ".join(values)}'}


class DeviceFilterSerializer(serializers.Serializer):
    """The fleet list's query: search, filters and order (as the fleet page offers them); a blank search,
    profile or tag is "any", as the page's."""

    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="In the name, hostname or a tag (any case)",
    )
    status = serializers.ChoiceField(
        choices=DeviceStatus.choices,
        required=False,
        error_messages=_one_of("a status", DeviceStatus.values),
    )
    role = serializers.ChoiceField(
        choices=DeviceRole.choices,
        required=False,
        error_messages=_one_of("a role", DeviceRole.values),
    )
    profile = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Exactly this device profile"
    )
    tag = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="Devices with this tag"
    )
    ordering = serializers.ChoiceField(
        choices=ORDERINGS,
        default="name",
        help_text="- : descending",
        error_messages=_one_of("an ordering", ORDERINGS),
    )


class DeviceViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Devices of the fleet. Operators may rename them, change role/profile/tags, and revoke them."""

    queryset = Device.objects.all()
    serializer_class = DeviceSerializer
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self):
        devices = super().get_queryset()
        if self.action != "list":
            return devices
        # A plain dict, not the QueryDict: "?status=" is then refused, as the schema says, not ignored.
        form = DeviceFilterSerializer(data=dict(self.request.query_params.items()))
        form.is_valid(raise_exception=True)
        query = form.validated_data
        for name in ("status", "role", "profile"):
            if query.get(name):
                devices = devices.filter(**{name: query[name]})
        # Tags are a JSON list, which SQLite (the demo) cannot search inside: matched here, by id.
        tag, search = query.get("tag"), query.get("search", "").strip().lower()
        if tag or search:
            ids = [
                pk
                for pk, name, host, tags in devices.values_list("pk", "name", "hostname", "tags")
                if (not tag or tag in (tags or []))
                and (not search or any(search in str(v).lower() for v in (name, host, *(tags or []))))
            ]
            devices = devices.filter(pk__in=ids)
        return devices.order_by(query["ordering"], "name", "pk")

    @extend_schema(parameters=[DeviceFilterSerializer])
    def list(self, request, *args, **kwargs):
        """The fleet, a page at a time: `search` (name, hostname or tag), `status`, `role`, `profile`, `tag`
        and `ordering`; a value it does not know answers 400 saying which are valid."""
        return super().list(request, *args, **kwargs)

    def perform_update(self, serializer):
        """Save, and let the fleet pages show the new name, role, profile or tags live."""
        services.device_changed(serializer.save())

    @extend_schema(request=None, responses=DeviceSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the device: its agent is disconnected at once and can never reconnect."""
        device = services.revoke_device(self.get_object())
        return Response(DeviceSerializer(device).data)


class EnrollmentTokenViewSet(
    mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Tokens that let devices enroll. The plain token and install command appear only in the create reply.

    DELETE revokes the token (devices it already enrolled keep working).
    """

    queryset = EnrollmentToken.objects.all()
    serializer_class = EnrollmentTokenSerializer

    def get_throttles(self):
        return [EnrollmentTokenThrottle()] if self.action == "create" else super().get_throttles()

    @extend_schema(responses={201: EnrollmentTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, plain = services.create_enrollment_token(
            created_by=request.user,
            name=data.get("name", ""),
            max_uses=data.get("max_uses", 1),
            ttl=timedelta(hours=data["ttl_hours"]),
            profile=data.get("profile", ""),
            role=data.get("role", DeviceRole.END_DEVICE),
        )
        body = EnrollmentTokenSerializer(token).data
        body["token"] = plain
        body["install_command"] = services.install_command(public_base_url(request), plain)
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        instance.revoked = True
        instance.save(update_fields=["revoked"])


@extend_schema_serializer(component_name="AgentEnroll")
class EnrollRequestSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)
    name = serializers.CharField(max_length=100)
    profile = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    inventory = serializers.DictField(required=False)


@extend_schema(
    operation_id="agent_enroll",
    request=EnrollRequestSerializer,
    responses={
        400: ERROR,
        403: OpenApiResponse(ErrorSerializer, description="The token is unknown, used up, expired, revoked"),
        201: inline_serializer(
            "Enrollment",
            {
                "device_id": serializers.UUIDField(),
                "name": serializers.CharField(),
                "credential": serializers.CharField(),
                "ws_url": serializers.CharField(),
            },
        ),
    },
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([EnrollThrottle])
def enroll(request):
    """Exchange an enrollment token for a device credential (used by ``edgeorch-agent enroll``)."""
    serializer = EnrollRequestSerializer(data=request.data)
    if not serializer.is_valid():
        return Response({"detail": _first_error(serializer.errors)}, status=status.HTTP_400_BAD_REQUEST)
    data = serializer.validated_data
    try:
        result = services.enroll_device(
            data["token"],
            name=data["name"],
            profile=data.get("profile") or "",
            inventory=data.get("inventory"),
        )
    except services.EnrollmentRefused as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    base = public_base_url(request)
    ws_url = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/ws/agent/"
    body = {"device_id": result.device.pk, "name": result.device.name, "credential": result.credential}
    return Response({**body, "ws_url": ws_url}, status=status.HTTP_201_CREATED)


class IsDevice(BasePermission):
    """Only agents, by their device credential."""

    def has_permission(self, request, view) -> bool:
        return getattr(request.user, "is_device", False)


@extend_schema(
    operation_id="agent_link_probe",
    request={"application/octet-stream": OpenApiTypes.BINARY},
    responses={
        200: inline_serializer("LinkProbeReceipt", {"received": serializers.IntegerField()}),
        413: OpenApiResponse(ErrorSerializer, description="More than LINK_PROBE_MAX_BYTES"),
    },
)
@api_view(["POST"])
@authentication_classes([DeviceCredentialAuthentication])
@permission_classes([IsDevice])
def link_probe(request):
    """Agents time uploads of up to ``LINK_PROBE_MAX_BYTES`` here to measure their bandwidth to the control
    plane (docs/protocol.md, ``probe``). The body is counted and dropped."""
    announced = request.META.get("CONTENT_LENGTH") or "0"
    if not announced.isdigit():
        return Response({"detail": f"Content-Length {announced!r} is not a byte count."}, status=400)
    if int(announced) > LINK_PROBE_MAX_BYTES:
        return Response(
            {"detail": f"a probe upload may be at most {LINK_PROBE_MAX_BYTES} bytes, not {announced}"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    return Response({"received": len(request.body)})


def _first_error(errors) -> str:
    field, problems = next(iter(errors.items()))
    return f"{field}: {problems[0]}"


def register(router) -> None:
    router.register("devices", DeviceViewSet)
    router.register("enrollment-tokens", EnrollmentTokenViewSet)


extra_urlpatterns = [
    path("agent/enroll/", enroll, name="agent-enroll"),
    path("agent/link-probe/", link_probe, name="agent-link-probe"),
]
extra_urlpatterns += profiles.urlpatterns
