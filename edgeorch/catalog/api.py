"""REST API of the catalog: models, their cut points and segments, and segment/model file downloads.

Agents fetch manifests and files with their device credential (``Authorization: Device ...``); people use
tokens or sessions. Devices may only read.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view, authentication_classes, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from edgeorch.api.parsers import JSONParser, MultiPartParser
from edgeorch.api.permissions import IsOperatorOrReadOnly
from edgeorch.api.schema import ErrorSerializer
from edgeorch.api.throttles import UploadThrottle
from edgeorch.devices.auth import AGENT_OR_PERSON

from . import graphview, services, variants
from .choices import ModelTask
from .models import CutPoint, MLModel, Segment
from .segments import SegmentError, parse_cuts
from .validation import ModelValidationError

AUTHENTICATION = AGENT_OR_PERSON


class CatalogPermission(IsOperatorOrReadOnly):
    """People: read, operators write. Devices (agents): read only."""

    def has_permission(self, request, view) -> bool:
        if getattr(request.user, "is_device", False):
            return request.method in ("GET", "HEAD", "OPTIONS")
        return super().has_permission(request, view)


@extend_schema_field(OpenApiTypes.STR)
class ModelRefField(serializers.Field):
    """A catalog model by id, or by name (its newest version); read back as its id."""

    def to_internal_value(self, data) -> MLModel:
        text = str(data).strip()
        # An id is a whole number in the range of the column; anything else is a name.
        query = Q(pk=int(text)) if text.isascii() and text.isdigit() and int(text) < 2**63 else Q(name=text)
        model = MLModel.objects.filter(query).order_by("-created_at").first()
        if model is None:
            raise ValidationError(f"no model {text!r} in the catalog")
        return model

    def to_representation(self, value) -> int:
        return getattr(value, "pk", value)


class CutPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = CutPoint
        fields = [
            "index",
            "kind",
            "tensors",
            "bytes",
            "macs_before",
            "macs_after",
            "position",
            "fusion_penalty",
            "recommended",
            "fusion_note",
        ]


class MLModelSerializer(serializers.ModelSerializer):
    cut_count = serializers.IntegerField(source="cut_points.count", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = MLModel
        fields = [
            "id",
            "name",
            "version",
            "task",
            "source",
            "description",
            "sha256",
            "source_sha256",
            "size_bytes",
            "opset",
            "inputs",
            "outputs",
            "node_count",
            "params",
            "param_bytes",
            "macs",
            "accuracy",
            "exits",
            "preprocess",
            "variant_of",
            "variant",
            "labels",
            "notes",
            "cut_count",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, model) -> str:
        return _absolute(self.context.get("request"), reverse("catalog-model-file", args=[model.pk]))


class MLModelDetailSerializer(MLModelSerializer):
    cuts = CutPointSerializer(source="cut_points", many=True, read_only=True)

    class Meta(MLModelSerializer.Meta):
        fields = [*MLModelSerializer.Meta.fields, "op_histogram", "blocks", "cuts"]
        read_only_fields = fields


class GraphNodeSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=["input", "op", "output"])
    label = serializers.CharField(help_text="The operator type, or the input's or output's name")  # type: ignore[assignment]
    name = serializers.CharField(required=False, help_text="The ONNX node's name (operators)")
    block = serializers.IntegerField(allow_null=True, help_text="The block it is in (null: input, output)")
    macs = serializers.IntegerField(required=False)


class GraphEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField()
    tensor = serializers.CharField()
    bytes = serializers.IntegerField(allow_null=True)
    cut = serializers.IntegerField(allow_null=True, help_text="The cut point this tensor crosses, if any")


class GraphBlockSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    nodes = serializers.IntegerField()
    macs = serializers.IntegerField()
    input_bytes = serializers.IntegerField(allow_null=True)
    output_bytes = serializers.IntegerField(allow_null=True)


class GraphCutSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    kind = serializers.CharField()
    tensors = serializers.ListField(child=serializers.CharField())
    bytes = serializers.IntegerField(allow_null=True)
    recommended = serializers.BooleanField()
    fusion_penalty = serializers.FloatField()


class ModelGraphSerializer(serializers.Serializer):
    """A model's operator graph for drawing (``graphview.model_graph``)."""

    model = serializers.IntegerField()
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)
    blocks = GraphBlockSerializer(many=True)
    cuts = GraphCutSerializer(many=True)


