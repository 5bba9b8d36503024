"""REST API of jobs, stream sessions and measurement requests.

People submit and read (operators submit, viewers read); agents read a run's input tensor with their device
credential. Submitting answers 202 with the id: a Celery task plans and starts the run.

Why one module of this length: the three resources (jobs, sessions, measurements) share the run serializers
and the per-stage table builder; each viewset is a few lines around them.
"""

from __future__ import annotations

import json

from django.http import FileResponse
from django.urls import path
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from edgeorch_wire.protocol import SOURCE_STAGE
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
    renderer_classes,
)
from rest_framework.exceptions import UnsupportedMediaType, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from edgeorch import planning
from edgeorch.api.pagination import StrictLimitOffsetPagination
from edgeorch.api.parsers import JSONParser, MultiPartParser
from edgeorch.api.permissions import IsOperatorOrReadOnly
from edgeorch.api.renderers import CSVRenderer
from edgeorch.api.schema import ErrorSerializer
from edgeorch.catalog.api import ModelRefField
from edgeorch.devices.api import DeviceRefField, public_base_url
from edgeorch.devices.auth import AGENT_OR_PERSON
from edgeorch.devices.models import Device
from edgeorch.plans.api import PlacementSerializer, objective_field, with_objective
from edgeorch.plans.energy import run_energy

from . import stats, topology
from .access import readable_run
from .choices import Failover, Priority
from .models import (
    BudgetChange,
    Deployment,
    Frame,
    IllegalTransition,
    Job,
    Measurement,
    PlanSwitch,
    Session,
)
from .services import lifecycle, measurements, selection, submit
from .services.admission import AdmissionRefused

AUTHENTICATION = AGENT_OR_PERSON


class PeopleOnly(IsOperatorOrReadOnly):
    """Devices read inputs only (their own endpoints); everything here is for people."""

    def has_permission(self, request, view) -> bool:
        return not getattr(request.user, "is_device", False) and super().has_permission(request, view)


# --- submitting ------------------------------------------------------------------------------------


# The ranges of a run request's numbers (docs/api.md): beyond them a value is refused with 400 before anything
# is created (numpy takes 32-bit seeds; a deadline past a datetime's range broke the overdue sweep).
MAX_SEED = 2**32 - 1
MAX_SAMPLE = 2**31 - 1
MAX_TIMEOUT_S = 7 * 24 * 3600.0
MAX_RATE = 10_000.0
MAX_FRAMES = 100_000_000
MAX_DEADLINE_S = submit.MAX_DEADLINE_S
MAX_IN_FLIGHT = 1024


class RunRequestSerializer(serializers.Serializer):
    model = ModelRefField(help_text="Model id, or name (newest version)")
    source = DeviceRefField(  # type: ignore[assignment]
        help_text="The source device (where the input is captured): its id, or its name"
    )
    strategy = serializers.CharField(default="device-edge", help_text="A planner strategy")
    params = serializers.JSONField(
        required=False, help_text='Strategy parameters, e.g. {"cut": 2, "device": "…"}'
    )
    devices = serializers.ListField(
        child=DeviceRefField(), required=False, help_text="Devices to consider, by id or name (default: all)"
    )
    codec = serializers.CharField(default="raw", help_text="Activation codec: raw, fp16, int8, zlib")
    objective = objective_field(required=False)
    sample = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_SAMPLE, help_text="Use test sample k of the model's data"
    )
    seed = serializers.IntegerField(
        default=0,
        min_value=0,
        max_value=MAX_SEED,
        help_text="Seed of the random input (no upload, no sample), 0 to 2**32-1",
    )
    timeout_s = serializers.FloatField(
        required=False,
        min_value=0.1,
        max_value=MAX_TIMEOUT_S,
        help_text="Seconds before the run fails as timed out, 0.1 to 7 days (default: the server's)",
    )

    def validate_devices(self, value):
        return [device.pk for device in value]

    def validate_params(self, value):
        if not isinstance(value, dict):
            raise ValidationError("params must be an object")
        return value


@extend_schema_serializer(component_name="JobCreate")
class JobRequestSerializer(RunRequestSerializer):
    """A job as JSON: its input is test sample ``sample`` or a seeded random tensor."""


@extend_schema_serializer(component_name="JobUpload")
class JobUploadSerializer(JobRequestSerializer):
    """A job as multipart/form-data, with its input tensor uploaded as a .npy file."""

    input = serializers.FileField(required=False, help_text="The input tensor as a .npy file")
    params = serializers.CharField(  # type: ignore[assignment]  # a form field is text: JSON text
        required=False, help_text='Strategy parameters as JSON text, e.g. {"cut": 2, "device": "…"}'
    )

    def validate_params(self, value):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError("params must be a JSON object") from None
        return super().validate_params(value)


