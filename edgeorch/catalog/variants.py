"""Model variants: cheaper versions of a catalog model (``MLModel.variant_of``), made by quantising it, and
what each costs in accuracy. Verbs: ``create_variant`` (behind ``POST /api/models/{id}/variants/``),
``own_data``; the quantisation itself is ``quantize.quantize`` (bytes in, bytes out, no catalog rows: the zoo
uses it too).

Kinds (``KINDS``):

- ``int8``: onnxruntime's quantisation to int8 — **static** (QDQ, activations calibrated) when the model has
  data of its own (``own_data``: the digits models, calibrated on 200 images of the training split the zoo
  trained on), **dynamic** otherwise (weights int8, activations quantised per batch at run time);
- ``int8-dynamic``: dynamic whatever the model.

A variant's accuracy is measured on the model's own test split where it has one (the zoo's 25 %), else
unknown (null); its size is its file's. The narrower variants are trained, so they come from the zoo
(``zoo.ZOO``: ``digits-cnn-narrow``, ``digits-cnn-quarter``), as do the zoo's quantised ones.
"""

from __future__ import annotations

import logging

import numpy as np

from . import zoo
from .choices import ModelSource
from .models import MLModel
from .quantize import CALIBRATION_IMAGES, KINDS, QuantizeError, measured_accuracy, quantize
from .validation import ModelValidationError

__all__ = [
    "KINDS",
    "VariantError",
    "create_variant",
    "has_own_data",
    "measured_accuracy",
    "own_data",
    "quantize",
]

log = logging.getLogger(__name__)

DIGITS = "digits-"


class VariantError(ModelValidationError):
    """A variant that cannot be made; the message says why (HTTP 400)."""


def has_own_data(model: MLModel) -> bool:
    """Whether the model, or the model it is a variant of, is a built-in digits model (trained on
    scikit-learn's digits, which every install has)."""
    seen = set()
    root = model
    while root.variant_of_id is not None and root.variant_of_id not in seen:
        seen.add(root.variant_of_id)
        root = MLModel.all_objects.get(pk=root.variant_of_id)
    return root.source == ModelSource.BUILTIN and root.name.startswith(DIGITS)


def own_data(model: MLModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """(x_train, x_test, y_train, y_test) of the data the model (or the model it is a variant of) was
    trained on: the zoo's split of scikit-learn's digits for the digits models; None for every other."""
    return zoo._digits_data() if has_own_data(model) else None


def create_variant(model: MLModel, kind: str, *, user=None) -> MLModel:
    """A quantised variant of ``model`` registered as ``<name>-<kind>`` (same version), ``variant_of``
    ``model``, with its accuracy measured where the model has data; ``VariantError`` (or the catalog's
    ``DuplicateModel``) when it cannot be made."""
    from .services import register_variant

    if kind not in KINDS:
        raise VariantError(f"unknown variant kind {kind!r}; known: {', '.join(KINDS)}")
    if len(model.inputs) != 1:
        raise VariantError(f"{model} has {len(model.inputs)} inputs: variants are made of one-input models")
    data = own_data(model)
    calibration = data[0][:CALIBRATION_IMAGES] if data is not None else None
    try:
        quantised, how = quantize(model.artifact_path.read_bytes(), kind, calibration)
    except QuantizeError as exc:
        raise VariantError(str(exc)) from None
    accuracy = measured_accuracy(quantised, data[1], data[3]) if data is not None else None
    variant = register_variant(
        model,
        quantised,
        name=f"{model.name}-{kind}",
        variant=how,
        source=ModelSource.UPLOAD,
        description=f"{model.name} v{model.version}, {how}.",
        accuracy=accuracy,
        uploaded_by=user,
        labels=list(model.labels or []) or None,
    )
    log.info("made %s, a variant of %s: %s, accuracy %s", variant, model, how, accuracy)
    return variant
