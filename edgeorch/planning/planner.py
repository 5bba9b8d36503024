"""The planner's entry point."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from .cost import BlockPredictor, Context
from .energy import plan_energy
from .errors import PlanningError
from .model import Problem
from .objective import check
from .plan import Plan
from .strategies import get_strategy


def plan(
    problem: Problem, strategy: str = "multi-device", predictor: BlockPredictor | None = None, **params: Any
) -> Plan:
    """Plan ``problem`` with the named strategy; ``params`` go to the strategy (e.g. cut=, device=, k=), and
    every strategy takes ``objective`` (``objective.OBJECTIVES``; default: the strategy's own)."""
    info = get_strategy(strategy)
    objective = check(str(params.pop("objective", None) or info.objective))
    if not problem.model.blocks and strategy != "dag-mincut":
        raise PlanningError("the model has no blocks")
    unknown = set(params) - set(info.param_names)
    if unknown:
        raise PlanningError(f"{strategy} takes no parameter {', '.join(sorted(unknown))}")
    run = info.load()
    try:
        inspect.signature(run).bind(problem, None, **params)
    except TypeError as exc:  # a required parameter is missing
        raise PlanningError(f"{strategy}: {exc}") from None
    ctx = Context(problem, predictor)
    result: Plan = run(problem, ctx, objective=objective, **params)
    return dataclasses.replace(result, energy=plan_energy(ctx, result), objective=objective)
