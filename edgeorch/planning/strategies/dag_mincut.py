"""``dag-mincut``: the DADS minimum s-t cut for a device-edge split of a model DAG (Hu et al., INFOCOM 2019).

Flow graph per edge device e: source s = the device side, sink t = the edge side.
  s -> v : e's time for v (paid when v runs on the edge), plus returning v's result if v is an output;
  v -> t : the device's time for v (paid when v stays), plus sending v's result if v is an output;
  v -> aux(v) : transfer of v's output device -> edge, paid once however many consumers it has;
  aux(v) -> c and c -> v : infinite, so a tensor never flows back from the edge to the device.
Graph inputs (nodes without producers) are pinned to the device (s -> v infinite).
Queueing waits are fixed costs of *using* a device, which a cut cannot express: the min cut (plus both
waits) is compared with all-local and full offload, which together make the optimum exact.

By an energy objective the same graph is weighted in the source's joules (its busy power over what it
computes, its idle power over what it waits for, its radio per byte and second of what it sends and
receives), and by joules + price x seconds for a few prices (towards a deadline); the candidates — those
cuts, the latency cut, all-local and full offload, for every edge — are then ranked by their exact
``plan_energy`` (``objective.choose``). The latency cut is among them, so ``energy_under_deadline`` meets the
deadline whenever a partition can.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..cost import INF, Context
from ..energy import radio
from ..errors import PlanningError
from ..maxflow import FlowGraph
from ..model import DagNode, Problem
from ..objective import LATENCY, Option, choose, source_joules
from ..plan import Alternative, CutTensor, Plan, Stage

PRICES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0)  # x the source's busy W: joules + price x seconds


@dataclass(frozen=True)
class Weights:
    """The cut graph's costs per node: on the edge (and its result back), on the device (and its result),
    and sending its output up."""

    far: dict[str, float]
    far_result: dict[str, float]
    dev: dict[str, float]
    dev_result: dict[str, float]
    up: dict[str, float]


class DagCosts:
    """Per-node times and transfer times of the DAG for the source device and one edge device."""

    def __init__(self, ctx: Context, edge: str) -> None:
        self.ctx, self.edge = ctx, edge
        self.source = ctx.problem.source
        self.nodes: tuple[DagNode, ...] = ctx.problem.model.dag
        names = {n.name for n in self.nodes}
        self.consumers = {n.name: n.consumers for n in self.nodes}
        self.inputs = names - {c for n in self.nodes for c in n.consumers}
        self.dev = {n.name: self._time(n, self.source) for n in self.nodes}
        self.far = {n.name: self._time(n, edge) for n in self.nodes}
        src, far = ctx.origin, ctx.site_index(edge, 0)
        self.up = {n.name: ctx.transfer(src, far, n.output_bytes) for n in self.nodes}
        self.dev_result = {n.name: ctx.transfer(src, ctx.target, n.output_bytes) for n in self.outputs()}
        self.far_result = {n.name: ctx.transfer(far, ctx.target, n.output_bytes) for n in self.outputs()}
        self.dev_wait = ctx.devices[self.source].state.wait
        self.far_wait = ctx.devices[edge].state.wait

    def _time(self, node: DagNode, device: str) -> float:
        if device not in node.times:
            raise PlanningError(f"DAG node {node.name!r} has no time on device {device!r}")
        return node.times[device] * self.ctx.devices[device].state.throttle

    def outputs(self) -> list[DagNode]:
        return [n for n in self.nodes if not n.consumers]

    def latency(self, on_edge: set[str]) -> float:
        """Seconds for a partition (infinite if a tensor flows back or an input leaves the device)."""
        if on_edge & self.inputs or any(c not in on_edge for v in on_edge for c in self.consumers[v]):
            return INF
        total = sum(self.far[v] if v in on_edge else self.dev[v] for v in self.dev)
        total += sum(
            self.up[n.name] for n in self.nodes if n.name not in on_edge and set(n.consumers) & on_edge
        )
        total += sum(self.far_result[v] if v in on_edge else self.dev_result[v] for v in self.dev_result)
        total += self.far_wait if on_edge else 0.0
        return total + (self.dev_wait if set(self.dev) - on_edge - self.inputs else 0.0)

    def seconds(self) -> Weights:
        return Weights(self.far, self.far_result, self.dev, self.dev_result, self.up)

    def joules(self, price: float = 0.0) -> Weights:
        """The source's joules (+ ``price`` x seconds) per node: busy W over its own compute, idle W over
        the rest, its radio over what it sends up and receives back."""
        power = self.ctx.devices[self.source].power
        if power is None:
            raise PlanningError("the source device has no power model: its energy is unknown")
        idle, busy = power.idle_w + price, power.busy_w + price
        up_link = self.ctx.links.get((self.source, self.edge))
        back_link = self.ctx.links.get((self.edge, self.source))

        def sent(name: str) -> float:
            if up_link is None:
                return INF
            model, node = radio(up_link.kind), self.node(name)
            per_bit = model.alpha_up_w_per_mbps * 8e-6 / (1.0 - up_link.loss)
            return (idle + model.beta_w) * self.up[name] + per_bit * node.output_bytes

        def returned(name: str) -> float:
            seconds = self.far_result[name]
            if back_link is None or self.ctx.problem.result_device != self.source:
                return idle * seconds
            model, node = radio(back_link.kind), self.node(name)
            per_bit = model.alpha_down_w_per_mbps * 8e-6 / (1.0 - back_link.loss)
            return (idle + model.beta_w) * seconds + per_bit * node.output_bytes

        return Weights(
            {v: idle * t for v, t in self.far.items()},
            {v: returned(v) for v in self.far_result},
            {v: busy * t for v, t in self.dev.items()},
            {v: idle * t for v, t in self.dev_result.items()},
            {v: sent(v) for v in self.up},
        )

    def node(self, name: str) -> DagNode:
        return next(n for n in self.nodes if n.name == name)

    def min_cut(self, weights: Weights | None = None) -> set[str]:
        """The edge side of the DADS minimum s-t cut (without waits), in seconds or in ``weights``."""
        w = weights or self.seconds()
        index = {n.name: k + 2 for k, n in enumerate(self.nodes)}
        graph = FlowGraph(2 + 2 * len(self.nodes))
        for k, n in enumerate(self.nodes):
            v = index[n.name]
            graph.add_edge(
                0, v, INF if n.name in self.inputs else w.far[n.name] + w.far_result.get(n.name, 0)
            )
            graph.add_edge(v, 1, w.dev[n.name] + w.dev_result.get(n.name, 0.0))
            aux = 2 + len(self.nodes) + k
            if n.consumers:
                graph.add_edge(v, aux, w.up[n.name])
            for c in n.consumers:
                graph.add_edge(aux, index[c], INF)
                graph.add_edge(index[c], v, INF)
        device_side = graph.min_cut(0, 1)
        return {n.name for n in self.nodes if index[n.name] not in device_side}


def best_partition(costs: DagCosts) -> tuple[float, set[str], list[tuple[str, float]]]:
    """Exact optimum for one edge: the min cut against all-local and full offload (waits are fixed costs)."""
    offload = set(costs.dev) - costs.inputs
    options = [("min cut", costs.min_cut()), ("local", set()), ("offload", offload)]
    scored = [(costs.latency(part), label, part) for label, part in options]
    lat, _, part = min(scored, key=lambda s: s[0])
    return lat, part, [(label, t) for t, label, _ in scored]


def dag_plan(costs: DagCosts, on_edge: set[str], alternatives: list[Alternative]) -> Plan:
    ctx = costs.ctx
    order = [n.name for n in costs.nodes]
    here = [v for v in order if v not in on_edge]
    there = [v for v in order if v in on_edge]
    cuts = [
        CutTensor(n.name, costs.source, costs.edge, n.output_bytes)
        for n in costs.nodes
        if n.name not in on_edge and set(n.consumers) & on_edge
    ]
    unit = ctx.devices[costs.source].units[0].name
    stages = [
        Stage(
            costs.source,
            unit,
            None,
            None,
            sum(costs.dev[v] for v in here),
            sum(costs.up[c.name] for c in cuts) + sum(costs.dev_result.get(v, 0.0) for v in here),
            costs.dev_wait if set(here) - costs.inputs else 0.0,
            tuple(here),
        ),
    ]
    if there:
        stages.append(
            Stage(
                costs.edge,
                ctx.devices[costs.edge].units[0].name,
                None,
                None,
                sum(costs.far[v] for v in there),
                sum(costs.far_result.get(v, 0.0) for v in there),
                costs.far_wait,
                tuple(there),
            )
        )
    latency = sum(s.time for s in stages)
    return Plan(
        "dag-mincut",
        tuple(stages),
        0.0,
        latency,
        1.0 / latency if latency > 0 else INF,
        ctx.problem.deadline,
        tuple(cuts),
        tuple(alternatives),
    )


def run(problem: Problem, ctx: Context, objective: str = LATENCY) -> Plan:
    if not problem.model.dag:
        raise PlanningError("dag-mincut needs the model's DAG")
    if not ctx.edges():
        raise PlanningError("no edge device is online")
    if objective != LATENCY:
        return by_objective(ctx, objective)
    results = []
    for edge in ctx.edges():
        costs = DagCosts(ctx, edge)
        lat, part, scored = best_partition(costs)
        results.append((lat, costs, part, scored))
    results.sort(key=lambda r: r[0])
    lat, costs, part, _ = results[0]
    if lat == INF:
        raise PlanningError("no edge device is reachable for the DAG")
    alts = [Alternative(f"{label} with {r[1].edge}", t) for r in results for label, t in r[3]]
    alts = sorted(
        (a for a in alts if a.latency > lat or a.description.split(" with ")[1] != costs.edge),
        key=lambda a: a.latency,
    )[:3]
    return dag_plan(costs, part, alts)


def by_objective(ctx: Context, objective: str) -> Plan:
    """The candidate partitions of every edge (see the module docstring) ranked by ``objective``."""
    options: list[Option[tuple[DagCosts, frozenset[str]]]] = []
    seen: set[tuple[str, frozenset[str]]] = set()
    for edge in ctx.edges():
        costs = DagCosts(ctx, edge)
        power = ctx.devices[ctx.problem.source].power
        busy = power.busy_w if power is not None else 1.0
        weights = [costs.seconds(), costs.joules(), *(costs.joules(busy * k) for k in PRICES)]
        parts = [costs.min_cut(w) for w in weights] + [set(), set(costs.dev) - costs.inputs]
        for part in parts:
            key = (edge, frozenset(part))
            latency = costs.latency(part)
            if key in seen or latency == INF:
                continue
            seen.add(key)
            joules = source_joules(ctx, dag_plan(costs, part, []))
            options.append(Option(latency, joules, (costs, frozenset(part))))
    if not options:
        raise PlanningError("no edge device is reachable for the DAG")
    chosen, notes = choose(options, objective, ctx.problem.deadline)
    ranked = sorted(options, key=lambda o: o.key(objective))
    alts = [
        Alternative(f"{len(o.item[1])} nodes on {o.item[0].edge}", o.latency, energy=o.joules)
        for o in ranked
        if o is not chosen
    ][:3]
    best, on_edge = chosen.item
    plan = dag_plan(best, set(on_edge), alts)
    return replace(plan, notes=(*plan.notes, *notes))
