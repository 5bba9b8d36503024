"""The strategy registry: name -> description, module (imported on first use) and parameters.

Every module has ``run(problem, ctx, objective, **params) -> Plan``: every strategy takes an ``objective``
(``planning.objective``: latency, energy, energy_under_deadline), ``objective`` its default; a strategy that
learns delays (``ans``) takes latency alone (``objectives``). A module may also have ``check(params)``: the
checks of its parameters that need no fleet (``StrategyInfo.check``; a request is refused on them before
anything is planned). Each parameter is a ``Param`` (its type, default, choices and what it does): the API
(``GET /api/strategies/``), the run form and the scenarios' check read them from ``STRATEGIES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from ..errors import PlanningError

ParamType = Literal["int", "float", "bool", "str", "device", "devices"]


@dataclass(frozen=True)
class Param:
    """One parameter of a strategy: ``type`` (``bool``: true or false; ``device``: a device id; ``devices``: a
    list of them),
    ``default`` (None: none, or the strategy chooses), ``choices`` (the only values it takes, if listed) and
    what it does (``help``)."""

    name: str
    type: ParamType
    help: str
    default: Any = None
    choices: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "choices": list(self.choices) if self.choices is not None else None,
            "help": self.help,
        }


@dataclass(frozen=True)
class StrategyInfo:
    """A registered strategy: its one-line description, module and parameters."""

    name: str
    description: str
    module: str
    params: tuple[Param, ...] = ()  # its own (every strategy also takes ``objective``, not listed here)
    objective: str = "latency"  # the default objective
    objectives: tuple[str, ...] | None = None  # the only objectives it takes (None: every one)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def load(self) -> Callable[..., Any]:
        """The strategy's ``run`` function."""
        run: Callable[..., Any] = importlib.import_module(f"{__name__}.{self.module}").run
        return run

    def check(self, params: dict[str, Any]) -> None:
        """``PlanningError`` for parameters the strategy can never plan with (names it does not take, and
        its module's own ``check``: values and combinations); the fleet is not looked at."""
        unknown = set(params) - {*self.param_names, "objective"}
        if unknown:
            raise PlanningError(f"{self.name} takes no parameter {', '.join(sorted(unknown))}")
        check = getattr(importlib.import_module(f"{__name__}.{self.module}"), "check", None)
        if check is not None:
            check(params)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params": list(self.param_names),
            "parameters": [p.to_dict() for p in self.params],
            "objective": self.objective,
            "objectives": list(self.objectives) if self.objectives is not None else None,
        }


# Parameters more than one strategy takes.
_K_ANS = Param("k", "int", "only the k cuts predicted fastest are arms (0: every undominated cut)", 0)
_EDGE_ANS = Param("edge", "device", "the edge the cuts go to (default: the one predicted fastest)")
_PRUNE_ANS = Param(
    "prune", "bool", "drop the dominated cuts from the arms (false: every reachable cut is an arm)", True
)
_BESIDE_ANS = Param(
    "beside",
    "bool",
    "look at the edge beside local frames: the device answers, the same frame goes on the arm looked at "
    "(a look costs traffic, no frame's time; false: every look is a frame, the paper's)",
    True,
)


_ALL = (
    StrategyInfo("local", "Everything on the source device, on its fastest processing unit.", "local"),
    StrategyInfo("offload", "The raw input to the best single edge node, the result back.", "offload"),
    StrategyInfo(
        "split",
        "A fixed cut (blocks before `cut` on the source) to a named device.",
        "split",
        (
            Param(
                "cut", "int", "blocks before the cut run on the source (0: none, the number of blocks: all)"
            ),
            Param("device", "device", "the device that runs the blocks from the cut on"),
        ),
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
        (
            Param("k", "int", "at most this many stages (default: as many as the chain has devices)"),
            Param("devices", "devices", "the devices the stages may use (default: every one online)"),
        ),
    ),
    StrategyInfo(
        "dag-mincut", "The optimal device-edge split of a DAG model by minimum s-t cut (DADS).", "dag_mincut"
    ),
    StrategyInfo(
        "ans",
        "Learns the cut per frame at the source (ANS: the muLinUCB bandit over the cuts to one edge, from "
        "the delays it measures, no edge profiling); `k`: only the k cuts predicted fastest, `edge`: which "
        "edge, `prune`: false keeps the dominated cuts, `beside`: false makes every look at the edge a "
        "frame.",
        "ans",
        (_K_ANS, _EDGE_ANS, _PRUNE_ANS, _BESIDE_ANS),
        objectives=("latency",),
    ),
    StrategyInfo(
        "qoe-bandit",
        "Learns per device which variant of the model (narrower, quantised...) gives the best quality of "
        "experience (LinUCB on the device's throttle and load; accuracy, latency, energy and users' scores); "
        "`split` splits each variant: a planner's split, or `ans`, which learns the cut per frame at the "
        "source (its `k`, `edge`, `prune` and `beside`).",
        "qoe_bandit",
        (
            Param(
                "split",
                "str",
                "how each variant is split: a planner's strategy, or ans (learned per frame, per variant)",
                "device-edge",
                (
                    "device-edge",
                    "ans",
                    "local",
                    "offload",
                    "multi-device",
                    "on-device",
                    "energy",
                    "dag-mincut",
                ),
            ),
            Param("window", "int", "frames each variant's choice is judged over", 10),
            Param("w_accuracy", "float", "the QoE's weight of accuracy (times the answered share)", 1.0),
            Param("w_latency", "float", "the QoE's weight of mean latency / latency_ref_s", 0.5),
            Param("w_energy", "float", "the QoE's weight of the source's joules per frame", 0.0),
            Param("latency_ref_s", "float", "the latency the QoE measures latency in (seconds)", 0.1),
            replace(
                _K_ANS,
                help="with split ans: only the k cuts predicted fastest are arms (0: every undominated cut)",
            ),
            replace(
                _EDGE_ANS, help="with split ans: the edge the cuts go to (default: the one predicted fastest)"
            ),
            replace(
                _PRUNE_ANS,
                help="with split ans: drop the dominated cuts from the arms (false: every reachable cut)",
            ),
            replace(_BESIDE_ANS, help="with split ans: " + _BESIDE_ANS.help),
        ),
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