@extend_schema_serializer(component_name="ModelUpload")
class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The ONNX model, or a zip of it and the external data files it names (beside it)"
    )
    data_files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        max_length=100,
        help_text="A model with external data: the data files its tensors name (repeat the field for each); "
        "the weights are inlined into the stored model",
    )
    name = serializers.CharField(max_length=100)
    version = serializers.CharField(max_length=40, default="1")
    task = serializers.ChoiceField(choices=ModelTask.choices, default=ModelTask.OTHER)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    preprocess = serializers.JSONField(
        required=False,
        allow_null=True,
        default=None,
        help_text='How stream frames become its input, e.g. {"resize": [224, 224], "color": "rgb"} '
        "(edgeorch_wire.preprocess; none: frames go as they are)",
    )
    labels = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        allow_null=True,
        default=None,
        max_length=100_000,
        help_text="Class names by output index (default: the file's metadata, e.g. Ultralytics' names)",
    )
    dims = serializers.JSONField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Values for the inputs' unknown dimensions: by symbolic name, e.g. "
        '{"height": 640, "width": 640}, or a whole shape per input, e.g. {"images": [1, 3, 640, 640]}. '
        "Required for every unknown dimension but the batch (the first; default 1)",
    )
    variant_of = ModelRefField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The model this one is a cheaper variant of (an id or a name): its failover fallback, an "
        "arm of the qoe-bandit strategy (docs/learning.md)",
    )
    variant = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default="", help_text="What makes it a variant"
    )

    def validate(self, attrs):
        if attrs.get("variant") and attrs.get("variant_of") is None:
            raise ValidationError({"variant": ["says what makes a variant: give variant_of too"]})
        return attrs

    def validate_dims(self, value):
        if value is None:
            return None
        if not isinstance(value, dict) or not value:
            raise serializers.ValidationError('give an object, e.g. {"height": 640, "width": 640}')
        for key, size in value.items():
            sizes = size if isinstance(size, list) else [size]
            if not sizes or not all(
                isinstance(s, int) and not isinstance(s, bool) and 0 < s <= 2**20 for s in sizes
            ):
                raise serializers.ValidationError(
                    f"{key}: a positive integer up to 1048576, or a list of them (a shape), not {size!r}"
                )
        return value


class PreprocessSerializer(serializers.Serializer):
    preprocess = serializers.JSONField(
        allow_null=True, help_text="The spec (edgeorch_wire.preprocess), or null: frames go as they are"
    )


class VariantSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=sorted(variants.KINDS),
        help_text="int8: static quantisation (calibrated on the model's data) where it has data, else "
        "dynamic; int8-dynamic: dynamic whatever the model",
    )


class SegmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Segment
        fields = ["index", "sha256", "size_bytes", "inputs", "outputs", "delivers", "url"]

    def get_url(self, segment) -> str:
        return _absolute(self.context.get("request"), reverse("catalog-segment-file", args=[segment.sha256]))


class SegmentManifestSerializer(serializers.Serializer):
    model = serializers.IntegerField()
    cuts = serializers.ListField(child=serializers.IntegerField(), help_text="The cut indices, in order")
    segments = SegmentSerializer(many=True)


class MLModelViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Models of the catalog. Operators upload (multipart) and delete; anyone logged in reads."""

    queryset = MLModel.objects.prefetch_related("cut_points")
    authentication_classes = AUTHENTICATION
    permission_classes = [CatalogPermission]
    parser_classes = [MultiPartParser]  # an upload; preprocess takes JSON

    def get_throttles(self):
        heavy = self.action == "create" or (self.action == "variants" and self.request.method == "POST")
        return [UploadThrottle()] if heavy else super().get_throttles()

    def get_serializer_class(self):
        if self.action == "list":
            return MLModelSerializer
        return UploadSerializer if self.action == "create" else MLModelDetailSerializer

    @extend_schema(request=UploadSerializer, responses={201: MLModelDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Upload an ONNX file; it is validated, test-run and analysed before anything is stored."""
        form = UploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        try:
            model = services.upload_model(data.pop("file"), user=request.user, **data)
        except ModelValidationError as exc:
            field = "preprocess" if str(exc).startswith("preprocess") else "file"
            field = "dims" if str(exc).startswith("The model's input shapes") else field
            raise ValidationError({field: [str(exc)]}) from None
        body = MLModelDetailSerializer(model, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 409: OpenApiResponse(ErrorSerializer, description="A job uses it")})
    def destroy(self, request, *args, **kwargs):
        """Delete a model; 409 while a job uses it."""
        try:
            services.delete_model(self.get_object())
        except services.ModelInUse as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PreprocessSerializer, responses={200: MLModelDetailSerializer})
    @action(detail=True, methods=["put"], parser_classes=[JSONParser])
    def preprocess(self, request, pk=None):
        """Set how stream frames become the model's input: ``{"preprocess": spec or null}``; 400 saying what
        is wrong with a spec, or why it cannot make the model's input."""
        form = PreprocessSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            model = services.set_preprocess(self.get_object(), form.validated_data["preprocess"])
        except ModelValidationError as exc:
            raise ValidationError({"preprocess": [str(exc)]}) from None
        return Response(MLModelDetailSerializer(model, context={"request": request}).data)

    @extend_schema(
        methods=["POST"],
        operation_id="model_variant_create",
        request=VariantSerializer,
        responses={201: MLModelDetailSerializer},
    )
    @extend_schema(methods=["GET"], operation_id="model_variant_list", responses=MLModelSerializer(many=True))
    @action(detail=True, methods=["get", "post"], parser_classes=[JSONParser], pagination_class=None)
    def variants(self, request, pk=None):
        """GET: the model's variants (``variant_of`` this model). POST ``{"kind": "int8"}``: make one by
        quantising it with onnxruntime (docs/api.md, "Variants"), its accuracy measured where the model has
        data; 400 saying why one cannot be made."""
        model = self.get_object()
        if request.method == "GET":
            rows = MLModel.objects.filter(variant_of=model).prefetch_related("cut_points").order_by("pk")
            return Response(MLModelSerializer(rows, many=True, context={"request": request}).data)
        form = VariantSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            variant = variants.create_variant(model, form.validated_data["kind"], user=request.user)
        except ModelValidationError as exc:
            raise ValidationError({"kind": [str(exc)]}) from None
        body = MLModelDetailSerializer(variant, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses=CutPointSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # a model has few cut points: never paged
    def cuts(self, request, pk=None):
        """The cut points, in order: crossing tensors, bytes, MACs before and after, and what a split
        there costs in compute (``fusion_penalty``, a fraction of the model's; ``recommended``)."""
        return Response(CutPointSerializer(self.get_object().cut_points.all(), many=True).data)

    @extend_schema(responses=ModelGraphSerializer)
    @action(detail=True, methods=["get"], pagination_class=None)
    def graph(self, request, pk=None):
        """The model's operator graph for drawing: inputs, operators (each with its block) and outputs as
        nodes, one edge per tensor and reader with its bytes, and ``cut`` on the edges whose tensor crosses a
        cut point; nodes computed from constants only are left out."""
        return Response(graphview.model_graph(self.get_object()))

    @extend_schema(
        parameters=[
            OpenApiParameter("cuts", str, description="Cut indices, e.g. 3,7 (empty: the whole model)")
        ],
        responses=SegmentManifestSerializer,
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def segments(self, request, pk=None):
        """The manifest of the segments for the given cuts: file URLs, hashes, inputs and outputs."""
        model = self.get_object()
        try:
            cuts = parse_cuts(request.query_params.get("cuts", ""), model.cut_points.count())
            rows = services.get_segments(model, cuts)
        except SegmentError as exc:
            raise ValidationError({"cuts": [str(exc)]}) from None
        context = {"request": request}
        return Response(
            {
                "model": model.pk,
                "cuts": cuts,
                "segments": SegmentSerializer(rows, many=True, context=context).data,
            }
        )


@extend_schema(operation_id="segment_file", responses={(200, "application/octet-stream"): bytes})
@api_view(["GET"])
@authentication_classes(AUTHENTICATION)
@permission_classes([CatalogPermission])
def segment_file(request, sha256: str):
    """A segment's ONNX file, by its sha256 (agents check the hash after download). A device downloads only
    the segments of its own work: a stage it is to load, a profile it is to run (403 otherwise)."""
    segment = Segment.objects.filter(sha256=sha256).first()
    if segment is None or not segment.path.is_file():
        return Response({"detail": "No such segment."}, status=status.HTTP_404_NOT_FOUND)
    device = getattr(request.user, "device", None) if getattr(request.user, "is_device", False) else None
    if device is not None and not services.device_may_read_segment(device.pk, sha256):
        detail = "This device's work does not use this segment: a device reads only the segments it loads."
        return Response({"detail": detail}, status=status.HTTP_403_FORBIDDEN)
    return _onnx_file(segment.path, f"segment-{sha256[:12]}.onnx", sha256)


@extend_schema(operation_id="model_file", responses={(200, "application/octet-stream"): bytes})
@api_view(["GET"])
@authentication_classes(AUTHENTICATION)
@permission_classes([CatalogPermission])
def model_file(request, pk: int):
    """A model's whole (prepared) ONNX file (people only: a device's work comes as segments)."""
    if getattr(request.user, "is_device", False):
        detail = "A device reads only the segments of its own work, not whole models."
        return Response({"detail": detail}, status=status.HTTP_403_FORBIDDEN)
    model = get_object_or_404(MLModel, pk=pk)
    return _onnx_file(model.artifact_path, f"{model.name}-{model.version}.onnx", model.sha256)


def _onnx_file(path, filename: str, sha256: str) -> FileResponse:
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=filename)  # noqa: SIM115
    response["Content-Type"] = "application/octet-stream"
    response["X-Content-SHA256"] = sha256
    return response


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url


def register(router) -> None:
    router.register("models", MLModelViewSet, basename="mlmodel")


extra_urlpatterns = [
    path("segments/<str:sha256>/file/", segment_file, name="catalog-segment-file"),
    path("models/<int:pk>/file/", model_file, name="catalog-model-file"),
]
