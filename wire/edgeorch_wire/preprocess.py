"""How a frame becomes a model's input: the preprocessing a catalog model declares, applied at the stream's
source.

A frame is an image as OpenCV gives it: ``H×W×3`` uint8 in BGR order (``H×W×4`` BGRA loses its alpha), or
``H×W`` / ``H×W×1`` gray. ``apply(spec, frame)`` turns it into a batch of one, in this order:

1. ``color``: the channels the model takes (``rgb``, ``bgr``, or ``gray``: 0.299 R + 0.587 G + 0.114 B);
2. ``resize`` to ``[height, width]`` (``interpolation``: ``bilinear``, half-pixel centres as OpenCV's
   ``INTER_LINEAR``; ``nearest``; or ``area``, averaging, for large downscales);
3. ``x * scale``, then ``(x - mean) / std`` per channel (``mean``/``std``: one value, or one per channel);
4. ``layout`` ``NCHW`` or ``NHWC``, with a leading batch dimension of one;
5. ``dtype`` (``float32``, ``float16``, or ``uint8``, which takes no normalisation).

numpy only: the wire package needs no OpenCV. ``parse`` checks a spec given as JSON data (unknown keys,
types, ranges, rules across fields) and says what is wrong (``PreprocessError``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
import numpy as np
from msgspec import Meta, Struct

from .checks import MAX_FLOAT, Invalid, explain

Color = Literal["rgb", "bgr", "gray"]
Interpolation = Literal["bilinear", "nearest", "area"]
Layout = Literal["NCHW", "NHWC"]
Dtype = Literal["float32", "float16", "uint8"]
Size = Annotated[int, Meta(gt=0, le=16384)]
Finite = Annotated[float, Meta(ge=-MAX_FLOAT, le=MAX_FLOAT)]

# ITU-R BT.601 luma, as OpenCV's BGR2GRAY.
_LUMA_RGB = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class PreprocessError(Invalid):
    """A spec that cannot be used, or a frame it cannot take."""

    def __init__(self, message: str, code: str = "bad_value"):
        super().__init__(code, message)


class Preprocess(Struct, kw_only=True):
    """How a frame (an H×W×3 BGR uint8 image, or H×W gray) becomes the model's input: a batch of one."""

    resize: Annotated[list[Size] | None, Meta(description="[height, width]; null: the frame's own size")] = (
        None
    )
    interpolation: Interpolation = "bilinear"
    color: Annotated[Color, Meta(description="the channels the model takes")] = "rgb"
    scale: Annotated[Finite, Meta(description="each value is multiplied by it first")] = 1.0 / 255.0
    mean: Annotated[list[Finite], Meta(description="subtracted per channel (one value, or one each)")] = (
        msgspec.field(default_factory=list)
    )
    std: Annotated[list[Finite], Meta(description="divided by per channel (one value, or one each)")] = (
        msgspec.field(default_factory=list)
    )
    layout: Layout = "NCHW"
    dtype: Dtype = "float32"

    def __post_init__(self) -> None:
        if self.resize is not None and len(self.resize) != 2:
            raise ValueError(f"resize must be [height, width], not {self.resize}")
        channels = self.channels
        for name in ("mean", "std"):
            values = getattr(self, name)
            if len(values) not in (0, 1, channels):
                takes = "1" if channels == 1 else f"1 or {channels}"
                raise ValueError(f"{name} has {len(values)} values; {self.color} takes {takes} (or none)")
        if any(s == 0 for s in self.std):
            raise ValueError("std must not contain 0")
        if self.dtype == "uint8" and (self.scale != 1.0 or self.mean or self.std):
            raise ValueError("a uint8 input takes no normalisation: scale 1, no mean, no std")

    @property
    def channels(self) -> int:
        return 1 if self.color == "gray" else 3

    def shape(self, height: int, width: int) -> tuple[int, int, int, int]:
        """The input shape this spec makes of a ``height``×``width`` frame."""
        h, w = self.resize if self.resize is not None else (height, width)
        return (1, self.channels, h, w) if self.layout == "NCHW" else (1, h, w, self.channels)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data


_FIELDS = frozenset(Preprocess.__struct_fields__)


def parse(data: Any, where: str = "preprocess", strict: bool = True) -> Preprocess:
    """A spec from JSON data, or ``PreprocessError`` saying what is wrong. ``strict`` refuses unknown keys
    (the catalog: a typo must not silently fall back to a default); the agent passes ``strict=False`` and
    ignores what a newer control plane may add."""
    if isinstance(data, Preprocess):
        return data
    if not isinstance(data, dict):
        raise PreprocessError(f"{where} must be an object, not {type(data).__name__}", "wrong_type")
    unknown = sorted(set(data) - _FIELDS)
    if unknown and not strict:
        data = {k: v for k, v in data.items() if k in _FIELDS}
    elif unknown:
        raise PreprocessError(
            f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(_FIELDS))})", "bad_value"
        )
    try:
        return msgspec.convert(data, Preprocess)
    except msgspec.ValidationError as exc:
        error = explain(exc, Preprocess, data, where)
        raise PreprocessError(str(error), error.code) from None


