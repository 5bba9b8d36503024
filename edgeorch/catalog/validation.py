"""Validation of uploaded ONNX bytes: every refusal names what is wrong.

The order goes from cheap to expensive (size, parse, opset, checker, shape inference, a test run), so a
bad file is refused before much work is spent on it. A file that passes comes back *prepared*: unknown
dimensions pinned, every tensor's shape known (from ONNX shape inference, completed by the test run's
own observed shapes where inference gives up), analysed, and serialized — the bytes the catalog stores.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import helper, version_converter

from .graph import GraphAnalysis, GraphError, analyse, prepare_model, real_inputs, tensor_infos
from .runtime import (
    MIN_CONVERTIBLE_OPSET,
    MIN_SUPPORTED_OPSET,
    make_session,
    max_supported_opset,
    random_feeds,
)
from .sandbox import Limits, SandboxFailed, SandboxLimitExceeded, run_isolated


class ModelValidationError(ValueError):
    """An uploaded file is not a model the catalog can take; the message says why, for the uploader."""


@dataclass
class ValidatedModel:
    """A model that passed validation, ready to be stored."""

    model: onnx.ModelProto  # prepared: shapes pinned and inferred
    data: bytes  # the prepared model, serialized (what is stored)
    sha256: str  # of ``data``
    source_sha256: str  # of the bytes as uploaded
    opset: int  # as stored: an older model's is the opset it was converted to
    analysis: GraphAnalysis
    notes: list[str] = field(default_factory=list)  # what was done to it on the way (a conversion)


def validate_model_bytes(
    data: bytes, *, max_bytes: int, limits: Limits | None = None, dims: dict | None = None
) -> ValidatedModel:
    """Check uploaded bytes and prepare them, or raise ``ModelValidationError``. With ``limits`` (an
    upload) the test run happens in a child process held to them (``sandbox``); without (the zoo, ours),
    here. ``dims``: values for the inputs' unknown dimensions (``graph.prepare_model``)."""
    _check_size(data, max_bytes)
    model = _parse(data)
    opset = _check_opset(model)
    notes = []
    if opset < MIN_SUPPORTED_OPSET:
        model, dims = _convert(model, opset, dims), None  # the dimensions are pinned before converting
        notes, original, opset = [_conversion_note(opset)], opset, MIN_SUPPORTED_OPSET
    try:
        _check_structure(model)
    except ModelValidationError as exc:
        if not notes:
            raise
        # The converter made a model that does not check.
        raise ModelValidationError(f"Converted from opset {original} to {opset}: {exc}") from exc
    model = _prepare(model, dims)
    _test_run_and_complete_shapes(model, limits)
    try:
        analysis = analyse(model)
    except GraphError as exc:
        raise ModelValidationError(f"The graph cannot be analysed: {exc}.") from exc
    prepared = model.SerializeToString()
    return ValidatedModel(
        model=model,
        data=prepared,
        sha256=hashlib.sha256(prepared).hexdigest(),
        source_sha256=hashlib.sha256(data).hexdigest(),
        opset=opset,
        analysis=analysis,
        notes=notes,
    )


def _check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise ModelValidationError("The file is empty.")
    if len(data) > max_bytes:
        raise ModelValidationError(
            f"The file is {len(data) / 2**20:.1f} MB; the upload limit is {max_bytes / 2**20:.0f} MB."
        )


def _parse(data: bytes) -> onnx.ModelProto:
    try:
        model = onnx.ModelProto.FromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise ModelValidationError(
            "This is not an ONNX model: the file does not parse as an ONNX protobuf."
        ) from exc
    # Protobuf parses many random byte strings without complaint; a model must at least have a graph.
    if not model.HasField("graph") or not model.graph.node or not model.opset_import:
        raise ModelValidationError("This is not an ONNX model: it has no graph, no nodes or no opset import.")
    return model


def _check_opset(model: onnx.ModelProto) -> int:
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset is None:
        raise ModelValidationError("The model imports no default-domain (ai.onnx) opset.")
    newest = max_supported_opset()
    if not MIN_CONVERTIBLE_OPSET <= opset <= newest:
        raise ModelValidationError(
            f"The model uses opset {opset}; the installed onnxruntime supports opsets "
            f"{MIN_SUPPORTED_OPSET} to {newest} (older ones from {MIN_CONVERTIBLE_OPSET} are converted). "
            "Re-export it with an opset in that range."
        )
    return opset


