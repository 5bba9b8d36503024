"""The cost model shared by every strategy (RESEARCH.md, "Latency of a split").

A *site* is one processing unit of one online device. A chain plan is an *assignment*: the site of every
block. Its latency is the input transfer from the source's default unit, then for each stage (a maximal run
of blocks on one site) its queueing wait (when it starts on a device other than the previous stage's),
its compute (measured times x throttle; a stage after a cut also pays the cut's ``cut_penalty``, the layout
conversions and broken fusions of splitting there: catalog.fusion) and its outgoing transfer (to the next
stage, or the result to the result device's default unit). Transfers between units of one device are
shared-memory copies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .errors import PlanningError
from .model import Block, Device, Link, OpFeatures, Problem
from .plan import Alternative, CutTensor, Plan, Stage

INF = math.inf


class BlockPredictor(Protocol):
    """Anything that predicts a block's seconds on a device class from its op features."""

    def predict(self, device_key: str, features: Mapping[str, OpFeatures]) -> float: ...


@dataclass(frozen=True)
class Site:
    """One processing unit of one device."""

    device: str
    unit: str
    unit_index: int

    @property
    def label(self) -> str:
        return f"{self.device}/{self.unit}"


class Context:
    """A problem resolved for planning: online devices, sites, throttled block times, link lookup."""

    def __init__(self, problem: Problem, predictor: BlockPredictor | None = None) -> None:
        self.problem = problem
        self.blocks: tuple[Block, ...] = problem.model.blocks
        self.devices = {d.id: d for d in problem.devices if d.online}
        self._check_endpoints(problem)
        self.sites = [Site(d.id, u.name, k) for d in self.devices.values() for k, u in enumerate(d.units)]
        self.times = [self._site_times(s, predictor) for s in self.sites]
        self.prefix = [_prefix(t) for t in self.times]
        self.mem_prefix = _prefix([b.memory for b in self.blocks])
        self.links = _link_table(problem.links)
        self.origin = self.site_index(problem.source, 0)
        self.target = self.site_index(problem.result_device, 0)

    def _check_endpoints(self, problem: Problem) -> None:
        known = {d.id for d in problem.devices}
        for role, dev in (("source", problem.source), ("result", problem.result_device)):
            if dev not in known:
                raise PlanningError(f"unknown {role} device {dev!r}")
            if dev not in self.devices:
                raise PlanningError(f"the {role} device {dev!r} is offline")

    def _site_times(self, site: Site, predictor: BlockPredictor | None) -> list[float]:
        device = self.devices[site.device]
        unit = device.units[site.unit_index]
        if not self.blocks:
            return []
        if unit.times is not None:
            if len(unit.times) != len(self.blocks):
                raise PlanningError(
                    f"{site.label}: {len(unit.times)} block times for {len(self.blocks)} blocks"
                )
            base = list(unit.times)
        elif predictor is not None:
            key = unit.profile_key or f"{device.name or device.id}/{unit.name}"
            base = [predictor.predict(key, b.features) for b in self.blocks]
        else:
            raise PlanningError(f"{site.label} has no block profile and no latency predictor was given")
        return [t * device.state.throttle for t in base]

    def site_index(self, device: str, unit_index: int) -> int:
        for i, s in enumerate(self.sites):
            if s.device == device and s.unit_index == unit_index:
                return i
        raise PlanningError(f"no unit {unit_index} on device {device!r}")

    def device_sites(self, device: str) -> list[int]:
        return [i for i, s in enumerate(self.sites) if s.device == device]

    def edges(self) -> list[str]:
        """Online devices other than the source."""
        return [d for d in self.devices if d != self.problem.source]

    def wait(self, site: int) -> float:
        return self.devices[self.sites[site].device].state.wait

    def compute(self, site: int, first: int, last: int) -> float:
        """Seconds for blocks first..last (inclusive) on a site."""
        return self.prefix[site][last + 1] - self.prefix[site][first]

    def cut_cost(self, site: int, i: int) -> float:
        """Extra seconds on ``site`` for starting a stage after a cut after block ``i`` (the block's
        ``cut_penalty`` of the whole model's time there); none at the chain's ends."""
        if not 0 <= i < len(self.blocks) - 1:
            return 0.0
        return self.blocks[i].cut_penalty * self.prefix[site][-1]

    def memory(self, first: int, last: int) -> float:
        return self.mem_prefix[last + 1] - self.mem_prefix[first]

    def fits(self, device: str, need: float) -> bool:
        limit = self.devices[device].memory_limit
        return limit is None or need <= limit

    def transfer_coeffs(self, a: int, b: int) -> tuple[float, float]:
        """(fixed seconds, seconds per byte) to move a tensor from site a to site b."""
        sa, sb = self.sites[a], self.sites[b]
        if a == b:
            return 0.0, 0.0
        if sa.device == sb.device:
            dev = self.devices[sa.device]
            return dev.shm_latency, 1.0 / dev.shm_bandwidth
        link = self.links.get((sa.device, sb.device))
        if link is None:
            return INF, INF
        scale = 1.0 / (1.0 - link.loss)
        return link.rtt / 2 * scale, scale / link.bandwidth

    def transfer(self, a: int, b: int, nbytes: float) -> float:
        fixed, per_byte = self.transfer_coeffs(a, b)
        return fixed + per_byte * nbytes if per_byte != INF else INF

    def activation(self, i: int) -> float:
        """Bytes of the tensor entering block i (the input for i = 0)."""
        return self.problem.model.input_bytes if i == 0 else self.blocks[i - 1].output_bytes


