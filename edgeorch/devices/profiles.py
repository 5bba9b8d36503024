"""``GET /api/device-profiles/``: the device profiles agents can emulate (``edgeorch-agent run --profile``).

The profiles are data files shipped with the wire contract (``edgeorch_wire.profiles``); the control plane
lists them from the same loader, so what it shows is what an agent would run as.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from edgeorch_wire.profiles import list_profiles, load_profile
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .choices import DeviceRole


class ProfileUnitSerializer(serializers.Serializer):
    name = serializers.ChoiceField(["cpu", "gpu", "npu"])
    speed = serializers.FloatField(help_text="Multiplies the profile's speed for work on this unit.")
    shm_bandwidth_bps = serializers.FloatField(help_text="Bits/s of a hand-over between two units.")


class ProfilePowerSerializer(serializers.Serializer):
    idle_w = serializers.FloatField()
    busy_w = serializers.FloatField()


class ProfileThermalSerializer(serializers.Serializer):
    ambient_c = serializers.FloatField()
    r_c_per_w = serializers.FloatField(help_text="Thermal resistance: steady-state °C above ambient per W.")
    tau_s = serializers.FloatField(help_text="Time constant of the first-order (RC) model.")
    throttle_at_c = serializers.FloatField()
    max_c = serializers.FloatField()
    clock_floor = serializers.FloatField(
        help_text="Clock fraction at max_c (linear from 1 at throttle_at_c)."
    )


class DeviceProfileSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    # "class" is a Python keyword: the field is declared under another name and renamed below.
    device_class = serializers.ChoiceField(DeviceRole.choices)
    speed = serializers.FloatField(help_text="Compute-time multiplier relative to the agent's host.")
    units = ProfileUnitSerializer(many=True)
    memory_limit_bytes = serializers.IntegerField(allow_null=True)
    power = ProfilePowerSerializer(allow_null=True)
    thermal = ProfileThermalSerializer(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["class"] = fields.pop("device_class")
        return fields


class DeviceProfileList(APIView):
    """Every device profile an agent can emulate, with its speed, units, memory, power and thermal model."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="device_profile_list", responses=DeviceProfileSerializer(many=True))
    def get(self, request):
        """Every device profile an agent can emulate."""
        return Response([load_profile(name).to_dict() for name in list_profiles()])


urlpatterns = [path("device-profiles/", DeviceProfileList.as_view(), name="device-profiles")]