def _convert(model: onnx.ModelProto, opset: int, dims: dict | None) -> onnx.ModelProto:
    """An opset older than onnxruntime runs, converted with onnx's version converter to the oldest it runs
    (the smallest change). The original is checked first (the converter is C++ and trusts its input), and
    its input dimensions pinned (``dims``; its adapters refuse symbolic ones); ops that no longer exist, or
    that the converter cannot adapt, are refused naming them. The converter's value_info may hold untyped
    entries (it leaves types unknown); shape inference redoes them all."""
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ModelValidationError(f"onnx.checker rejected the model: {_first_line(exc)}") from exc
    model = _prepare(model, dims)
    ops = {n.op_type for n in model.graph.node if n.domain in ("", "ai.onnx")}
    gone = sorted(op for op in ops if not onnx.defs.has(op, MIN_SUPPORTED_OPSET))
    if gone:
        raise ModelValidationError(
            f"The model uses opset {opset}, which onnxruntime does not run, and ops that opset "
            f"{MIN_SUPPORTED_OPSET} no longer has: {', '.join(gone)}; it cannot be converted. Re-export it "
            f"with opset {MIN_SUPPORTED_OPSET} or newer."
        )
    try:
        converted = version_converter.convert_version(model, MIN_SUPPORTED_OPSET)
    except (RuntimeError, ValueError, onnx.checker.ValidationError) as exc:
        raise ModelValidationError(
            f"The model uses opset {opset}, which onnxruntime does not run, and onnx's version converter "
            f"could not convert it to opset {MIN_SUPPORTED_OPSET}: {_first_line(exc)}. Re-export it with "
            f"opset {MIN_SUPPORTED_OPSET} or newer."
        ) from exc
    del converted.graph.value_info[:]
    return converted


def _conversion_note(opset: int) -> str:
    return (
        f"Converted at upload from opset {opset} to opset {MIN_SUPPORTED_OPSET} with onnx's version "
        "converter (onnxruntime runs no older opset)."
    )


def _check_structure(model: onnx.ModelProto) -> None:
    external = [t for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        files = sorted({e.value for t in external for e in t.external_data if e.key == "location"})
        raise ModelValidationError(
            f"The weights are stored in external data files that were not uploaded: {', '.join(files)}. "
            "Upload them with the model (data_files) or a zip of the model and its data."
        )
    if not real_inputs(model.graph) or not model.graph.output:
        raise ModelValidationError("The model has no inputs or no outputs.")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ModelValidationError(f"onnx.checker rejected the model: {_first_line(exc)}") from exc
    try:
        onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except (onnx.shape_inference.InferenceError, RuntimeError) as exc:
        raise ModelValidationError(f"Shape inference failed: {_first_line(exc)}") from exc


# IR version 4 let initializers be left out of the graph inputs; segments leave them out, so a model of an
# older IR (old exporters listed every weight as an input) is stored as IR 4 (it changes nothing else).
MIN_STORED_IR_VERSION = 4


def _prepare(model: onnx.ModelProto, dims: dict | None = None) -> onnx.ModelProto:
    model.ir_version = max(model.ir_version, MIN_STORED_IR_VERSION)
    try:
        return prepare_model(model, dims=dims)
    except GraphError as exc:
        raise ModelValidationError(f"The model's input shapes: {exc}.") from exc
    except (onnx.shape_inference.InferenceError, RuntimeError) as exc:
        raise ModelValidationError(f"Shape inference failed: {_first_line(exc)}") from exc


def _test_run_and_complete_shapes(model: onnx.ModelProto, limits: Limits | None) -> None:
    """Run once on random input, exposing tensors whose shape inference left unknown, and record theirs."""
    unknown = _tensors_without_shape(model)
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.extend(onnx.ValueInfoProto(name=n) for n in unknown)
    names = [o.name for o in probe.graph.output]
    try:
        if limits is None:
            values = make_session(probe).run(names, random_feeds(model))
            found = {n: _dtype_and_shape(v) for n, v in zip(names, values, strict=True)}
        else:
            found = run_isolated(probe.SerializeToString(), random_feeds(model), names, limits)
    except SandboxLimitExceeded as exc:
        raise ModelValidationError(f"The test run on random input exceeded its limits: {exc}.") from exc
    except SandboxFailed as exc:
        raise ModelValidationError(f"The test run on random input failed: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises many types; all mean "does not run"
        raise ModelValidationError(f"The test run on random input failed: {_first_line(exc)}") from exc
    for name in unknown:
        tensor = found[name]
        if tensor is None:
            continue  # a sequence or map: not a tensor, never a cut
        dtype, shape = tensor
        elem = helper.np_dtype_to_tensor_dtype(dtype)
        _replace_value_info(model, helper.make_tensor_value_info(name, elem, shape))


def _dtype_and_shape(value) -> tuple[np.dtype, list[int]] | None:
    return (value.dtype, list(value.shape)) if hasattr(value, "dtype") else None


def _tensors_without_shape(model: onnx.ModelProto) -> list[str]:
    infos = tensor_infos(model.graph)
    outputs = [n for node in model.graph.node for n in node.output if n]
    return [n for n in outputs if n not in infos or infos[n].nbytes is None]


def _replace_value_info(model: onnx.ModelProto, value: onnx.ValueInfoProto) -> None:
    for group in (model.graph.output, model.graph.value_info):
        for existing in group:
            if existing.name == value.name:
                existing.CopyFrom(value)
                return
    model.graph.value_info.append(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:400]
