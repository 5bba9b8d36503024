"""edgeorch.planning — the pure-Python planner: where each part of a model runs.

No Django here: it takes plain dataclasses and returns plain plans (``Plan.to_dict()`` is JSON-safe;
inputs have ``from_dict`` for what-if overrides). Standard library plus numpy only.

Inputs (``model.py``)
    ``Problem(model, devices, links, source, result=None, deadline=None)``
    ``Model(name, blocks, input_bytes, result_bytes, dag=())`` — blocks are the chain between consecutive cut
    points: ``Block(index, name, macs, output_bytes, memory, features)``; ``dag`` holds
    ``DagNode(name, times={device_id: s}, output_bytes, consumers)`` for ``dag-mincut``.
    ``Device(id, name, online, units, state, memory_limit, shm_bandwidth, shm_latency)``;
    ``Unit(name, times=(per-block s...), profile_key)`` — the first unit is the default one, where captured
    input and wanted results live; ``DeviceState(throttle, queue_length, service_time)``.
    ``Link(a, b, bandwidth, rtt, jitter, loss)`` — symmetric unless the reverse is given.

Conventions
    Units: seconds, bytes, bytes/s. Compute time = measured (or predicted) time x ``throttle`` (>= 1.0 is
    slower). A stage starting on a device (other than the previous stage's) first waits
    ``queue_length x service_time``. Network transfer = (rtt/2 + bytes/bandwidth) / (1 - loss) (expected
    resends); between units of one device = shm_latency + bytes/shm_bandwidth; zero on the same unit.
    A device with ``memory_limit`` never holds blocks whose summed ``memory`` exceeds it; offline devices are
    never used (an offline source or result device is a ``PlanningError``).

Strategies (``STRATEGIES``; ``plan(problem, strategy, predictor=None, **params) -> Plan``)
    local, offload, split (cut=, device=), device-edge (Neurosurgeon argmin), multi-device (chain DP,
    O(blocks x sites^2)), on-device (the DP over the source's units), pipeline (k=, devices=; linear
    partition for frames/s), dag-mincut (DADS min-cut with Dinic max-flow), adaptive (one-shot: best of
    device-edge and multi-device), energy (the cut costing the source the fewest joules).

Energy (``energy.py``; docs/energy.md)
    ``Device.power = Power(idle_w, busy_w)``, ``Link.kind`` (wifi, lte, ethernet: ``RADIOS``),
    ``Problem.radio_wakeup``; ``planner.plan`` sets ``Plan.energy = plan_energy(ctx, plan)``: per device
    compute, radio and idle joules, the source's share per stage. Strategy ``energy``: Neurosurgeon's
    energy mode (the cut costing the source the fewest joules, within the deadline).

Objectives (``objective.py``)
    Every strategy takes ``objective`` (``OBJECTIVES``): latency (default), energy (the source's joules),
    energy_under_deadline (the fewest joules within ``Problem.deadline``, else the fastest);
    ``Plan.objective`` says which it minimised.

Plans (``plan.py``)
    ``Plan(strategy, stages, input_transfer, latency, throughput, deadline, cut_tensors, alternatives,
    notes)`` with ``latency = input_transfer + sum(stage.queue + stage.compute + stage.transfer)``.

Prediction (``predict.py``)
    ``LatencyPredictor().fit(profiles)`` — per op type linear regression per device class, with device-speed
    scaling as the fallback; ``evaluate_mape(train, test)``.
"""

from . import objective
from .cost import BlockPredictor, Context
from .energy import RADIOS, PlanEnergy, Radio, plan_energy
from .errors import PlanningError
from .model import Block, DagNode, Device, DeviceState, Link, Model, OpFeatures, Power, Problem, Unit
from .objective import OBJECTIVES
from .plan import Alternative, CutTensor, Plan, Stage
from .planner import plan
from .predict import LatencyPredictor, Profile, evaluate_mape
from .strategies import STRATEGIES, StrategyInfo

__all__ = [
    "OBJECTIVES",
    "RADIOS",
    "STRATEGIES",
    "Alternative",
    "Block",
    "BlockPredictor",
    "Context",
    "CutTensor",
    "DagNode",
    "Device",
    "DeviceState",
    "LatencyPredictor",
    "Link",
    "Model",
    "OpFeatures",
    "Plan",
    "PlanEnergy",
    "PlanningError",
    "Power",
    "Problem",
    "Profile",
    "Radio",
    "Stage",
    "StrategyInfo",
    "Unit",
    "evaluate_mape",
    "objective",
    "plan",
    "plan_energy",
]
