"""onnxruntime helpers shared by validation, segment checks, tests and benchmarks."""

from __future__ import annotations

import functools
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

from .graph import real_inputs, tensor_infos


def session_options(threads: int | None = None) -> ort.SessionOptions:
    """One thread per core and no spinning: the machine is shared, spinning threads steal its cores."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


def make_session(model: onnx.ModelProto | bytes | str, threads: int | None = None) -> ort.InferenceSession:
    """A CPU session for a model given as a proto, serialized bytes or a path."""
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else model
    return ort.InferenceSession(source, session_options(threads), providers=["CPUExecutionProvider"])


def random_feeds(model: onnx.ModelProto, seed: int = 0) -> dict[str, np.ndarray]:
    """Random input for every real graph input (all dimensions must be known: see ``prepare_model``)."""
    rng = np.random.default_rng(seed)
    infos = tensor_infos(model.graph)
    feeds = {}
    for name in real_inputs(model.graph):
        info = infos[name]
        shape = tuple(d if d is not None else 1 for d in (info.shape or ()))
        feeds[name] = _random_array(rng, shape, np.dtype(info.dtype))
    return feeds


def _random_array(rng, shape, dtype: np.dtype) -> np.ndarray:
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 2, size=shape).astype(dtype)  # small ids are valid for most lookups
    return rng.standard_normal(shape).astype(dtype)


def run(model: onnx.ModelProto | bytes | str, feeds: dict[str, np.ndarray], threads: int | None = None):
    """Run once; returns {output name: array}."""
    session = make_session(model, threads)
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds), strict=True))


@functools.cache
def max_supported_opset() -> int:
    """The newest default-domain opset the installed onnxruntime loads, found by loading a one-node model."""
    for opset in range(onnx.defs.onnx_opset_version(), 6, -1):
        graph = helper.make_graph(
            [helper.make_node("Identity", ["x"], ["y"])],
            "probe",
            [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
        try:
            make_session(model, threads=1)
        except Exception:  # noqa: BLE001 - any load failure means "not this opset"
            continue
        return opset
    return 7


MIN_SUPPORTED_OPSET = 7  # onnxruntime's oldest supported opset
MIN_CONVERTIBLE_OPSET = 1  # older models are converted to MIN_SUPPORTED_OPSET at upload (validation)
