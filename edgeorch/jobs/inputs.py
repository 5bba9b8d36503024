"""A job's input tensor: an uploaded .npy checked against the model, a test sample, or a seeded random
tensor."""

from __future__ import annotations

import functools
from io import BytesIO

import numpy as np

from edgeorch.catalog.variants import has_own_data

DIGITS_MODELS = ("digits-cnn", "digits-branchy")


class InputError(ValueError):
    """The input does not fit the model; the message says how."""


def model_input(model) -> dict:
    if len(model.inputs) != 1:
        raise InputError(f"{model} takes {len(model.inputs)} inputs; jobs feed exactly one tensor")
    return model.inputs[0]


def _fits(spec_shape, shape) -> bool:
    return len(spec_shape) == len(shape) and all(
        not isinstance(want, int) or want < 0 or want == got
        for want, got in zip(spec_shape, shape, strict=True)
    )


def _concrete(spec_shape) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) and d >= 0 else 1 for d in spec_shape)


def parse_upload(model, data: bytes) -> np.ndarray:
    """The uploaded .npy as an array of the model's input dtype and shape, or ``InputError`` saying why
    not."""
    spec = model_input(model)
    try:
        array = np.load(BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"the upload is not a .npy file: {exc}") from None
    if array.dtype != np.dtype(spec["dtype"]):
        raise InputError(f"input {spec['name']!r} must be {spec['dtype']}, the .npy holds {array.dtype}")
    if not _fits(spec["shape"], array.shape):
        raise InputError(
            f"input {spec['name']!r} must have shape {spec['shape']}, the .npy has {list(array.shape)}"
        )
    return array


@functools.cache
def _digits_test_images() -> np.ndarray:
    # The very split and scaling the zoo trained on (zoo._digits_data), so sample k is a real test image.
    from edgeorch.catalog.zoo import _digits_data

    return _digits_data()[1]


def sample(model, k: int) -> np.ndarray:
    """The k-th test sample of the model's own data (the digits models); other models have none."""
    if model.name not in DIGITS_MODELS and not has_own_data(model):  # a digits model's variants too
        raise InputError(f"{model.name} has no test data of its own; upload a .npy or ask for a random input")
    images = _digits_test_images()
    if not 0 <= k < len(images):
        raise InputError(f"sample must be between 0 and {len(images) - 1}")
    spec = model_input(model)
    return images[k : k + 1].astype(spec["dtype"]).reshape(_concrete(spec["shape"]))


def random(model, seed: int = 0) -> np.ndarray:
    """A seeded random tensor of the model's input spec (free dimensions become 1)."""
    spec = model_input(model)
    rng = np.random.default_rng(seed)
    shape = _concrete(spec["shape"])
    if np.dtype(spec["dtype"]).kind == "f":
        return rng.random(shape, dtype=np.float32).astype(spec["dtype"])
    return rng.integers(0, 10, shape).astype(spec["dtype"])


def to_npy(array: np.ndarray) -> bytes:
    buffer = BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
