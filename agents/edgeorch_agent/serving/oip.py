"""The Open Inference Protocol v2 (KServe / Triton REST) as bytes: an infer request's tensors in, an infer
response out, with the binary tensor data extension. No I/O: ``endpoint`` serves it.

A request body is JSON, or (binary extension) ``Inference-Header-Content-Length`` bytes of JSON followed by
the binary tensors, in the order of the inputs that declare ``parameters.binary_data_size``. An output is sent
binary when the request asks for it (``outputs[i].parameters.binary_data`` or, for outputs not named,
``parameters.binary_data_output``), as JSON ``data`` (a flat row-major list) otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# OIP datatype <-> numpy dtype (BYTES, variable-length strings, is not a tensor any ONNX segment here takes).
DATATYPES = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
}
DTYPES = {dtype: datatype for datatype, dtype in DATATYPES.items()}


class BadRequest(ValueError):
    """The request is not one the protocol allows or the model takes (HTTP 400); the message says why."""


def datatype_of(dtype: str) -> str:
    """The OIP datatype of a numpy/ONNX dtype name (``float32`` -> ``FP32``)."""
    try:
        return DTYPES[str(np.dtype(dtype))]
    except (KeyError, TypeError) as exc:
        raise BadRequest(f"dtype {dtype!r} has no Open Inference Protocol datatype") from exc


@dataclass
class InferRequest:
    inputs: dict[str, np.ndarray]
    id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    outputs: list[dict[str, Any]] | None = None  # the outputs asked for, as given (None: all)


def parse_request(body: bytes, header_length: int | None) -> InferRequest:
    """An infer request from its body (``header_length``: the binary extension's JSON length)."""
    if header_length is not None and not 0 <= header_length <= len(body):
        raise BadRequest(
            f"Inference-Header-Content-Length {header_length} exceeds the body's {len(body)} bytes"
        )
    head = body if header_length is None else body[:header_length]
    try:
        request = json.loads(head)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the request header is not JSON: {exc}") from None
    if not isinstance(request, dict) or not isinstance(request.get("inputs"), list) or not request["inputs"]:
        raise BadRequest("an infer request is a JSON object with a non-empty 'inputs' list")
    parameters = request.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise BadRequest("'parameters' must be an object")
    outputs = request.get("outputs")
    if outputs is not None and not (isinstance(outputs, list) and all(isinstance(o, dict) for o in outputs)):
        raise BadRequest("'outputs' must be a list of objects")
    binary = memoryview(body)[len(head) :] if header_length is not None else memoryview(b"")
    offset, arrays = 0, {}
    for spec in request["inputs"]:
        array, used = _input_tensor(spec, binary, offset)
        offset += used
        arrays[spec["name"]] = array
    if offset != len(binary):
        raise BadRequest(f"the body holds {len(binary) - offset} bytes of binary data that no input declares")
    request_id = request.get("id")
    return InferRequest(arrays, None if request_id is None else str(request_id), parameters, outputs)


def _input_tensor(spec: Any, binary: memoryview, offset: int) -> tuple[np.ndarray, int]:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise BadRequest("each input is an object with a 'name'")
    name = spec["name"]
    shape = spec.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise BadRequest(f"input {name!r}: 'shape' must be a list of non-negative integers")
    datatype = spec.get("datatype")
    if datatype not in DATATYPES:
        raise BadRequest(f"input {name!r}: datatype {datatype!r} is not one of {', '.join(DATATYPES)}")
    dtype = np.dtype(DATATYPES[datatype])
    count = int(np.prod(shape)) if shape else 1
    size = (spec.get("parameters") or {}).get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or size != count * dtype.itemsize:
            raise BadRequest(
                f"input {name!r}: binary_data_size {size!r} is not the {count * dtype.itemsize} bytes "
                f"of a {datatype} tensor of shape {shape}"
            )
        if offset + size > len(binary):
            raise BadRequest(f"input {name!r}: the body ends before its {size} bytes of binary data")
        return np.frombuffer(binary[offset : offset + size], dtype).reshape(shape), size
    data = spec.get("data")
    if data is None:
        raise BadRequest(f"input {name!r} has neither 'data' nor parameters.binary_data_size")
    try:
        array = np.asarray(data, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadRequest(f"input {name!r}: its data is not {datatype}: {exc}") from None
    if array.size != count:
        raise BadRequest(f"input {name!r}: {array.size} values for shape {shape} ({count} values)")
    return array.reshape(shape), 0


def wants_binary(request: InferRequest, name: str) -> bool:
    for output in request.outputs or []:
        if output.get("name") == name:
            return bool((output.get("parameters") or {}).get("binary_data", False))
    return bool(request.parameters.get("binary_data_output", False))


def encode_response(
    model: str,
    version: str,
    request: InferRequest,
    outputs: dict[str, np.ndarray],
    parameters: dict[str, Any],
) -> tuple[bytes, int | None]:
    """The response body, and the length of its JSON part when binary outputs follow (else None)."""
    names = [o["name"] for o in request.outputs] if request.outputs else list(outputs)
    entries, chunks = [], []
    for name in names:
        if name not in outputs:
            raise BadRequest(f"the model has no output {name!r} (it has {', '.join(outputs)})")
        array = np.ascontiguousarray(outputs[name])
        entry: dict[str, Any] = {
            "name": name,
            "datatype": datatype_of(str(array.dtype)),
            "shape": list(array.shape),
        }
        if wants_binary(request, name):
            entry["parameters"] = {"binary_data_size": array.nbytes}
            chunks.append(array.tobytes())
        else:
            entry["data"] = array.ravel().tolist()
        entries.append(entry)
    response: dict[str, Any] = {"model_name": model, "model_version": version, "outputs": entries}
    if request.id is not None:
        response["id"] = request.id
    if parameters:
        response["parameters"] = parameters
    head = json.dumps(response, separators=(",", ":")).encode()
    if not chunks:
        return head, None
    return b"".join([head, *chunks]), len(head)


def tensor_metadata(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Catalog tensor specs ({name, dtype, shape}) as OIP metadata ({name, datatype, shape}; -1: any)."""
    return [
        {
            "name": s["name"],
            "datatype": datatype_of(s["dtype"]),
            "shape": [d if isinstance(d, int) and d >= 0 else -1 for d in s["shape"]],
        }
        for s in specs
    ]


def check_inputs(specs: list[dict[str, Any]], arrays: dict[str, np.ndarray]) -> None:
    """The request's tensors against the model's inputs: the same names, datatypes and (fixed) dimensions."""
    want = {s["name"]: s for s in specs}
    if set(arrays) != set(want):
        raise BadRequest(f"the model takes inputs {sorted(want)}, the request gives {sorted(arrays)}")
    for name, array in arrays.items():
        spec = want[name]
        if str(array.dtype) != str(np.dtype(spec["dtype"])):
            raise BadRequest(
                f"input {name!r} must be {datatype_of(spec['dtype'])}, got {datatype_of(str(array.dtype))}"
            )
        dims = spec["shape"]
        fits = len(dims) == array.ndim and all(
            not isinstance(d, int) or d < 0 or d == got for d, got in zip(dims, array.shape, strict=True)
        )
        if not fits:
            shown = [d if isinstance(d, int) and d >= 0 else -1 for d in dims]
            raise BadRequest(f"input {name!r} must have shape {shown}, got {list(array.shape)}")