@extend_schema_serializer(component_name="SessionCreate")
class SessionRequestSerializer(RunRequestSerializer):
    strategy = serializers.CharField(default="pipeline", help_text="A planner strategy")
    rate = serializers.FloatField(
        required=False,
        min_value=0.001,
        max_value=MAX_RATE,
        help_text="Frames per second, 0.001 to 10,000 (required unless `serve`)",
    )
    serve = serializers.BooleanField(
        default=False,
        help_text="A serving session: its frames are the requests the source's inference endpoint takes "
        "(docs/serving.md), for as long as the source stays connected; no rate or frame count",
    )
    frames = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_FRAMES, help_text="Frames to send, 1 to 100,000,000"
    )
    failover = serializers.ChoiceField(
        choices=Failover.choices,
        default=Failover.NONE,
        help_text="What losing a stage's device does: none = the session fails; cold = re-plan over the "
        "devices left, deploy, and send the frames that were cut off again; warm = as cold, onto a standby "
        "loaded ahead (docs/failover.md)",
    )
    backup_sources = serializers.ListField(
        child=DeviceRefField(),
        required=False,
        default=list,
        max_length=16,
        help_text="Sensing redundancy: other devices observing the same scene (ids or names, in order of "
        "preference); with a failover policy, losing the source moves the stream to the first online one",
    )
    duration_s = serializers.FloatField(
        required=False, min_value=0.001, max_value=MAX_TIMEOUT_S, help_text="Seconds to stream, up to 7 days"
    )
    battery_below = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=100.0,
        help_text="Low-battery policy (strategy adaptive): while the source's battery.percent is below this "
        "and it is not plugged in, re-plan by objective energy (docs/energy.md)",
    )
    deadline_s = serializers.FloatField(
        required=False,
        min_value=0.0,
        max_value=MAX_DEADLINE_S,
        help_text="Per-frame latency deadline, above 0 and at most 3600 s: every frame carries it; stage "
        "queues serve the earliest deadline first within a priority class and drop a frame that can no "
        "longer meet it (docs/qos.md)",
    )
    priority = serializers.ChoiceField(
        choices=Priority.choices,
        default=Priority.NORMAL,
        help_text="Its frames' priority class: stage queues serve critical, then high, normal, low; within "
        "a class the earliest deadline first. A served request's own `priority` parameter overrides it "
        "(docs/qos.md)",
    )
    max_in_flight = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_IN_FLIGHT,
        help_text="Frames in the pipeline at once, 1 to 1024 (default: one per stage)",
    )
    admission = serializers.BooleanField(
        default=False,
        help_text="Admission control (needs `deadline_s`): refuse the session (409, saying why) unless its "
        "predicted latency, with the work queued ahead of it at its priority, meets the deadline now — or "
        "admit it on the most accurate of `fallback_variants` that does (docs/qos.md)",
    )
    dynamic = serializers.BooleanField(
        default=False,
        help_text="Dynamic inference: the source picks per frame the most accurate of the model and its "
        "variants (each planned and deployed) whose predicted latency, with the queueing it sees, meets "
        "`deadline_s`; frames say which (`config`, `accuracy`) (docs/qos.md)",
    )
    fallback_variants = serializers.ListField(
        child=ModelRefField(),
        required=False,
        default=list,
        max_length=16,
        help_text="Cheaper variants of the model (ids or names) admission control may admit it on instead",
    )
    input = serializers.JSONField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Frames from the source device: {kind: video|images|camera|pushed, path (video, images; "
        "a camera's device path or URL), loop (video, images), index (camera)}, each made the model's input "
        "by its preprocess spec; none: the sample or random tensor, every frame",
    )

    def validate_deadline_s(self, value):
        if value is not None and value <= 0:
            raise ValidationError("a deadline must be above 0 seconds (leave it out for none)")
        return value

    def validate_input(self, value):
        try:
            return submit.check_source(value)
        except submit.SubmitError as exc:
            raise ValidationError(str(exc)) from None

    def validate(self, attrs):
        if not attrs.get("serve") and attrs.get("rate") is None:
            raise ValidationError({"rate": "a stream session needs a rate (frames per second)"})
        source = getattr(attrs.get("source"), "pk", attrs.get("source"))
        if any(d.pk == source for d in attrs.get("backup_sources", [])):
            raise ValidationError({"backup_sources": "a session's source cannot be its own backup"})
        return attrs


def _run_kwargs(data: dict, request) -> dict:
    return {
        "model": data["model"],
        "source": data["source"],
        "strategy": data["strategy"],
        "params": with_objective(data.get("params"), data.get("objective")),
        "candidates": data.get("devices") or [],
        "codec": data["codec"],
        "sample": data.get("sample"),
        "seed": data["seed"],
        "timeout_s": data.get("timeout_s"),
        "user": request.user,
        "base_url": public_base_url(request),
    }


# --- reading ---------------------------------------------------------------------------------------


class RunSerializer(serializers.ModelSerializer):
    model_name = serializers.CharField(source="model.name", read_only=True)
    source_name = serializers.CharField(source="source.name", read_only=True)
    prediction_error = serializers.SerializerMethodField()
    objective = serializers.SerializerMethodField(
        help_text="What its strategy minimises: latency, energy or energy_under_deadline (docs/energy.md)"
    )

    class Meta:
        fields = [
            "id",
            "state",
            "reason",
            "failed_stage",
            "model",
            "model_name",
            "source",
            "source_name",
            "strategy",
            "objective",
            "params",
            "candidates",
            "codec",
            "input_kind",
            "input_sample",
            "timeout_s",
            "predicted_latency_s",
            "prediction_error",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_objective(self, run) -> str:
        info = planning.STRATEGIES.get(run.strategy)
        return str((run.params or {}).get("objective") or (info.objective if info else "latency"))

    def get_prediction_error(self, run) -> float | None:
        measured = getattr(run, "measured_latency_s", None)
        if measured is None and isinstance(run, Session):
            measured = (run.summary.get("latency_s") or {}).get("p50")
        return stats.prediction_error(run.predicted_latency_s, measured)


class JobSerializer(RunSerializer):
    class Meta(RunSerializer.Meta):
        model = Job
        fields = [*RunSerializer.Meta.fields, "measured_latency_s"]


class PredictedTimesSerializer(serializers.Serializer):
    queue_s = serializers.FloatField(allow_null=True)
    compute_s = serializers.FloatField(allow_null=True)
    transfer_s = serializers.FloatField(allow_null=True)


class StageTimesSerializer(serializers.Serializer):
    """Seconds of one request's stages (a stage's own, or their sum over the stages)."""

    queue_s = serializers.FloatField()
    compute_s = serializers.FloatField()
    serialize_s = serializers.FloatField()
    transfer_s = serializers.FloatField()


class MeasuredTimesSerializer(serializers.Serializer):
    """A stage's traced timings: seconds, and ``start``/``end`` (epoch seconds); any may be missing."""

    queue_s = serializers.FloatField(required=False, allow_null=True)
    compute_s = serializers.FloatField(required=False, allow_null=True)
    serialize_s = serializers.FloatField(required=False, allow_null=True)
    transfer_s = serializers.FloatField(required=False, allow_null=True)
    start = serializers.FloatField(required=False, allow_null=True)
    end = serializers.FloatField(required=False, allow_null=True)
    relayed = serializers.BooleanField(required=False, allow_null=True, help_text="Came through the server")


class OutputSummarySerializer(serializers.Serializer):
    """The last stage's first output: its name, shape, dtype and best classes ``[[class, score], ...]``."""

    name = serializers.CharField(required=False)
    shape = serializers.ListField(child=serializers.IntegerField(), required=False)
    dtype = serializers.CharField(required=False)
    top_k = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()), required=False)


