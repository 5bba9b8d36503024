"""The strategy registry: name -> description and module, each module imported on first use.

Every module has ``run(problem, ctx, objective, **params) -> Plan``: every strategy takes an ``objective``
(``planning.objective``: latency, energy, energy_under_deadline), ``objective`` its default; a strategy that
learns delays (``ans``) takes latency alone (``objectives``). The UI's
choices come from ``STRATEGIES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import PlanningError


@dataclass(frozen=True)
class StrategyInfo:
    """A registered strategy: its one-line description, module and parameters."""

    name: str
    description: str
    module: str
    params: tuple[str, ...] = ()  # its own (every strategy also takes ``objective``, not listed here)
    objective: str = "latency"  # the default objective
    objectives: tuple[str, ...] | None = None  # the only objectives it takes (None: every one)

    def load(self) -> Callable[..., Any]:
        """The strategy's ``run`` function."""
        run: Callable[..., Any] = importlib.import_module(f"{__name__}.{self.module}").run
        return run

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params": list(self.params),
            "objective": self.objective,
            "objectives": list(self.objectives) if self.objectives is not None else None,
        }


_ALL = (
    StrategyInfo("local", "Everything on the source device, on its fastest processing unit.", "local"),
    StrategyInfo("offload", "The raw input to the best single edge node, the result back.", "offload"),
    StrategyInfo(
        "split",
        "A fixed cut (blocks before `cut` on the source) to a named device.",
        "split",
        ("cut", "device"),
    ),
    StrategyInfo(
        "device-edge",
        "The optimal single cut between the source and the best edge (Neurosurgeon).",
        "device_edge",
    ),
    StrategyInfo(
        "energy",
        "The single cut (or all-local) costing the source device the fewest joules, within the deadline if "
        "one is given (Neurosurgeon's energy mode): device-edge by objective energy_under_deadline.",
        "energy",
        objective="energy_under_deadline",
    ),
    StrategyInfo(
        "multi-device",
        "The optimal placement of the block chain over any devices and units (DP), by latency or by the "
        "source device's joules.",
        "multi_device",
    ),
    StrategyInfo(
        "on-device", "The optimal split over the source device's own processing units.", "on_device"
    ),
    StrategyInfo(
        "pipeline",
        "Contiguous stages over up to k devices maximising frames/s (linear partition).",
        "pipeline",
        ("k", "devices"),
    ),
    StrategyInfo(
        "dag-mincut", "The optimal device-edge split of a DAG model by minimum s-t cut (DADS).", "dag_mincut"
    ),
    StrategyInfo(
        "ans",
        "Learns the cut per frame at the source (ANS: the muLinUCB bandit over the cuts to one edge, from "
        "the delays it measures, no edge profiling); `k`: only the k cuts predicted fastest, `edge`: which "
        "edge.",
        "ans",
        ("k", "edge"),
        objectives=("latency",),
    ),
    StrategyInfo(
        "qoe-bandit",
        "Learns per device which variant of the model (narrower, quantised...) gives the best quality of "
        "experience (LinUCB on the device's throttle and load; accuracy, latency, energy and users' scores); "
        "`split` plans each variant's split.",
        "qoe_bandit",
        ("split", "window", "w_accuracy", "w_latency", "w_energy", "latency_ref_s"),
    ),
    StrategyInfo(
        "adaptive",
        "Re-plans as conditions change; one-shot: the best of device-edge and multi-device.",
        "adaptive",
    ),
)

STRATEGIES: dict[str, StrategyInfo] = {s.name: s for s in _ALL}


def get_strategy(name: str) -> StrategyInfo:
    """The registered strategy, or a PlanningError naming the known ones."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise PlanningError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
