"""``dag-mincut``: the DADS minimum s-t cut for a device-edge split of a model DAG (Hu et al., INFOCOM 2019).

Flow graph per edge device e: source s = the device side, sink t = the edge side.
  s -> v : e's time for v (paid when v runs on the edge), plus returning v's result if v is an output;
  v -> t : the device's time for v (paid when v stays), plus sending v's result if v is an output;
  v -> aux(v) : transfer of v's output device -> edge, paid once however many consumers it has;
  aux(v) -> c and c -> v : infinite, so a tensor never flows back from the edge to the device.
Graph inputs (nodes without producers) are pinned to the device (s -> v infinite).
Queueing waits are fixed costs of *using* a device, which a cut cannot express: the min cut (plus both
waits) is compared with all-local and full offload, which together make the optimum exact.
"""

from __future__ import annotations

from ..cost import INF, Context
from ..errors import PlanningError
from ..maxflow import FlowGraph
from ..model import DagNode, Problem
from ..plan import Alternative, CutTensor, Plan, Stage


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

    def min_cut(self) -> set[str]:
        """The edge side of the DADS minimum s-t cut (without waits)."""
        index = {n.name: k + 2 for k, n in enumerate(self.nodes)}
        graph = FlowGraph(2 + 2 * len(self.nodes))
        for k, n in enumerate(self.nodes):
            v = index[n.name]
            graph.add_edge(
                0, v, INF if n.name in self.inputs else self.far[n.name] + self.far_result.get(n.name, 0)
            )
            graph.add_edge(v, 1, self.dev[n.name] + self.dev_result.get(n.name, 0.0))
            aux = 2 + len(self.nodes) + k
            if n.consumers:
                graph.add_edge(v, aux, self.up[n.name])
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


def run(problem: Problem, ctx: Context) -> Plan:
    if not problem.model.dag:
        raise PlanningError("dag-mincut needs the model's DAG")
    if not ctx.edges():
        raise PlanningError("no edge device is online")
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