class LatencyPercentilesSerializer(serializers.Serializer):
    p50 = serializers.FloatField(allow_null=True)
    p95 = serializers.FloatField(allow_null=True)
    p99 = serializers.FloatField(allow_null=True)
    mean = serializers.FloatField(allow_null=True)


class RunEnergySerializer(serializers.Serializer):
    """The source device's joules per request (docs/energy.md, "On runs"): ``joules`` is the figure to read,
    ``basis`` says which it is: measured (the source's power meters), estimated (its traced compute and
    latency priced by its profile's power model) or predicted (the plan's)."""

    joules = serializers.FloatField(
        allow_null=True, required=False, help_text="J per request: measured, else estimated"
    )
    basis = serializers.CharField(
        allow_null=True, required=False, help_text="measured, estimated or predicted"
    )
    predicted_j = serializers.FloatField(allow_null=True)
    emulated_j = serializers.FloatField(
        allow_null=True, help_text="Estimated: traced compute and latency x the profile's power model"
    )
    measured_j = serializers.FloatField(
        allow_null=True, required=False, help_text="From the source's power.* telemetry while it ran"
    )
    measured_w = serializers.FloatField(allow_null=True, required=False, help_text="Its mean power then")
    meter = serializers.CharField(allow_null=True, required=False, help_text="The power.* metric(s) read")
    how = serializers.CharField()


class PriorityCountsSerializer(serializers.Serializer):
    """A session's frames of one priority class."""

    frames = serializers.IntegerField()
    ok = serializers.IntegerField()
    deadline_misses = serializers.IntegerField()
    dropped = serializers.IntegerField()
    p99_s = serializers.FloatField(allow_null=True)


class SessionSummarySerializer(serializers.Serializer):
    """A session's numbers so far (empty until its first frames are recorded)."""

    frames = serializers.IntegerField(required=False)
    ok = serializers.IntegerField(required=False)
    failed = serializers.IntegerField(required=False)
    latency_s = LatencyPercentilesSerializer(required=False)
    throughput_fps = serializers.FloatField(required=False, allow_null=True)
    deadline_s = serializers.FloatField(required=False, allow_null=True)
    deadline_misses = serializers.IntegerField(
        required=False, help_text="Frames with a deadline answered late or failed (drops are apart)"
    )
    late = serializers.IntegerField(required=False, help_text="Of the misses, the frames answered late")
    dropped = serializers.IntegerField(
        required=False,
        help_text="Frames a stage dropped before computing them, their deadline out of reach (docs/qos.md)",
    )
    budget_dropped = serializers.IntegerField(
        required=False,
        help_text="Of the drops, the frames its source dropped over the coordinator's budget, with no "
        "allowed alternative (their error starts 'budget:'; docs/qos.md, \"Budgets\")",
    )
    by_priority = serializers.DictField(
        child=PriorityCountsSerializer(),
        required=False,
        help_text="The same per priority class of the frames (a served request may carry its own)",
    )
    mean_accuracy = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Dynamic inference: the mean measured accuracy of the configurations that answered",
    )
    configs = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Dynamic inference: frames per configuration its source chose (docs/qos.md)",
    )
    predicted_latency_s = serializers.FloatField(required=False, allow_null=True)
    predicted_throughput_fps = serializers.FloatField(required=False, allow_null=True)
    mean_stage_s = StageTimesSerializer(required=False)
    overlapped = serializers.IntegerField(required=False, help_text="Frames entering before the last left")
    energy = RunEnergySerializer(required=False, help_text="docs/energy.md")


@extend_schema_field(OutputSummarySerializer(allow_null=True))
class OutputField(serializers.JSONField):
    """A stored output summary, read as it is."""


@extend_schema_field(SessionSummarySerializer)
class SummaryField(serializers.JSONField):
    """A stored session summary, read as it is."""


class StageRowSerializer(serializers.Serializer):
    """One planned stage (or the input's hop, stage -1) with its predicted and measured timings."""

    stage = serializers.IntegerField(help_text="-1: the source sending the input to the first stage")
    device = serializers.CharField(allow_null=True)
    device_name = serializers.CharField(allow_null=True)
    blocks = serializers.ListField(child=serializers.IntegerField(allow_null=True), help_text="[first, last]")
    predicted = PredictedTimesSerializer()
    measured = MeasuredTimesSerializer(allow_null=True, help_text="The traced timings; null: not traced")
    input = serializers.BooleanField(required=False)


@extend_schema_field(PlacementSerializer(allow_null=True))
class PlacementField(serializers.JSONField):
    """A run's plan as stored: read as it is, declared as the planner's ``Placement``."""