def _prefix(values: Sequence[float]) -> list[float]:
    out = [0.0]
    for v in values:
        out.append(out[-1] + v)
    return out


def _link_table(links: Sequence[Link]) -> dict[tuple[str, str], Link]:
    table: dict[tuple[str, str], Link] = {}
    for link in links:  # a link given for one direction serves both, unless the reverse is given too
        table.setdefault((link.b, link.a), link)
    for link in links:
        table[(link.a, link.b)] = link
    return table


def runs(assignment: Sequence[int]) -> list[tuple[int, int, int]]:
    """Maximal runs (site, first, last) of an assignment."""
    out: list[tuple[int, int, int]] = []
    for i, site in enumerate(assignment):
        if out and out[-1][0] == site:
            out[-1] = (site, out[-1][1], i)
        else:
            out.append((site, i, i))
    return out


def memory_use(ctx: Context, assignment: Sequence[int]) -> dict[str, float]:
    """Summed memory need of the blocks each device holds."""
    use: dict[str, float] = {}
    for i, site in enumerate(assignment):
        dev = ctx.sites[site].device
        use[dev] = use.get(dev, 0.0) + ctx.blocks[i].memory
    return use


def respects_memory(ctx: Context, assignment: Sequence[int]) -> bool:
    return all(ctx.fits(dev, need) for dev, need in memory_use(ctx, assignment).items())


def stages_of(ctx: Context, assignment: Sequence[int]) -> tuple[list[Stage], float, list[CutTensor]]:
    """Stages, input transfer and cut tensors of a chain assignment under the cost model."""
    parts = runs(assignment)
    stages: list[Stage] = []
    cuts: list[CutTensor] = []
    for k, (site, first, last) in enumerate(parts):
        nxt = parts[k + 1][0] if k + 1 < len(parts) else ctx.target
        nbytes = ctx.blocks[last].output_bytes if k + 1 < len(parts) else ctx.problem.model.result_bytes
        new_device = k == 0 or ctx.sites[parts[k - 1][0]].device != ctx.sites[site].device
        s = ctx.sites[site]
        stages.append(
            Stage(
                device=s.device,
                unit=s.unit,
                first_block=first,
                last_block=last,
                compute=ctx.compute(site, first, last) + (ctx.cut_cost(site, first - 1) if k else 0.0),
                transfer=ctx.transfer(site, nxt, nbytes),
                queue=ctx.wait(site) if new_device else 0.0,
            )
        )
        if k + 1 < len(parts):
            cuts.append(CutTensor(ctx.blocks[last].name, s.label, ctx.sites[nxt].label, nbytes))
    input_transfer = ctx.transfer(ctx.origin, parts[0][0], ctx.problem.model.input_bytes)
    return stages, input_transfer, cuts


def latency_of(ctx: Context, assignment: Sequence[int]) -> float:
    """End-to-end seconds of a chain assignment (infinite when it breaks a memory limit or a link is
    missing)."""
    if not respects_memory(ctx, assignment):
        return INF
    stages, input_transfer, _ = stages_of(ctx, assignment)
    return input_transfer + sum(s.time for s in stages)


def describe(ctx: Context, assignment: Sequence[int]) -> str:
    """A short human label: "jetson/gpu[0-3] -> edge1/cpu[4-9]"."""
    return " -> ".join(f"{ctx.sites[s].label}[{a}-{b}]" for s, a, b in runs(assignment))


def chain_plan(
    ctx: Context,
    strategy: str,
    assignment: Sequence[int],
    alternatives: Sequence[Alternative] = (),
    notes: Sequence[str] = (),
) -> Plan:
    """A Plan from a chain assignment, its timings recomputed by the cost model."""
    if not respects_memory(ctx, assignment):
        raise PlanningError("the memory limits exclude every placement")
    stages, input_transfer, cuts = stages_of(ctx, assignment)
    latency = input_transfer + sum(s.time for s in stages)
    if math.isinf(latency):
        raise PlanningError("no placement is reachable: a link between the chosen devices is missing")
    return Plan(
        strategy=strategy,
        stages=tuple(stages),
        input_transfer=input_transfer,
        latency=latency,
        throughput=1.0 / latency if latency > 0 else INF,
        deadline=ctx.problem.deadline,
        cut_tensors=tuple(cuts),
        alternatives=tuple(alternatives),
        notes=tuple(notes),
    )


def top_alternatives(candidates: Sequence[Alternative], chosen: str, count: int = 3) -> list[Alternative]:
    """The best few finite candidates other than the chosen one, fastest first."""
    seen = {chosen}
    out: list[Alternative] = []
    for alt in sorted(candidates, key=lambda a: a.latency):
        if alt.description not in seen and not math.isinf(alt.latency):
            seen.add(alt.description)
            out.append(alt)
        if len(out) == count:
            break
    return out


def device_of(ctx: Context, device: str) -> Device:
    if device not in ctx.devices:
        raise PlanningError(f"device {device!r} is unknown or offline")
    return ctx.devices[device]
