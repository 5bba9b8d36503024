"""REST API of plans: the strategy registry, what-if plans and cut sweeps, the predictor's accuracy.

A what-if stores nothing and runs nothing, so any logged-in person may ask (viewers included).
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from edgeorch import planning
from edgeorch.catalog.api import ModelRefField
from edgeorch.catalog.models import MLModel
from edgeorch.devices.api import DeviceRefField
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device

from . import measurements, services


class StrategyParamSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(
        help_text="int, float, str, device (a device id) or devices (a list of them)"
    )
    default = serializers.JSONField(allow_null=True, help_text="null: none, or the strategy chooses")
    choices = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="The only values it takes (null: any)"
    )
    help = serializers.CharField(help_text="What it does")


class StrategySerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    params = serializers.ListField(child=serializers.CharField(), help_text="Its parameters' names")
    parameters = StrategyParamSerializer(many=True, help_text="Each parameter: type, default, choices, help")
    objective = serializers.CharField(help_text="Its default objective (every strategy takes `objective`)")
    objectives = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The only objectives it takes (null: every one; ans, which learns delays: latency)",
    )


OBJECTIVE_HELP = (
    "What the strategy minimises where it has a choice: latency (the default), energy (the source device's "
    "joules per inference, whatever the latency) or energy_under_deadline (the fewest joules among the "
    "plans meeting the deadline; the fastest when none does). docs/energy.md"
)


def objective_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=planning.OBJECTIVES, help_text=OBJECTIVE_HELP, **kwargs)


def with_objective(params: dict | None, objective: str | None) -> dict:
    """Strategy parameters with ``objective`` in them (a 400 when ``params`` names another one)."""
    params = dict(params or {})
    if objective is None:
        return params
    if params.get("objective", objective) != objective:
        raise ValidationError({"objective": f"params says objective {params['objective']!r}: give one"})
    return {**params, "objective": objective}


def _radio_kind(value: str) -> None:
    if value not in planning.RADIOS:
        raise ValidationError(f"{value!r} is not a link type; known: {', '.join(planning.RADIOS)}")


class LinkOverrideSerializer(serializers.Serializer):
    a = DeviceRefField(help_text="A device: id or name")
    b = DeviceRefField(help_text="The other device: id or name")
    bandwidth_bps = serializers.FloatField(required=False, min_value=1.0, help_text="bits/s")
    rtt_ms = serializers.FloatField(required=False, min_value=0.0)
    radio = serializers.CharField(
        required=False,
        validators=[_radio_kind],
        help_text="wifi, lte or ethernet: the energy model's link type",
    )

    def validate(self, attrs):
        return {**attrs, "a": str(attrs["a"].pk), "b": str(attrs["b"].pk)}  # the planner's ids


class OverridesSerializer(serializers.Serializer):
    bandwidth_bps = serializers.FloatField(required=False, min_value=1.0, help_text="Every link, bits/s")
    rtt_ms = serializers.FloatField(required=False, min_value=0.0, help_text="Every link")
    radio = serializers.CharField(
        required=False,
        validators=[_radio_kind],
        help_text="Every link's type for the energy model: wifi, lte or ethernet (default: wifi to an end "
        "device, else ethernet)",
    )
    radio_wakeup = serializers.BooleanField(
        required=False,
        help_text="Sporadic requests: each inference wakes the radio (promotion + tail energy)",
    )
    links = LinkOverrideSerializer(many=True, required=False, help_text="One pair (either direction)")
    throttle = serializers.DictField(
        child=serializers.FloatField(min_value=1.0), required=False, help_text="device id -> factor >= 1"
    )
    queue = serializers.DictField(
        child=serializers.IntegerField(min_value=0), required=False, help_text="device id -> requests ahead"
    )


@extend_schema_serializer(component_name="WhatIf")
class PlanRequestSerializer(serializers.Serializer):
    model = ModelRefField(help_text="Model id, or name (newest version)")
    strategy = serializers.CharField(default="multi-device")
    # a field named like a Field attribute
    source = DeviceRefField(help_text="The source device: id or name")  # type: ignore[assignment]
    devices = serializers.ListField(
        child=DeviceRefField(), required=False, help_text="Devices to consider (default: all online)"
    )
    result = DeviceRefField(
        required=False, allow_null=True, help_text="Where the result goes (default: the source)"
    )
    deadline_ms = serializers.FloatField(required=False, allow_null=True, min_value=0.0)
    params = serializers.JSONField(
        required=False, help_text='Strategy parameters, e.g. {"cut": 2, "device": "…"}'
    )
    objective = objective_field(required=False)
    overrides = OverridesSerializer(required=False)

    def validate_params(self, value):
        if not isinstance(value, dict):
            raise ValidationError("params must be an object")
        return value


@extend_schema_serializer(component_name="CutSweep")
class SweepRequestSerializer(serializers.Serializer):
    model = ModelRefField(help_text="Model id, or name (newest version)")
    # a field named like a Field attribute
    source = DeviceRefField(help_text="The source device: id or name")  # type: ignore[assignment]
    edge = DeviceRefField(help_text="The edge device: id or name")
    objective = objective_field(default="latency")
    deadline_ms = serializers.FloatField(
        required=False, allow_null=True, min_value=0.0, help_text="For objective energy_under_deadline"
    )
    overrides = OverridesSerializer(required=False)


class StageSerializer(serializers.Serializer):
    device = serializers.CharField()
    unit = serializers.CharField()
    first_block = serializers.IntegerField(allow_null=True)
    last_block = serializers.IntegerField(allow_null=True)
    nodes = serializers.ListField(child=serializers.CharField())
    compute = serializers.FloatField(allow_null=True)
    transfer = serializers.FloatField(allow_null=True)
    queue = serializers.FloatField(allow_null=True)
    energy = serializers.FloatField(
        allow_null=True, required=False, help_text="J: the source device's share while this stage runs"
    )


class AlternativeSerializer(serializers.Serializer):
    description = serializers.CharField()
    latency = serializers.FloatField(allow_null=True)
    throughput = serializers.FloatField(allow_null=True)
    energy = serializers.FloatField(allow_null=True, required=False, help_text="J of the source device")


class DeviceEnergySerializer(serializers.Serializer):
    device = serializers.CharField()
    compute = serializers.FloatField(help_text="J: busy power x its compute seconds")
    radio = serializers.FloatField(help_text="J: its radio sending and receiving (and waking)")
    idle = serializers.FloatField(help_text="J: idle power while it waits (the source only)")
    total = serializers.FloatField()
    known = serializers.BooleanField(help_text="False: no power model, compute and idle not counted")


class EnergySerializer(serializers.Serializer):
    """The source device's joules per inference:
    ``total = compute + radio + idle = input + sum(stage.energy)`` (docs/energy.md)."""

    device = serializers.CharField(help_text="The source device")
    total = serializers.FloatField(allow_null=True, help_text="J; null: the source has no power model")
    compute = serializers.FloatField(allow_null=True)
    radio = serializers.FloatField()
    idle = serializers.FloatField(allow_null=True)
    input = serializers.FloatField(allow_null=True, help_text="J during the input transfer")
    devices = DeviceEnergySerializer(many=True)


class CutTensorSerializer(serializers.Serializer):
    name = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute
    target = serializers.CharField()
    bytes = serializers.FloatField()


class PlannedDeviceSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    status = serializers.CharField()
    online = serializers.BooleanField()
    times = serializers.CharField(required=False, help_text="measured, predicted or estimated")
    detail = serializers.CharField(required=False)
    throttle = serializers.FloatField(required=False)
    queue = serializers.IntegerField(required=False)
    power = serializers.DictField(
        child=serializers.FloatField(), required=False, allow_null=True, help_text="{idle_w, busy_w}"
    )


class PlannedLinkSerializer(serializers.Serializer):
    a = serializers.CharField()
    b = serializers.CharField()
    a_name = serializers.CharField()
    b_name = serializers.CharField()
    bandwidth_bps = serializers.FloatField()
    rtt_ms = serializers.FloatField()
    loss = serializers.FloatField()
    # a field named like a Field attribute
    source = serializers.CharField(help_text="measured, assumed or override")  # type: ignore[assignment]
    radio = serializers.CharField(required=False, help_text="wifi, lte or ethernet (energy model)")
    radio_source = serializers.CharField(required=False, help_text="assumed or override")


class ModelRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()


class PlacementSerializer(serializers.Serializer):
    """A plan as the planner makes it (and a job records it):
    ``latency = input_transfer + sum(stage.queue + stage.compute + stage.transfer)``; seconds."""

    strategy = serializers.CharField()
    stages = StageSerializer(many=True)
    input_transfer = serializers.FloatField(allow_null=True)
    latency = serializers.FloatField(allow_null=True)
    throughput = serializers.FloatField(allow_null=True, help_text="frames/s")
    deadline = serializers.FloatField(allow_null=True)
    deadline_met = serializers.BooleanField(allow_null=True)
    cut_tensors = CutTensorSerializer(many=True)
    alternatives = AlternativeSerializer(many=True)
    notes = serializers.ListField(child=serializers.CharField())
    energy = EnergySerializer(allow_null=True, required=False)
    objective = serializers.CharField(required=False, help_text="What the strategy minimised")


class PlanSerializer(PlacementSerializer):
    """A what-if: the placement with the model, devices and links it was planned from."""

    model = ModelRefSerializer()
    devices = PlannedDeviceSerializer(many=True)
    links = PlannedLinkSerializer(many=True)


class DeviceRefSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class SweepCutSerializer(serializers.Serializer):
    cut = serializers.IntegerField(help_text="Blocks run on the source device (0: offload, n: local)")
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute
    cut_point = serializers.IntegerField(allow_null=True, help_text="The catalog cut point index")
    device_compute = serializers.FloatField(allow_null=True)
    transfer = serializers.FloatField(allow_null=True)
    queue = serializers.FloatField(allow_null=True)
    edge_compute = serializers.FloatField(allow_null=True)
    latency = serializers.FloatField(allow_null=True)
    bytes = serializers.FloatField(allow_null=True)
    energy = serializers.FloatField(allow_null=True, required=False, help_text="J of the source device")
    energy_compute = serializers.FloatField(allow_null=True, required=False)
    energy_radio = serializers.FloatField(allow_null=True, required=False)
    energy_idle = serializers.FloatField(allow_null=True, required=False)
    error = serializers.CharField(allow_null=True)


class SweepSerializer(serializers.Serializer):
    model = ModelRefSerializer()
    source = DeviceRefSerializer()  # type: ignore[assignment]  # a field named like a Field attribute
    edge = DeviceRefSerializer()
    cuts = SweepCutSerializer(many=True)
    best = serializers.IntegerField(allow_null=True)
    best_energy = serializers.IntegerField(
        allow_null=True, required=False, help_text="The cut costing the source the fewest joules"
    )
    objective = serializers.CharField(required=False)
    deadline_ms = serializers.FloatField(required=False, allow_null=True)
    chosen = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="The cut the objective picks: latency best, energy best_energy, energy_under_deadline the "
        "cheapest cut within deadline_ms (the fastest when none is)",
    )
    devices = PlannedDeviceSerializer(many=True)
    links = PlannedLinkSerializer(many=True)
    notes = serializers.ListField(child=serializers.CharField())


class PredictorReportSerializer(serializers.Serializer):
    profiles = serializers.IntegerField()
    pairs = serializers.IntegerField(help_text="(device, model) pairs profiled")
    held_out_pairs = serializers.IntegerField()
    train_samples = serializers.IntegerField()
    test_samples = serializers.IntegerField()
    mape = serializers.FloatField(
        allow_null=True, help_text="A fraction: 0.05 = 5%; null with too few profiles"
    )
    device_classes = serializers.ListField(child=serializers.CharField())
    detail = serializers.CharField()


@extend_schema(operation_id="strategy_list", responses=StrategySerializer(many=True))
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def strategy_list(request):
    """The planning strategies: name, one-line description and the parameters each takes (`parameters`:
    each one's type, default, choices and what it does)."""
    return Response([info.to_dict() for info in planning.STRATEGIES.values()])


@extend_schema(operation_id="plan_whatif", request=PlanRequestSerializer, responses={200: PlanSerializer})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def plan_create(request):
    """A what-if plan with its breakdown, from the latest profiles, telemetry and links plus any overrides.

    Nothing is stored or run. 400 names an unknown model, device or strategy, or says why no plan exists."""
    data = _valid(PlanRequestSerializer, request)
    model = _model(data["model"].pk)
    source, result = data["source"], data.get("result")
    if "devices" in data:
        devices = data["devices"]
    else:
        devices = list(Device.objects.filter(status=DeviceStatus.ONLINE))
    deadline = data.get("deadline_ms")
    return _answer(
        services.make_plan,
        model,
        devices,
        source,
        data["strategy"],
        result=result,
        overrides=data.get("overrides"),
        deadline=None if deadline is None else deadline / 1000.0,
        params=with_objective(data.get("params"), data.get("objective")),
    )


@extend_schema(operation_id="plan_sweep", request=SweepRequestSerializer, responses={200: SweepSerializer})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def plan_sweep(request):
    """Every cut between a source and an edge device: device compute, transfer, edge compute, the source's
    joules; the fastest cut, the cheapest, and the one the objective picks."""
    data = _valid(SweepRequestSerializer, request)
    model, source, edge = _model(data["model"].pk), data["source"], data["edge"]
    deadline = data.get("deadline_ms")
    return _answer(
        services.cut_sweep,
        model,
        source,
        edge,
        overrides=data.get("overrides"),
        objective=data["objective"],
        deadline=None if deadline is None else deadline / 1000.0,
    )


@extend_schema(operation_id="plan_predictor", responses=PredictorReportSerializer)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def predictor_report(request):
    """How well the latency regression predicts (device, model) pairs it was not fitted on (MAPE)."""
    return Response(services.predictor_report())


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _model(pk: int) -> MLModel:
    model = MLModel.objects.filter(pk=pk).prefetch_related("cut_points").first()
    if model is None:
        raise ValidationError({"detail": f"No model with id {pk}."})
    return model


def _answer(function, *args, **kwargs) -> Response:
    try:
        return Response(function(*args, **kwargs))
    except (services.PlanInputError, planning.PlanningError) as exc:
        return Response({"detail": str(exc)}, status=400)


class LinkSerializer(serializers.Serializer):
    """One link sample as seen from ``context["device"]``: ``out`` from it, ``in`` to it."""

    direction = serializers.SerializerMethodField()
    peer = serializers.SerializerMethodField(help_text="The other device's id; null: the control plane")
    peer_name = serializers.SerializerMethodField()
    bandwidth_bps = serializers.FloatField()
    rtt_s = serializers.FloatField()
    jitter_s = serializers.FloatField()
    loss = serializers.FloatField()
    measured_at = serializers.DateTimeField()

    def get_direction(self, sample) -> str:
        return "out" if sample.device_from_id == self.context["device"].pk else "in"

    def _peer(self, sample):
        return sample.device_to if self.get_direction(sample) == "out" else sample.device_from

    def get_peer(self, sample) -> str | None:
        peer = self._peer(sample)
        return str(peer.pk) if peer else None

    def get_peer_name(self, sample) -> str:
        peer = self._peer(sample)
        return peer.name if peer else "control plane"


class DeviceLinkViewSet(viewsets.GenericViewSet):
    """A device's measured links (beside ``devices``' own endpoints, under the same path)."""

    queryset = Device.objects.all()

    @extend_schema(responses=LinkSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # a device has few links: never paged
    def links(self, request, pk=None):
        """The latest measurement of each link from and to the device; ``peer`` null is the control plane."""
        device = self.get_object()
        return Response(
            LinkSerializer(measurements.device_links(device), many=True, context={"device": device}).data
        )


def register(router) -> None:
    router.register("devices", DeviceLinkViewSet, basename="device-link")


extra_urlpatterns = [
    path("strategies/", strategy_list, name="plans-strategies"),
    path("plans/", plan_create, name="plans-create"),
    path("plans/sweep/", plan_sweep, name="plans-sweep"),
    path("plans/predictor/", predictor_report, name="plans-predictor"),
]
