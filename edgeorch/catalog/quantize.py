"""int8 quantisation of an ONNX model with onnxruntime's tools, and its measured accuracy: bytes in, bytes
out, nothing stored (``variants.create_variant`` registers the result; ``zoo`` builds its quantised
variants with it). Kinds (``KINDS``): ``int8`` — static QDQ, activations calibrated on the inputs given,
else dynamic; ``int8-dynamic`` — dynamic whatever is given (weights int8, activations quantised at run
time)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

KINDS = {
    "int8": "int8, static (calibrated on its data) where the model has data, else dynamic",
    "int8-dynamic": "int8, dynamic (weights int8, activations quantised at run time)",
}
CALIBRATION_IMAGES = 200
# Weights are quantised to 7 bits (``reduce_range``): on x86 CPUs without VNNI (AVX2, AVX-512 before it)
# onnxruntime multiplies uint8 activations by int8 weights with VPMADDUBSW, whose int16 pair sums saturate
# with full 8-bit weights, so the same model answers differently by CPU and a fused kernel (the whole model)
# differs from an unfused one (a segment ending at the cut). Measured on a 2-core AMD EPYC (AVX2): the
# static digits CNN split at each of its 22 cuts differed from the whole model by up to 1.25 in a logit with
# 8-bit weights, by 0 with 7-bit ones (test accuracy 98.67% -> 98.89%).


class QuantizeError(ValueError):
    """The model cannot be quantised so; the message says why."""


def quantize(data: bytes, kind: str, calibration: np.ndarray | None = None) -> tuple[bytes, str]:
    """``data`` (an ONNX model with one input) quantised to int8, and what was done: static QDQ when
    ``calibration`` (a batch of inputs, first axis the samples) is given and ``kind`` is ``int8``, else
    dynamic."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    if kind not in KINDS:
        raise QuantizeError(f"unknown variant kind {kind!r}; known: {', '.join(KINDS)}")

    class Reader(CalibrationDataReader):
        def __init__(self, name: str, batch: np.ndarray):
            self.rows = iter([{name: batch[i : i + 1]} for i in range(len(batch))])

        def get_next(self):
            return next(self.rows, None)

    with tempfile.TemporaryDirectory(prefix="edgeorch-quant-") as tmp:
        src, out = Path(tmp) / "in.onnx", Path(tmp) / "out.onnx"
        src.write_bytes(data)
        try:
            if kind == "int8" and calibration is not None:
                name = _input_name(data)
                quantize_static(
                    src,
                    out,
                    Reader(name, calibration),
                    quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8,
                    reduce_range=True,
                )
                how = f"int8 (static, calibrated on {len(calibration)} inputs)"
            else:
                quantize_dynamic(src, out, weight_type=QuantType.QInt8, reduce_range=True)
                how = "int8 (dynamic)"
        except Exception as exc:  # onnxruntime's tools raise whatever they meet: say it was quantisation
            raise QuantizeError(f"onnxruntime could not quantise the model: {exc}") from None
        return out.read_bytes(), how


def measured_accuracy(data: bytes, x: np.ndarray, y: np.ndarray, output: str | None = None) -> float:
    """Top-1 accuracy of ``data`` on inputs ``x`` (one at a time) and labels ``y``, as onnxruntime runs it;
    ``output``: which output (default: the last, a branchy model's final exit)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    wanted = [output] if output else [session.get_outputs()[-1].name]
    logits = np.concatenate([session.run(wanted, {name: x[i : i + 1]})[0] for i in range(len(x))])
    return round(float((logits.reshape(len(x), -1).argmax(1) == y).mean()), 4)


def _input_name(data: bytes) -> str:
    import onnx

    graph = onnx.load_from_string(data).graph
    weights = {t.name for t in graph.initializer}
    return next(i.name for i in graph.input if i.name not in weights)
