"""A catalog model's preprocessing: how a frame from a stream's source (a video, a camera, images) becomes
the model's input. The spec is the wire contract's (``edgeorch_wire.preprocess``): the agent applies it to
every frame. Here it is checked (``check``: the spec itself, and that it can make the model's input) and the
zoo's models get theirs (``zoo_default``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from edgeorch_wire import preprocess

from . import zoo

# The zoo's random-weight networks are torchvision-style ImageNet classifiers: RGB, NCHW, ImageNet's mean and
# std. The digits networks were trained on scikit-learn's 8×8 digits scaled to [0, 1] (``zoo._digits_data``:
# 16 grey levels / 16.0): an 8-bit gray frame / 255 is the same range; "area" averages a large frame down.
IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def zoo_default(name: str) -> dict | None:
    """The preprocessing of the zoo model ``name`` (None for a name the zoo does not have)."""
    entry = next((e for e in zoo.ZOO if e.name == name), None)
    if entry is None or len(entry.input_shape) != 4:
        return None
    _, channels, height, width = entry.input_shape
    if channels == 1:
        spec = {"resize": [height, width], "interpolation": "area", "color": "gray", "scale": 1 / 255}
    else:
        spec = {"resize": [height, width], "color": "rgb", "scale": 1 / 255, **IMAGENET}
    return preprocess.parse({**spec, "layout": "NCHW", "dtype": "float32"}).to_dict()


def check(value, inputs: list[dict]) -> dict | None:
    """``value`` (JSON data, or None: frames go to the model as they are) as a normalised spec, or a
    ``ValidationError`` saying what is wrong with it or why it cannot make the model's input (``inputs``)."""
    if value is None:
        return None
    try:
        spec = preprocess.parse(value)
    except preprocess.PreprocessError as exc:
        raise ValidationError(str(exc)) from None
    if len(inputs) != 1:
        raise ValidationError(f"preprocess makes one input; this model takes {len(inputs)}")
    why = preprocess.mismatch(spec, list(inputs[0].get("shape") or []), str(inputs[0].get("dtype")))
    if why is not None:
        raise ValidationError(f"preprocess cannot make this model's input: {why}")
    return spec.to_dict()