class JobDetailSerializer(JobSerializer):
    plan = PlacementField(read_only=True)
    output = OutputField(read_only=True)
    stages = serializers.SerializerMethodField()
    totals = serializers.SerializerMethodField()
    energy = serializers.SerializerMethodField()
    output_url = serializers.SerializerMethodField()

    class Meta(JobSerializer.Meta):
        fields = [
            *JobSerializer.Meta.fields,
            "plan",
            "output",
            "output_url",
            "stages",
            "totals",
            "energy",
            "deployment",
        ]

    @extend_schema_field(StageRowSerializer(many=True))
    def get_stages(self, job) -> list[dict]:
        return stage_rows(job.plan, job.trace)

    @extend_schema_field(StageTimesSerializer)
    def get_totals(self, job) -> dict:
        return stats.stage_totals(job.trace)

    @extend_schema_field(RunEnergySerializer)
    def get_energy(self, job) -> dict:
        return run_energy(job.plan, job.trace, job.measured_latency_s, job.source)

    def get_output_url(self, job) -> str | None:
        if not job.output_path.is_file():
            return None
        return self.context["request"].build_absolute_uri(f"/api/jobs/{job.pk}/output.npy")


def stage_rows(plan: dict | None, trace: list[dict]) -> list[dict]:
    """Per planned stage: its device, the predicted and the measured timings (measured where traced). When
    the source sent the input to a first stage elsewhere, that hop comes first, as stage -1 (``input``)."""
    planned = (plan or {}).get("stages", [])
    measured = {t.get("stage"): t for t in trace}
    source: dict = measured.get(SOURCE_STAGE) or {}
    ids = [s["device"] for s in planned] + ([source.get("device")] if source else [])
    names = {str(d.pk): d.name for d in Device.objects.filter(pk__in=ids)}

    def timings(t: dict) -> dict | None:
        return {name: t.get(name) for name in (*stats.TIMINGS, "start", "end", "relayed")} if t else None

    rows: list[dict] = []
    if source:
        rows.append(
            {
                "stage": SOURCE_STAGE,
                "device": source.get("device"),
                "device_name": names.get(str(source.get("device"))),
                "blocks": [],
                "predicted": {
                    "queue_s": 0.0,
                    "compute_s": 0.0,
                    "transfer_s": (plan or {}).get("input_transfer"),
                },
                "measured": timings(source),
                "input": True,
            }
        )
    for k, stage in enumerate(planned):
        t = measured.get(k, {})
        rows.append(
            {
                "stage": k,
                "device": stage["device"],
                "device_name": names.get(stage["device"], stage["device"]),
                "blocks": [stage["first_block"], stage["last_block"]],
                "predicted": {
                    "queue_s": stage["queue"],
                    "compute_s": stage["compute"],
                    "transfer_s": stage["transfer"],
                },
                "measured": timings(t),
            }
        )
    return rows


class BudgetEdgeSerializer(serializers.Serializer):
    """One edge of a session's budget."""

    device_id = serializers.CharField()
    name = serializers.CharField()
    share = serializers.FloatField(help_text="Its fraction of the edge's compute, 0..1")
    rate = serializers.FloatField(allow_null=True, help_text="Frames/s that share buys it; null: no limit")


class BudgetSerializer(serializers.Serializer):
    """The coordinator's budget for a session's source (docs/qos.md, "Budgets")."""

    id = serializers.CharField(required=False)
    deployment = serializers.CharField(required=False, help_text="The deployment it was set for")
    edges = BudgetEdgeSerializer(many=True, required=False, help_text="An edge not listed: not allowed")
    reason = serializers.CharField(required=False)
    at = serializers.DateTimeField(required=False)


@extend_schema_field(BudgetSerializer)
class BudgetField(serializers.JSONField):
    """A stored budget, read as it is."""


class BudgetChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = BudgetChange
        fields = ["at", "budget_id", "deployment", "edges", "reason"]


class SessionSerializer(RunSerializer):
    summary = SummaryField(read_only=True)
    battery_below = serializers.SerializerMethodField(
        help_text="Low-battery policy: below this battery %, the re-planner plans by objective energy"
    )
    objective_now = serializers.SerializerMethodField(
        help_text="The objective the re-planner plans by now (energy while the battery is low)"
    )
    input = serializers.JSONField(
        source="input_source",
        read_only=True,
        help_text="Where the frames come from on the source: {kind, path, loop, index}; null: the tensor",
    )
    budget = BudgetField(
        read_only=True,
        help_text="The coordinator's budget for its source, as last sent: the edges its frames may go to, "
        'each with its share and frames/s; {}: none, no limit (docs/qos.md, "Budgets")',
    )

    class Meta(RunSerializer.Meta):
        model = Session
        fields = [
            *RunSerializer.Meta.fields,
            "rate",
            "frames",
            "max_in_flight",
            "deadline_s",
            "priority",
            "frames_sent",
            "frames_ok",
            "summary",
            "serve",
            "input",
            "failover",
            "backup_sources",
            "battery_below",
            "objective_now",
            "admission",
            "dynamic",
            "budget",
        ]

    def get_battery_below(self, session) -> float | None:
        return (session.adaptation or {}).get("battery_below")

    def get_objective_now(self, session) -> str:
        return str((session.adaptation or {}).get("objective") or self.get_objective(session))


class PlanSwitchSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanSwitch
        fields = [
            "at",
            "after_frame",
            "reason",
            "old_plan",
            "new_plan",
            "old_deployment",
            "new_deployment",
            "predicted_old_s",
            "predicted_new_s",
        ]


