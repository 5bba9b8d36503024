"""Activation codecs: how a tensor's bytes travel between stages.

``CODECS`` maps a codec name (the one a ``deploy`` message names in ``next.codec``) to ``(encode, decode)``:

    encode(array) -> (payload, params)      payload is bytes-like; params is a small JSON-able dict
    decode(payload, params, dtype, shape) -> array of exactly ``dtype`` and ``shape``

The header of an ACTIVATION frame carries the tensor's own dtype and shape (what the receiving stage sees
after decoding) and the codec's ``params``, so every codec restores the tensor the sender had, within its
error:

    raw   exact; the payload is the array's memory itself (no copy)
    zlib  exact; level 1, because on an edge link a fast compressor beats a tight one
    fp16  float32 -> float16 -> float32, relative error about 1e-3 (5e-4 rounding, more near float16's limits)
    int8  per-tensor affine quantisation, absolute error at most ``scale / 2``

``fp16`` and ``int8`` only make sense for floating-point tensors; anything else is sent raw by them (their
params say so), so a codec choice never makes a stage fail.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

Params = dict[str, Any]
Encoder = Callable[[np.ndarray], tuple[Any, Params]]
Decoder = Callable[[Any, Params, str, tuple[int, ...]], np.ndarray]


def _raw_encode(array: np.ndarray) -> tuple[memoryview, Params]:
    # A C-contiguous array's own buffer goes on the wire as it is: no serialisation copy.
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8).data, {}


def _raw_decode(payload: Any, params: Params, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(payload, dtype=np.dtype(dtype)).reshape(shape)


def _zlib_encode(array: np.ndarray) -> tuple[bytes, Params]:
    return zlib.compress(_raw_encode(array)[0], 1), {}


def _zlib_decode(payload: Any, params: Params, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    return _raw_decode(zlib.decompress(payload), params, dtype, shape)


def _is_float(array: np.ndarray) -> bool:
    return array.dtype.kind == "f"


def _fp16_encode(array: np.ndarray) -> tuple[Any, Params]:
    if not _is_float(array):
        return _raw_encode(array)[0], {"raw": True}
    return _raw_encode(array.astype(np.float16))[0], {}


def _fp16_decode(payload: Any, params: Params, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    if params.get("raw"):
        return _raw_decode(payload, params, dtype, shape)
    return _raw_decode(payload, params, "float16", shape).astype(dtype)


def _int8_encode(array: np.ndarray) -> tuple[Any, Params]:
    if not _is_float(array) or array.size == 0:
        return _raw_encode(array)[0], {"raw": True}
    # The range always holds 0, so zeros (most of a ReLU output) come back exactly zero.
    lo = min(float(array.min()), 0.0)
    hi = max(float(array.max()), 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    zero_point = int(np.clip(round(-128 - lo / scale), -128, 127))
    quantised = np.clip(np.rint(array / scale) + zero_point, -128, 127).astype(np.int8)
    return _raw_encode(quantised)[0], {"scale": scale, "zero_point": zero_point}


def _int8_decode(payload: Any, params: Params, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    if params.get("raw"):
        return _raw_decode(payload, params, dtype, shape)
    quantised = _raw_decode(payload, params, "int8", shape).astype(np.float32)
    return ((quantised - params["zero_point"]) * params["scale"]).astype(dtype)


CODECS: dict[str, tuple[Encoder, Decoder]] = {
    "raw": (_raw_encode, _raw_decode),
    "zlib": (_zlib_encode, _zlib_decode),
    "fp16": (_fp16_encode, _fp16_decode),
    "int8": (_int8_encode, _int8_decode),
}


class CodecError(ValueError):
    pass


def get_codec(name: str) -> tuple[Encoder, Decoder]:
    try:
        return CODECS[name]
    except KeyError:
        raise CodecError(f"unknown codec {name!r} (known: {', '.join(sorted(CODECS))})") from None


def encode(name: str, array: np.ndarray) -> tuple[Any, Params]:
    return get_codec(name)[0](array)


def decode(name: str, payload: Any, params: Params, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """The tensor back, checked: a codec that restored another shape or dtype is a bug, not a tensor."""
    try:
        array = get_codec(name)[1](payload, params, dtype, tuple(shape))
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise CodecError(f"cannot decode a {name} payload as {dtype}{list(shape)}: {exc}") from None
    if array.dtype != np.dtype(dtype) or array.shape != tuple(shape):
        raise CodecError(f"{name} decoded {array.dtype}{list(array.shape)}, expected {dtype}{list(shape)}")
    return array
