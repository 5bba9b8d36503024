"""Enumerations of the catalog app."""

from django.db import models


class ModelSource(models.TextChoices):
    BUILTIN = "builtin", "Built-in zoo"
    UPLOAD = "upload", "Uploaded"


class ModelTask(models.TextChoices):
    CLASSIFICATION = "classification", "Classification"
    DETECTION = "detection", "Detection"
    SEGMENTATION = "segmentation", "Segmentation"
    OCR = "ocr", "OCR"
    OTHER = "other", "Other"


class CutKind(models.TextChoices):
    SINGLE = "single", "One tensor crosses"
    PAIR = "pair", "Two tensors cross"