def mismatch(spec: Preprocess, shape: list[Any], dtype: str) -> str | None:
    """Why ``spec`` cannot make a model input of ``shape`` (ints; a string, null or negative: any size) and
    ``dtype`` (numpy or onnx name), or None when it can. A spec without ``resize`` fits any fixed size."""
    wanted = _DTYPES.get(dtype, dtype)
    if wanted != spec.dtype:
        return f"the model's input is {wanted}; preprocess makes {spec.dtype}"
    if len(shape) != 4:
        return f"the model's input has {len(shape)} dimensions; preprocess makes 4 (a batch of one image)"
    dims = [d if isinstance(d, int) and d >= 0 else None for d in shape]
    made: list[int | None] = list(spec.shape(-1, -1))
    made = [None if isinstance(d, int) and d < 0 else d for d in made]
    names = ("batch", "channels", "height", "width")
    if spec.layout == "NHWC":
        names = ("batch", "height", "width", "channels")
    for name, want, got in zip(names, dims, made, strict=True):
        if want is not None and got is not None and want != got:
            return f"the model's input {name} is {want}; preprocess ({spec.layout}) makes {got}"
    return None


_DTYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(uint8)": "uint8"}


def apply(spec: Preprocess, frame: np.ndarray, order: Literal["bgr", "rgb"] = "bgr") -> np.ndarray:
    """``frame`` (uint8, H×W, H×W×1, H×W×3 or H×W×4 in ``order``) as the model's input: a batch of one."""
    image = _as_image(frame)
    image = _color(image, spec.color, order)
    if spec.resize is not None:
        image = resize(image, spec.resize[0], spec.resize[1], spec.interpolation)
    if spec.dtype == "uint8":
        out = np.clip(np.rint(image), 0, 255).astype(np.uint8) if image.dtype != np.uint8 else image
    else:
        values = image.astype(np.float32) * np.float32(spec.scale)
        if spec.mean:
            values -= np.asarray(spec.mean, dtype=np.float32)
        if spec.std:
            values /= np.asarray(spec.std, dtype=np.float32)
        out = values.astype(spec.dtype, copy=False)
    if spec.layout == "NCHW":
        out = out.transpose(2, 0, 1)
    return np.ascontiguousarray(out[None])


def _as_image(frame: Any) -> np.ndarray:
    if not isinstance(frame, np.ndarray):
        raise PreprocessError(f"a frame must be a numpy array, not {type(frame).__name__}", "wrong_type")
    if frame.dtype != np.uint8:
        raise PreprocessError(f"a frame must be uint8 pixels, not {frame.dtype}", "wrong_type")
    if frame.ndim == 2:
        frame = frame[:, :, None]
    if frame.ndim != 3 or frame.shape[2] not in (1, 3, 4) or frame.shape[0] == 0 or frame.shape[1] == 0:
        raise PreprocessError(
            f"a frame must be H×W, H×W×1, H×W×3 or H×W×4 pixels, not shape {tuple(frame.shape)}"
        )
    return frame[:, :, :3]


def _color(image: np.ndarray, color: str, order: str) -> np.ndarray:
    if image.shape[2] == 1:
        return image if color == "gray" else np.repeat(image, 3, axis=2)
    rgb = image if order == "rgb" else image[:, :, ::-1]
    if color == "rgb":
        return rgb
    if color == "bgr":
        return rgb[:, :, ::-1]
    return (rgb.astype(np.float32) @ _LUMA_RGB)[:, :, None]


def resize(image: np.ndarray, height: int, width: int, interpolation: str = "bilinear") -> np.ndarray:
    """``image`` (H×W×C) at ``height``×``width``: uint8 stays uint8 with ``nearest``, else float32."""
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    if interpolation == "nearest":
        rows = np.minimum((np.arange(height) + 0.5) * h / height, h - 1).astype(np.intp)
        cols = np.minimum((np.arange(width) + 0.5) * w / width, w - 1).astype(np.intp)
        return image[rows[:, None], cols[None, :]]
    if interpolation == "area":
        ry, rx = _area_weights(h, height), _area_weights(w, width)
        return np.einsum("ij,jkc,lk->ilc", ry, image.astype(np.float32), rx, optimize=True)
    values = image.astype(np.float32)
    y0, y1, fy = _linear_taps(h, height)
    x0, x1, fx = _linear_taps(w, width)
    top = values[y0][:, x0] * (1 - fx)[None, :, None] + values[y0][:, x1] * fx[None, :, None]
    bottom = values[y1][:, x0] * (1 - fx)[None, :, None] + values[y1][:, x1] * fx[None, :, None]
    return top * (1 - fy)[:, None, None] + bottom * fy[:, None, None]


def _linear_taps(size: int, out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each output index: the two source indices and the weight of the second (half-pixel centres)."""
    where = np.clip((np.arange(out, dtype=np.float64) + 0.5) * size / out - 0.5, 0, size - 1)
    low = np.floor(where).astype(np.intp)
    high = np.minimum(low + 1, size - 1)
    return low, high, (where - low).astype(np.float32)


def _area_weights(size: int, out: int) -> np.ndarray:
    """``out``×``size``: each output cell the mean of the source cells it covers (in part, by overlap)."""
    edges = np.arange(out + 1, dtype=np.float64) * size / out
    cells = np.arange(size + 1, dtype=np.float64)
    overlap = np.clip(
        np.minimum(edges[1:, None], cells[None, 1:]) - np.maximum(edges[:-1, None], cells[None, :-1]), 0, None
    )
    return (overlap / overlap.sum(axis=1, keepdims=True)).astype(np.float32)
