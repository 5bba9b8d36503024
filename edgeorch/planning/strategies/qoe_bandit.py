"""``qoe-bandit``: the model variant is learned per device (the QoE bandit, ``planning.qoe``; the control
plane's side is ``edgeorch.jobs.services.selection``), the split of whichever variant runs is planned by the
``split`` strategy (default ``device-edge``).

Here, where one model is planned, it is that split strategy's plan; the weights of the QoE (``w_accuracy``,
``w_latency``, ``w_energy``, ``latency_ref_s``) and the ``window`` of frames each choice is judged over are
the control plane's, accepted and checked here so that one request carries them all.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ..cost import Context
from ..errors import PlanningError
from ..model import Problem
from ..objective import LATENCY
from ..plan import Plan

SPLITS = ("device-edge", "local", "offload", "multi-device", "on-device", "energy", "dag-mincut")
MAX_WINDOW = 10_000


def run(
    problem: Problem,
    ctx: Context,
    objective: str = LATENCY,
    split: str = "device-edge",
    window: int = 10,
    w_accuracy: float = 1.0,
    w_latency: float = 0.5,
    w_energy: float = 0.0,
    latency_ref_s: float = 0.1,
) -> Plan:
    if split not in SPLITS:
        raise PlanningError(f"qoe-bandit: split must be one of {', '.join(SPLITS)}, not {split!r}")
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW:
        raise PlanningError(f"qoe-bandit: window must be a whole number of frames, 1 to {MAX_WINDOW}")
    weights = {"w_accuracy": w_accuracy, "w_latency": w_latency, "w_energy": w_energy}
    for name, value in {**weights, "latency_ref_s": latency_ref_s}.items():
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise PlanningError(f"qoe-bandit: {name} must be a number >= 0, not {value!r}")
    if latency_ref_s <= 0:
        raise PlanningError("qoe-bandit: latency_ref_s must be above 0 (a frame's latency is judged by it)")
    from . import get_strategy

    inner = get_strategy(split).load()(problem, ctx, objective=objective)
    note = f"the variant is learned per device (qoe-bandit, a choice per {window} frames); the split: {split}"
    return replace(inner, strategy="qoe-bandit", notes=(*inner.notes, note))
