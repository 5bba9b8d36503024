"""Neurosurgeon-style latency prediction (Kang et al., ASPLOS 2017).

Per device class, a block's latency is the sum over its op types (conv, gemm, pool, elementwise, other) of a
linear model  w_macs * macs + w_in * input_bytes + w_out * output_bytes + b  (b counted when the op type is
present). The weights are fitted by least squares on profiles. A device class with too few profiles for its
own regression falls back to device-speed scaling: the reference class's prediction times the device's
median measured/reference ratio on the profiles it has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import PlanningError
from .model import OP_TYPES, OpFeatures


@dataclass(frozen=True)
class Profile:
    """One measurement: a block's op features on a device class and its measured seconds."""

    device_key: str
    features: Mapping[str, OpFeatures]
    seconds: float


def _op(op_type: str) -> str:
    """Map aliases (matmul, relu, maxpool...) to the five op classes."""
    aliases = {
        "matmul": "gemm",
        "fc": "gemm",
        "linear": "gemm",
        "activation": "elementwise",
        "relu": "elementwise",
        "add": "elementwise",
        "maxpool": "pool",
        "avgpool": "pool",
        "pooling": "pool",
        "conv2d": "conv",
    }
    op = aliases.get(op_type.lower(), op_type.lower())
    return op if op in OP_TYPES else "other"


def feature_vector(features: Mapping[str, OpFeatures]) -> list[float]:
    """[macs, in, out, present] per op class; mixed blocks sum their ops per class."""
    sums = {op: [0.0, 0.0, 0.0, 0.0] for op in OP_TYPES}
    for op_type, f in features.items():
        row = sums[_op(op_type)]
        row[0] += f.macs
        row[1] += f.input_bytes
        row[2] += f.output_bytes
        row[3] = 1.0
    return [x for op in OP_TYPES for x in sums[op]]


class LatencyPredictor:
    """Per device class linear models; ``predict(device_key, features)`` in seconds."""

    def __init__(self, min_profiles: int = 8) -> None:
        self.min_profiles = min_profiles
        self.weights: dict[str, np.ndarray] = {}
        self.speed: dict[str, float] = {}
        self.reference: str | None = None

    def fit(self, profiles: Sequence[Profile], reference: str | None = None) -> LatencyPredictor:
        """Fit a regression per device class with enough profiles; speed-scale the others to ``reference``."""
        by_key: dict[str, list[Profile]] = {}
        for p in profiles:
            by_key.setdefault(p.device_key, []).append(p)
        for key, rows in by_key.items():
            if len(rows) >= self.min_profiles:
                self.weights[key] = _least_squares(rows)
        if not self.weights:
            raise PlanningError("no device class has enough profiles for a regression")
        self.reference = (
            reference if reference in self.weights else max(self.weights, key=lambda k: len(by_key[k]))
        )
        for key, rows in by_key.items():
            if key not in self.weights:
                self.speed[key] = self._relative_speed(rows)
        return self

    def _relative_speed(self, rows: Sequence[Profile]) -> float:
        """Median of measured / reference-predicted seconds over a device's few profiles."""
        assert self.reference is not None
        ratios = [p.seconds / self._linear(self.reference, p.features) for p in rows]
        return float(np.median([r for r in ratios if np.isfinite(r) and r > 0] or [1.0]))

    def _linear(self, key: str, features: Mapping[str, OpFeatures]) -> float:
        return max(float(np.dot(self.weights[key], feature_vector(features))), 0.0)

    def predict(self, device_key: str, features: Mapping[str, OpFeatures]) -> float:
        """Predicted seconds of a block on a device class."""
        if device_key in self.weights:
            return self._linear(device_key, features)
        if device_key in self.speed and self.reference is not None:
            return self.speed[device_key] * self._linear(self.reference, features)
        raise PlanningError(f"no profile for device class {device_key!r}")


def _least_squares(rows: Sequence[Profile]) -> np.ndarray:
    """Weights minimising squared *relative* error (rows weighted by 1/seconds: latencies span decades and
    the planner cares about percentages), on columns scaled to unit max for conditioning."""
    y = np.array([p.seconds for p in rows])
    x = np.array([feature_vector(p.features) for p in rows]) / y[:, None]
    scale = np.abs(x).max(axis=0)
    scale[scale == 0] = 1.0
    w, *_ = np.linalg.lstsq(x / scale, np.ones(len(rows)), rcond=None)
    return np.asarray(w / scale)


def evaluate_mape(train: Sequence[Profile], test: Sequence[Profile], reference: str | None = None) -> float:
    """Mean absolute percentage error (a fraction: 0.05 = 5%) on held-out profiles."""
    predictor = LatencyPredictor().fit(train, reference)
    errors = [abs(predictor.predict(p.device_key, p.features) - p.seconds) / p.seconds for p in test]
    if not errors:
        raise PlanningError("no held-out profiles to evaluate")
    return float(np.mean(errors))
