"""Catalog records: models, their cut points, and the cache of extracted segments."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .choices import CutKind, ModelSource, ModelTask
from .preprocessing import check


def artifact_path(sha256: str) -> Path:
    """Where a model's (prepared) ONNX file lives: content-addressed, so identical files are stored once."""
    return Path(settings.MEDIA_ROOT) / "models" / f"{sha256}.onnx"


def segment_path(sha256: str) -> Path:
    """Where a segment's ONNX file lives, by its own hash (the same segment may serve several splits)."""
    return Path(settings.MEDIA_ROOT) / "segments" / f"{sha256}.onnx"


class LiveModels(models.Manager):
    """The catalog: models not deleted. A deleted model's row stays for the runs that used it (their
    history keeps its name and version; ``run.model`` reads it through the base manager), hidden here."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class MLModel(models.Model):
    """A model in the catalog: its prepared ONNX artifact, interface, statistics and the blocks between cuts.

    ``blocks`` is the planner's input: one dict per block between consecutive cut points (see
    ``graph.Block``), with MACs, MACs and op counts per category, parameter bytes and the bytes in and out.
    ``preprocess`` is checked on every save (``preprocessing.check``: a ``ValidationError`` saying what is
    wrong) and stored normalised.

    ``variant_of``: the model this one is a cheaper variant of (narrower, quantised...; ``variant`` says how),
    with the same inputs. A session whose model cannot meet its deadline on the devices a failure left falls
    back to the most accurate of its variants that can (docs/failover.md), and returns when capacity is back.
    """

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=40, default="1")
    task = models.CharField(max_length=20, choices=ModelTask.choices, default=ModelTask.OTHER)
    source = models.CharField(max_length=10, choices=ModelSource.choices)
    description = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, help_text="Of the stored (prepared) ONNX file")
    source_sha256 = models.CharField(max_length=64, help_text="Of the file as uploaded or exported")
    size_bytes = models.BigIntegerField()
    opset = models.PositiveSmallIntegerField()
    inputs = models.JSONField(default=list, help_text="[{name, shape, dtype, bytes}]")
    outputs = models.JSONField(default=list, help_text="[{name, shape, dtype, bytes}]")
    node_count = models.PositiveIntegerField()
    params = models.BigIntegerField()
    param_bytes = models.BigIntegerField()
    macs = models.BigIntegerField()
    op_histogram = models.JSONField(default=dict)
    accuracy = models.FloatField(null=True, blank=True, help_text="Measured test accuracy, where known")
    exits = models.JSONField(default=list, blank=True, help_text="Early exits: [{output, accuracy}]")
    preprocess = models.JSONField(
        null=True,
        blank=True,
        help_text="How a stream's frames become the model's input (edgeorch_wire.preprocess: resize, color, "
        "scale, mean, std, layout, dtype); null: frames go as they are",
    )
    blocks = models.JSONField(default=list)
    variant_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="variants",
        help_text="The model this one is a cheaper variant (and failover fallback) of",
    )
    variant = models.CharField(max_length=60, blank=True, help_text="What makes it a variant, e.g. narrow")
    labels = models.JSONField(
        default=list,
        blank=True,
        help_text="Class names by output index (the file's metadata, or as uploaded)",
    )
    notes = models.JSONField(
        default=list,
        blank=True,
        help_text="What was done to the file at upload, one sentence each (e.g. an opset conversion)",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted from the catalog (its files are gone; runs keep the row)"
    )

    all_objects = models.Manager()
    objects = LiveModels()

    class Meta:
        ordering = ["name", "version"]
        default_manager_name = "objects"
        base_manager_name = "all_objects"
        # A name and version stay taken by a deleted model (its runs' history names it); its file may come
        # back, as a new version.
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="catalog_model_name_version"),
            models.UniqueConstraint(
                fields=["sha256"], condition=models.Q(deleted_at__isnull=True), name="catalog_model_sha256"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def save(self, *args, **kwargs) -> None:
        self.preprocess = check(self.preprocess, self.inputs)
        super().save(*args, **kwargs)

    @property
    def artifact_path(self) -> Path:
        return artifact_path(self.sha256)

    def clean(self) -> None:
        try:
            self.preprocess = check(self.preprocess, self.inputs)
        except ValidationError as exc:
            raise ValidationError({"preprocess": exc.messages}) from None


class CutPoint(models.Model):
    """A place where the model can be split; ``index`` is what segment requests name (``?cuts=i,j``)."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="cut_points")
    index = models.PositiveIntegerField()
    position = models.PositiveIntegerField(help_text="Position in the analysis order after which it cuts")
    kind = models.CharField(max_length=6, choices=CutKind.choices, default=CutKind.SINGLE)
    tensors = models.JSONField(help_text="The crossing tensors: [{name, shape, dtype, bytes}]")
    bytes = models.BigIntegerField(null=True)
    macs_before = models.BigIntegerField()
    macs_after = models.BigIntegerField()
    fusion_penalty = models.FloatField(
        default=0.0,
        help_text="Estimated extra compute of a split here, a fraction of the whole model's (catalog.fusion)",
    )
    recommended = models.BooleanField(
        default=True, help_text="Breaks no onnxruntime fusion and costs little to split at (catalog.fusion)"
    )
    fusion_note = models.CharField(max_length=200, blank=True, help_text="The fusion a split here breaks")

    class Meta:
        ordering = ["model", "index"]
        constraints = [models.UniqueConstraint(fields=["model", "index"], name="catalog_cut_model_index")]

    def __str__(self) -> str:
        return f"{self.model} cut {self.index} ({', '.join(t['name'] for t in self.tensors)})"

    @property
    def fusion_percent(self) -> float:
        return self.fusion_penalty * 100


class Segment(models.Model):
    """A cached segment file: segment ``index`` of ``model`` split at cut indices ``cuts`` (e.g. "3,7")."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="segments")
    cuts = models.CharField(max_length=200)
    index = models.PositiveSmallIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField()
    inputs = models.JSONField()
    outputs = models.JSONField()
    delivers = models.JSONField(default=list, help_text="Graph outputs this segment produces")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "cuts", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "cuts", "index"], name="catalog_segment_model_cuts_index"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model} [{self.cuts}] segment {self.index}"

    @property
    def path(self) -> Path:
        return segment_path(self.sha256)
