"""What an exporter writes into an ONNX file's ``metadata_props`` about the model: class labels and the
preprocessing its input expects (issue #18 item 2). Read at registration; an upload's own ``labels`` or
``preprocess`` wins over them.

Keys read (case-insensitive; values as exporters write them):

- labels: ``labels``, ``classes``, ``class_names`` or ``names`` — a JSON list, a JSON object or a Python dict
  literal ``{0: 'person', 1: 'bicycle'}`` (Ultralytics) keyed by class index, or text with one label per
  line or comma-separated;
- preprocessing: ``mean`` and ``std`` (a JSON list or comma-separated numbers, per channel), ``scale`` (a
  number), ``color``/``colour``/``channel_order`` (``rgb``, ``bgr``, ``gray``), ``layout``
  (``NCHW``/``NHWC``), ``imgsz``/``input_size``/``size`` (``[height, width]`` or one number for both).

Values that cannot be read are skipped with a note (``notes``), never fatal: metadata is a hint.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import Any

import onnx

LABEL_KEYS = ("labels", "classes", "class_names", "names")
COLOR_KEYS = ("color", "colour", "channel_order")
SIZE_KEYS = ("imgsz", "input_size", "size")
MAX_LABELS = 100_000


@dataclass
class Metadata:
    labels: list[str] = field(default_factory=list)
    preprocess: dict[str, Any] | None = None  # only the keys the metadata gave
    notes: list[str] = field(default_factory=list)


def read(model: onnx.ModelProto) -> Metadata:
    props = {p.key.strip().lower(): p.value for p in model.metadata_props}
    out = Metadata()
    for key in LABEL_KEYS:
        if key in props:
            labels = _labels(props[key])
            if labels is None:
                out.notes.append(f"metadata {key!r}: not a list of labels, ignored")
            else:
                out.labels = labels
                break
    spec: dict[str, Any] = {}
    for key in ("mean", "std"):
        if key in props:
            numbers = _numbers(props[key])
            if numbers is None:
                out.notes.append(f"metadata {key!r}: not numbers, ignored")
            else:
                spec[key] = numbers
    if "scale" in props:
        numbers = _numbers(props["scale"])
        if numbers is not None and len(numbers) == 1:
            spec["scale"] = numbers[0]
    for key in COLOR_KEYS:
        if key in props and props[key].strip().lower() in ("rgb", "bgr", "gray"):
            spec["color"] = props[key].strip().lower()
            break
    if "layout" in props and props["layout"].strip().upper() in ("NCHW", "NHWC"):
        spec["layout"] = props["layout"].strip().upper()
    for key in SIZE_KEYS:
        if key in props:
            numbers = _numbers(props[key])
            if numbers and len(numbers) in (1, 2) and all(n > 0 and n == int(n) for n in numbers):
                spec["resize"] = [int(numbers[0]), int(numbers[-1])]
                break
    out.preprocess = spec or None
    return out


def _labels(text: str) -> list[str] | None:
    value: Any
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)  # Ultralytics: "{0: 'person', 1: 'bicycle'}"
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]
    if isinstance(value, dict):
        try:
            items = sorted((int(k), str(v)) for k, v in value.items())
        except (TypeError, ValueError):
            return None
        if [k for k, _ in items] != list(range(len(items))):
            return None
        value = [v for _, v in items]
    if not isinstance(value, list | tuple) or not value or len(value) > MAX_LABELS:
        return None
    return [str(v)[:200] for v in value]


def _numbers(text: str) -> list[float] | None:
    try:
        value = json.loads(text)
    except ValueError:
        value = [p for p in text.replace("[", "").replace("]", "").split(",") if p.strip()]
    if not isinstance(value, list):
        value = [value]
    try:
        numbers = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    return numbers if numbers and all(abs(n) < 1e9 for n in numbers) else None
