"""``qoe-bandit``: the model variant is learned per device (the QoE bandit, ``planning.qoe``; the control
plane's side is ``edgeorch.jobs.services.selection``), the split of whichever variant runs is planned by the
``split`` strategy (default ``device-edge``).

Here, where one model is planned, it is that split strategy's plan; the weights of the QoE (``w_accuracy``,
``w_latency``, ``w_energy``, ``latency_ref_s``) and the ``window`` of frames each choice is judged over are
the control plane's, accepted and checked here so that one request carries them all.

With ``split: ans`` the two learners compose (docs/learning.md, "Both at once"): the variant is the QoE
bandit's, and each variant's cut is learned per frame at the source by ``ans`` (its ``k``, ``edge`` and
``prune`` given here), the plan carrying that variant's arms; ``ans`` learns delays, so the objective is
latency.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ..cost import Context
from ..errors import PlanningError
from ..model import Problem
from ..objective import LATENCY
from ..plan import Plan

SPLITS = ("device-edge", "ans", "local", "offload", "multi-device", "on-device", "energy", "dag-mincut")
MAX_WINDOW = 10_000
ANS_PARAMS = ("k", "edge", "prune", "beside")  # ans's own, passed on with split ans


def check(params: dict) -> None:
    """The split named and what goes with it: ``k``, ``edge``, ``prune`` and ``beside`` are ans's (split
    ans only), and ans takes objective latency only."""
    split = params.get("split", "device-edge")
    if split not in SPLITS:
        raise PlanningError(f"qoe-bandit: split must be one of {', '.join(SPLITS)}, not {split!r}")
    given = [name for name in ANS_PARAMS if name in params]
    if given and split != "ans":
        raise PlanningError(
            f"qoe-bandit: {' and '.join(given)} {'is' if len(given) == 1 else 'are'} ans's: give split ans "
            f"(the cut learned per frame for each variant), not {split}"
        )
    objective = params.get("objective", LATENCY)
    if split == "ans" and objective != LATENCY:
        raise PlanningError(
            f"qoe-bandit with split ans learns delays: its objective is latency, not {objective}"
        )


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
    k: int | None = None,
    edge: str | None = None,
    prune: bool | None = None,
    beside: bool | None = None,
) -> Plan:
    given = (("k", k), ("edge", edge), ("prune", prune), ("beside", beside))
    ans = {n: v for n, v in given if v is not None}
    check({"split": split, "objective": objective, **ans})
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW:
        raise PlanningError(f"qoe-bandit: window must be a whole number of frames, 1 to {MAX_WINDOW}")
    weights = {"w_accuracy": w_accuracy, "w_latency": w_latency, "w_energy": w_energy}
    for name, value in {**weights, "latency_ref_s": latency_ref_s}.items():
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise PlanningError(f"qoe-bandit: {name} must be a number >= 0, not {value!r}")
    if latency_ref_s <= 0:
        raise PlanningError("qoe-bandit: latency_ref_s must be above 0 (a frame's latency is judged by it)")
    from . import get_strategy

    inner = get_strategy(split).load()(problem, ctx, objective=objective, **ans)
    note = f"the variant is learned per device (qoe-bandit, a choice per {window} frames); the split: {split}"
    return replace(inner, strategy="qoe-bandit", notes=(*inner.notes, note))