class SessionDetailSerializer(SessionSerializer):
    plan = PlacementField(read_only=True)
    stages = serializers.SerializerMethodField()
    switches = PlanSwitchSerializer(many=True, read_only=True)
    budget_changes = serializers.SerializerMethodField(
        help_text="The budgets the coordinator set for it and sent its source, the latest 50, oldest first"
    )
    failures = serializers.SerializerMethodField(
        help_text="Devices the session lost while running and what its failover did: {device, "
        "device_name, stage, policy, detected_at, detection_s, outcome, reason, new_plan, replanned_s, "
        "takeover, recovered_at, mttr_s, restored_at}"
    )
    learning = serializers.SerializerMethodField(
        help_text="What the session has learned: for ans, as of the source's last report, {strategy, edge, "
        "arms: [{cut, estimate_s, bound_s, pulls, beside}], reported_at} (beside: of the pulls, the looks "
        "beside local frames); for qoe-bandit, {strategy, current, arms: "
        "[{variant, model, accuracy, estimate, width, pulls}], windows: [{variant, first, last, frames, "
        "answered, latency_s, accuracy, feedback, reward}], context, context_features}, and with split ans "
        "ans: [{model, edge, arms: [{cut, estimate_s, bound_s, pulls, beside}], reported_at}] per variant "
        "learned "
        "on; {} for other strategies (docs/learning.md)"
    )

    class Meta(SessionSerializer.Meta):
        fields = [
            *SessionSerializer.Meta.fields,
            "plan",
            "stages",
            "deployment",
            "switches",
            "budget_changes",
            "failures",
            "standbys",
            "learning",
        ]

    @extend_schema_field(serializers.JSONField())
    def get_learning(self, session) -> dict:
        return {k: v for k, v in (session.learning or {}).items() if k != "busy_until"}  # bookkeeping

    @extend_schema_field(BudgetChangeSerializer(many=True))
    def get_budget_changes(self, session) -> list[dict]:
        latest = list(session.budget_changes.order_by("-at", "-pk")[:50])
        return list(BudgetChangeSerializer(latest[::-1], many=True).data)

    def get_failures(self, session) -> list[dict]:
        return [f.to_dict() for f in session.failures.select_related("switch")]

    @extend_schema_field(StageRowSerializer(many=True))
    def get_stages(self, session) -> list[dict]:
        return stage_rows(session.plan, [])


class FrameSerializer(serializers.ModelSerializer):
    output = OutputField(read_only=True)
    model = serializers.SerializerMethodField(
        help_text="The model that answered, 'name vversion': the session's, or the variant a failover fell "
        "back to (null: not known)"
    )

    def get_model(self, frame) -> str | None:
        return str(frame.model) if frame.model_id else None

    class Meta:
        model = Frame
        fields = [
            "request_id",
            "ok",
            "error",
            "latency_s",
            "deadline_met",
            "dropped",
            "priority",
            "deadline_s",
            "trace",
            "output",
            "resent",
            "failover_s",
            "model",
            "arm",
            "config",
            "accuracy",
            "feedback",
        ]


class FeedbackSerializer(serializers.Serializer):
    score = serializers.FloatField(min_value=0.0, max_value=1.0, help_text="0 (bad) to 1 (good)")
    request_id = serializers.IntegerField(
        required=False, min_value=0, help_text="One frame; or give `from` and `to` for a window"
    )
    # `from` is a Python keyword: declared through the class namespace.
    vars()["from"] = serializers.IntegerField(required=False, min_value=0, help_text="A window's first frame")
    to = serializers.IntegerField(required=False, min_value=0, help_text="A window's last frame (inclusive)")

    def validate(self, attrs):
        first, last = attrs.get("from"), attrs.get("to")
        if "request_id" in attrs:
            if first is not None or last is not None:
                raise ValidationError("give either request_id or from and to, not both")
            attrs["from"] = attrs["to"] = attrs.pop("request_id")
            return attrs
        if first is None or last is None:
            raise ValidationError("give request_id, or from and to")
        if first > last:
            raise ValidationError({"from": [f"from ({first}) is after to ({last})"]})
        return attrs


class FeedbackResultSerializer(serializers.Serializer):
    scored = serializers.IntegerField(help_text="How many of the session's frames the score was given to")


class MeasurementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Measurement
        fields = ["id", "kind", "device", "model", "state", "error", "result", "created_at", "finished_at"]


# --- viewsets --------------------------------------------------------------------------------------


CONFLICT = OpenApiResponse(ErrorSerializer, description="It has already ended")
REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="Admission control refused it: its deadline is out of reach now (why: detail)",
)
NOT_JSON = OpenApiResponse(ErrorSerializer, description="The body is not JSON (an upload goes to /upload/)")


class FramePagination(StrictLimitOffsetPagination):
    default_limit = 1000  # a page of frames is small; the dashboard asks for more at once
    max_limit = 100_000


class TopologyQuerySerializer(serializers.Serializer):
    frames = serializers.IntegerField(
        default=topology.DEFAULT_FRAMES,
        min_value=1,
        max_value=topology.MAX_FRAMES,
        help_text="How many of the newest answered frames the measured stage times come from",
    )


class TopologyDeviceSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    role = serializers.CharField()
    source = serializers.BooleanField(help_text="The source: it captures each frame and gets its result")  # type: ignore[assignment]
    stages = serializers.ListField(child=serializers.IntegerField(), help_text="The stages it runs")


class TopologyStageSerializer(serializers.Serializer):
    stage = serializers.IntegerField()
    device = serializers.CharField()
    device_name = serializers.CharField()
    blocks = serializers.ListField(child=serializers.IntegerField(), help_text="[first, last] block")
    predicted = serializers.DictField(help_text="The plan's queue, compute and transfer seconds")
    measured = serializers.DictField(
        allow_null=True,
        help_text="Medians over the recent frames: queue_s, compute_s, serialize_s, transfer_s, total_s; "
        "frames",
    )
    slow = serializers.BooleanField(help_text="The stage with the largest measured total")


class TopologyHopSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["input", "activation", "result"])
    after_stage = serializers.IntegerField(help_text="-1: the input's hop to the first stage")
    to = serializers.CharField()
    from_name = serializers.CharField()
    to_name = serializers.CharField()
    bytes = serializers.IntegerField(allow_null=True, help_text="What crosses: the tensor's size")
    transfer_s = serializers.FloatField(allow_null=True, help_text="Its measured send time (median)")
    link = serializers.DictField(
        allow_null=True,
        help_text="The latest probe of the link: bandwidth_bps, rtt_s, measured_at, direction (forward, or "
        "reverse where only the other way was measured); null: never measured",
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField()  # a Python keyword: added by name
        return fields


class TopologySerializer(serializers.Serializer):
    """A run's devices, stages, hops and slow stage (``topology.run_topology``)."""

    run = serializers.DictField()
    frames = serializers.IntegerField(help_text="The frames the measured times come from")
    devices = TopologyDeviceSerializer(many=True)
    stages = TopologyStageSerializer(many=True)
    hops = TopologyHopSerializer(many=True)
    path = serializers.ListField(child=serializers.CharField(), help_text="Device ids in a frame's order")
    slow_stage = serializers.IntegerField(allow_null=True)


class DeploymentTopologySerializer(TopologySerializer):
    """A deployment's devices, stages, hops and slow stage, and the runs on it
    (``topology.deployment_topology``)."""

    run = serializers.DictField(  # type: ignore[assignment]
        allow_null=True, help_text="The newest run on it, whose path is drawn; null: no run is on it"
    )
    deployment = serializers.DictField(
        help_text="id, state, model, cuts, devices, ready_devices, load_s, arms, error, created_at, ready_at"
    )
    runs = serializers.ListField(
        child=serializers.DictField(),
        help_text="The runs on it, newest first: kind, id, state, model, strategy, source, source_name, "
        "created_at, predicted_latency_s",
    )


class RunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [PeopleOnly]

    def _conflict(self, exc):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)

    def _accepted(self, run, serializer_class):
        body = serializer_class(run, context={"request": self.request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class JobViewSet(RunViewSet):
    """One-shot inference jobs: submit (202), read status, plan, output and per-stage timings, cancel."""

    queryset = Job.objects.select_related("model", "source")
    parser_classes = [JSONParser]  # an uploaded input goes to POST /api/jobs/upload/ (multipart)

    def get_serializer_class(self):
        if self.action == "create":
            return JobRequestSerializer
        return JobSerializer if self.action == "list" else JobDetailSerializer

    @extend_schema(
        request={"application/json": JobRequestSerializer},
        responses={202: JobDetailSerializer, 415: NOT_JSON},
    )
    def create(self, request, *args, **kwargs):
        """Submit a job: its input is a test sample `sample` or a seeded random tensor (an uploaded .npy goes
        to `POST /api/jobs/upload/`)."""
        try:
            body = request.data
        except UnsupportedMediaType:
            raise UnsupportedMediaType(
                request.content_type,
                detail="POST /api/jobs/ takes a JSON body; a job with an uploaded input is a multipart POST "
                "to /api/jobs/upload/",
            ) from None
        return self._submit(request, JobRequestSerializer(data=body))

    def _submit(self, request, form) -> Response:
        form.is_valid(raise_exception=True)
        data = form.validated_data
        upload = data["input"].read() if data.get("input") else None
        try:
            job = submit.submit_job(upload=upload, **_run_kwargs(data, request))
        except submit.SubmitError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return self._accepted(job, JobDetailSerializer)

    @extend_schema(request={"multipart/form-data": JobUploadSerializer}, responses={202: JobDetailSerializer})
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser])
    def upload(self, request):
        """Submit a job with its input tensor uploaded as a .npy file (`input`, multipart/form-data)."""
        return self._submit(request, JobUploadSerializer(data=request.data))

    @extend_schema(request=None, responses={200: JobDetailSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a job that has not ended (409 otherwise)."""
        try:
            job = lifecycle.cancel_job(self.get_object().pk, request.user)
        except IllegalTransition as exc:
            return self._conflict(exc)
        return Response(JobDetailSerializer(job, context={"request": request}).data)

    @extend_schema(responses=TopologySerializer)
    @action(detail=True, methods=["get"])
    def topology(self, request, pk=None):
        """The job's devices with the stages each ran, the hops of its input, activations and result with
        their bytes and the latest measured link, and its slowest stage (docs/api.md, "Topology")."""
        return Response(topology.job_topology(self.get_object()))


class SessionViewSet(RunViewSet):
    """Stream sessions: a stream of frames from the source, per-frame records in batches, a summary, stop."""

    queryset = Session.objects.select_related("model", "source")

    def get_serializer_class(self):
        if self.action == "create":
            return SessionRequestSerializer
        return SessionSerializer if self.action == "list" else SessionDetailSerializer

    @extend_schema(request=SessionRequestSerializer, responses={202: SessionDetailSerializer, 409: REFUSED})
    def create(self, request, *args, **kwargs):
        """Start a stream session of `frames` (or `duration_s` x `rate`) frames at `rate` frames/s."""
        form = SessionRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        extra = {k: data.get(k) for k in ("rate", "frames", "duration_s", "deadline_s", "max_in_flight")}
        extra["input_source"] = data.get("input")
        extra["failover"] = data["failover"]
        extra["battery_below"] = data.get("battery_below")
        extra["priority"] = data["priority"]
        extra["backup_sources"] = [str(d.pk) for d in data["backup_sources"]]
        extra["admission"] = data["admission"]
        extra["fallback_variants"] = data["fallback_variants"]
        extra["dynamic"] = data["dynamic"]
        if data["serve"]:
            extra.update(rate=1.0, frames=submit.SERVING_FRAMES, serve=submit.serve_spec(data["model"]))
        try:
            session = submit.start_session(**_run_kwargs(data, request), **extra)
        except submit.SubmitError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        except AdmissionRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return self._accepted(session, SessionDetailSerializer)

    @extend_schema(request=None, responses={200: SessionDetailSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop a running session; frames already in flight are still recorded."""
        try:
            session = lifecycle.stop_session(self.get_object().pk, request.user)
        except IllegalTransition as exc:
            return self._conflict(exc)
        return Response(SessionDetailSerializer(session, context={"request": request}).data)

    @extend_schema(request=FeedbackSerializer, responses={200: FeedbackResultSerializer})
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        """A user's score of one frame (`request_id`) or a window (`from`, `to`: request ids, inclusive),
        0 (bad) to 1 (good): kept on each frame; a qoe-bandit session blends it into the QoE of the window it
        judges next (docs/learning.md). 400 when no frame of the session is in that range yet."""
        session = self.get_object()
        form = FeedbackSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        scored = selection.give_feedback(session, data["score"], data["from"], data["to"])
        if not scored:
            raise ValidationError(
                {"detail": f"session {session.pk} has no frame {data['from']}..{data['to']} yet"}
            )
        return Response({"scored": scored})

    @extend_schema(parameters=[TopologyQuerySerializer], responses=TopologySerializer)
    @action(detail=True, methods=["get"])
    def topology(self, request, pk=None):
        """The session's devices with the stages (blocks) each runs, the hops a frame takes with their bytes
        and the latest measured bandwidth and RTT, each stage's measured times over the newest `frames`
        frames and the slow stage (docs/api.md, "Topology")."""
        form = TopologyQuerySerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        return Response(topology.session_topology(self.get_object(), form.validated_data["frames"]))

    @extend_schema(responses=FrameSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=FramePagination)
    def frames(self, request, pk=None):
        """The per-frame records received so far, in request order, a page at a time (limit, offset)."""
        rows = self.paginate_queryset(
            self.get_object().frame_records.select_related("model").order_by("request_id")
        )
        return self.get_paginated_response(FrameSerializer(rows, many=True).data)


class DeploymentViewSet(viewsets.GenericViewSet):
    """Deployments: the segments of a model placed on devices, shared by the runs on them."""

    queryset = Deployment.objects.select_related("model")
    permission_classes = [PeopleOnly]

    @extend_schema(parameters=[TopologyQuerySerializer], responses=DeploymentTopologySerializer)
    @action(detail=True, methods=["get"])
    def topology(self, request, pk=None):
        """The deployment's devices with the stages (blocks) each runs, the path of its newest run's frames
        with their bytes and the latest measured bandwidth and RTT, each stage's measured times over the
        newest `frames` answered frames and jobs on it, the slow stage, and the runs on it (docs/api.md,
        "Topology")."""
        form = TopologyQuerySerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        return Response(topology.deployment_topology(self.get_object(), form.validated_data["frames"]))


class MeasurementViewSet(viewsets.ReadOnlyModelViewSet):
    """Profiling and probing requests (started from a device: POST /api/devices/{id}/profile/ or /probe/)."""

    queryset = Measurement.objects.all()
    serializer_class = MeasurementSerializer
    permission_classes = [PeopleOnly]


# --- tensors ---------------------------------------------------------------------------------------


class TensorReader(IsOperatorOrReadOnly):
    """Anyone logged in, and devices (the agents that fetch inputs)."""

    def has_permission(self, request, view) -> bool:
        return getattr(request.user, "is_device", False) or super().has_permission(request, view)


def _npy(path, filename: str):
    if not path.is_file():
        return Response({"detail": "No such tensor (yet)."}, status=status.HTTP_404_NOT_FOUND)
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=filename)  # noqa: SIM115
    response["Content-Type"] = "application/octet-stream"
    return response


@extend_schema(operation_id="job_input", responses={(200, "application/octet-stream"): bytes})
@api_view(["GET"])
@authentication_classes(AUTHENTICATION)
@permission_classes([TensorReader])
def job_input(request, pk: int):
    """The job's input tensor (.npy); the first stage's agent downloads it."""
    return _npy(readable_run(request, Job, pk).input_path, f"job-{pk}-input.npy")


@extend_schema(operation_id="job_output", responses={(200, "application/octet-stream"): bytes})
@api_view(["GET"])
@authentication_classes(AUTHENTICATION)
@permission_classes([TensorReader])
def job_output(request, pk: int):
    """The job's output tensor (.npy), once it has completed."""
    return _npy(readable_run(request, Job, pk).output_path, f"job-{pk}-output.npy")


@extend_schema(operation_id="session_input", responses={(200, "application/octet-stream"): bytes})
@api_view(["GET"])
@authentication_classes(AUTHENTICATION)
@permission_classes([TensorReader])
def session_input(request, pk):
    """The session's input tensor (.npy), which the source agent sends as every frame."""
    return _npy(readable_run(request, Session, pk).input_path, f"session-{pk}-input.npy")


@extend_schema_serializer(component_name="ProfileRun")
class ProfileRequestSerializer(serializers.Serializer):
    model = ModelRefField(help_text="Model id, or name (newest version)")
    warmup = serializers.IntegerField(default=2, min_value=0, max_value=100)
    repeats = serializers.IntegerField(default=10, min_value=1, max_value=1000)


class DeviceMeasurementViewSet(viewsets.GenericViewSet):
    """Measurements asked of a device's agent (beside ``devices``' own endpoints, under the same path)."""

    queryset = Device.objects.all()

    @extend_schema(request=ProfileRequestSerializer, responses={202: MeasurementSerializer})
    @action(detail=True, methods=["post"])
    def profile(self, request, pk=None):
        """Ask the agent to time every block of a model (warm-up, then repeats); stored as its block
        profile."""
        return request_profile(request, self.get_object())

    @extend_schema(request=None, responses={202: MeasurementSerializer})
    @action(detail=True, methods=["post"])
    def probe(self, request, pk=None):
        """Ask the agent to measure RTT and bandwidth to every other online agent and to the control plane;
        stored as link samples."""
        return probe_links(request, self.get_object())


def register(router) -> None:
    router.register("devices", DeviceMeasurementViewSet, basename="device-measurement")
    router.register("jobs", JobViewSet, basename="job")
    router.register("sessions", SessionViewSet, basename="session")
    router.register("deployments", DeploymentViewSet, basename="deployment")
    router.register("measurements", MeasurementViewSet, basename="measurement")


extra_urlpatterns = [
    path("jobs/<int:pk>/input.npy", job_input, name="job-input"),
    path("jobs/<int:pk>/output.npy", job_output, name="job-output"),
    path("sessions/<uuid:pk>/input.npy", session_input, name="session-input"),
]


# --- measurements started from a device (DeviceViewSet's profile/probe actions call these) ------------


def request_profile(request, device) -> Response:
    form = ProfileRequestSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    data = form.validated_data
    try:
        measurement = measurements.request_profile(
            device,
            data["model"],
            warmup=data["warmup"],
            repeats=data["repeats"],
            base_url=public_base_url(request),
        )
    except submit.SubmitError as exc:
        raise ValidationError({"detail": str(exc)}) from None
    return Response(MeasurementSerializer(measurement).data, status=status.HTTP_202_ACCEPTED)


def probe_links(request, device) -> Response:
    try:
        measurement = measurements.probe_links(device)
    except submit.SubmitError as exc:
        raise ValidationError({"detail": str(exc)}) from None
    return Response(MeasurementSerializer(measurement).data, status=status.HTTP_202_ACCEPTED)


# --- downloads: a session's frames, a job's trace (?format=csv or json) -------------------------------


EXPORT_FORMAT = OpenApiParameter("format", str, enum=["json", "csv"], description="json (default) or csv")


class FrameExportSerializer(serializers.Serializer):
    """One frame of a session's download; a stage's timings summed over its stages."""

    request_id = serializers.IntegerField()
    ok = serializers.BooleanField()
    latency_s = serializers.FloatField()
    deadline_met = serializers.BooleanField(allow_null=True)
    resent = serializers.BooleanField()
    failover_s = serializers.FloatField(allow_null=True)
    received_at = serializers.DateTimeField()
    queue_s = serializers.FloatField()
    compute_s = serializers.FloatField()
    serialize_s = serializers.FloatField()
    transfer_s = serializers.FloatField()
    devices = serializers.CharField(help_text="The devices of its stages by name, in order: 'a > b'")
    error = serializers.CharField()
    trace = serializers.ListField(
        child=serializers.DictField(), help_text="Per stage, as the agents timed it"
    )


class TraceStageSerializer(serializers.Serializer):
    """One stage of a job's download: planned against measured (stage -1: the input's hop to stage 0)."""

    stage = serializers.IntegerField()
    device = serializers.CharField()
    device_name = serializers.CharField(allow_null=True)
    first_block = serializers.IntegerField(allow_null=True)
    last_block = serializers.IntegerField(allow_null=True)
    predicted_queue_s = serializers.FloatField(allow_null=True)
    predicted_compute_s = serializers.FloatField(allow_null=True)
    predicted_transfer_s = serializers.FloatField(allow_null=True)
    queue_s = serializers.FloatField(allow_null=True)
    compute_s = serializers.FloatField(allow_null=True)
    serialize_s = serializers.FloatField(allow_null=True)
    transfer_s = serializers.FloatField(allow_null=True)
    start = serializers.FloatField(allow_null=True, help_text="Agent clock, epoch seconds")
    end = serializers.FloatField(allow_null=True)
    relayed = serializers.BooleanField(allow_null=True)


def _download(request, rows: list[dict], filename: str) -> Response:
    disposition = f'attachment; filename="{filename}.{request.accepted_renderer.format}"'
    return Response(rows, headers={"Content-Disposition": disposition})


@extend_schema(
    operation_id="session_export", parameters=[EXPORT_FORMAT], responses=FrameExportSerializer(many=True)
)
@api_view(["GET"])
@permission_classes([PeopleOnly])
@renderer_classes([JSONRenderer, CSVRenderer])
def session_export(request, pk):
    """Every frame of the session as a download, in request order: ``?format=csv`` or ``json``."""
    session = readable_run(request, Session, pk)
    frames = list(session.frame_records.order_by("request_id"))
    ids = {str(t.get("device")) for f in frames for t in f.trace or []}
    names = {str(pk): name for pk, name in Device.objects.filter(pk__in=ids).values_list("pk", "name")}
    rows = [
        {
            "request_id": f.request_id,
            "ok": f.ok,
            "latency_s": f.latency_s,
            "deadline_met": f.deadline_met,
            "resent": f.resent,
            "failover_s": f.failover_s,
            "received_at": f.received_at.isoformat(),
            **stats.stage_totals(f.trace or []),
            "devices": " > ".join(
                names.get(str(t.get("device")), str(t.get("device"))) for t in f.trace or []
            ),
            "error": f.error,
            "trace": f.trace,
        }
        for f in frames
    ]
    return _download(request, rows, f"session-{session.pk}-frames")


@extend_schema(
    operation_id="job_export", parameters=[EXPORT_FORMAT], responses=TraceStageSerializer(many=True)
)
@api_view(["GET"])
@permission_classes([PeopleOnly])
@renderer_classes([JSONRenderer, CSVRenderer])
def job_export(request, pk: int):
    """The job's trace as a download, a row a stage, predicted beside measured (``?format=csv``, ``json``)."""
    job = readable_run(request, Job, pk)
    rows = []
    for s in stage_rows(job.plan, job.trace):
        blocks, predicted, measured = s["blocks"] or [None, None], s["predicted"], s["measured"] or {}
        rows.append(
            {
                "stage": s["stage"],
                "device": s["device"],
                "device_name": s["device_name"],
                "first_block": blocks[0],
                "last_block": blocks[1],
                **{f"predicted_{k}": predicted.get(k) for k in ("queue_s", "compute_s", "transfer_s")},
                **{k: measured.get(k) for k in (*stats.TIMINGS, "start", "end", "relayed")},
            }
        )
    return _download(request, rows, f"job-{job.pk}-trace")


extra_urlpatterns += [
    path("jobs/<int:pk>/export/", job_export, name="job-export"),
    path("sessions/<uuid:pk>/export/", session_export, name="session-export"),
]
