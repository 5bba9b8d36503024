"""``pipeline``: contiguous stages over a chain of up to k devices, minimising the slowest stage.

The linear partition problem (RESEARCH.md) solved by DP over (stage j, last block i):

    F[j][i] = min_{s <= i} max( F[j-1][s-1],  compute_j(s..i) + transfer(d_j -> d_{j+1}, out_i) )

where compute_j takes the fastest unit of device d_j for the segment, and the last stage sends the result to
the result device. Stages go to a prefix of the device chain (given as ``devices``, or by default the source
then the edges from fastest to slowest, with and without the source). The source's upload of the input to a
first stage elsewhere counts as a stage of its own. Queueing adds to latency, not to the per-frame stage time;
shared-memory copies between units of one device are not counted in a pipeline.

By an energy objective it chooses among the same partitions (the best for each chain and stage count)
the one costing the source the fewest joules per frame (within the deadline, by ``energy_under_deadline``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..cost import INF, Context, device_of
from ..errors import PlanningError
from ..model import Problem
from ..objective import LATENCY, Option, choose, source_joules
from ..plan import Alternative, CutTensor, Plan, Stage


@dataclass(frozen=True)
class Partition:
    """A pipeline: devices[j] runs blocks bounds[j]..bounds[j+1]-1; its bottleneck (s/frame)."""

    devices: tuple[str, ...]
    bounds: tuple[int, ...]
    bottleneck: float


def segment_matrix(ctx: Context, device: str) -> np.ndarray:
    """cost[s, i]: blocks s..i on the device's fastest unit for that segment (inf if s > i or over memory),
    with the penalty of the cut before block s."""
    n = len(ctx.blocks)
    sites = ctx.device_sites(device)
    prefix = np.array([ctx.prefix[k] for k in sites])  # units x (n+1)
    penalty = np.array([[ctx.cut_cost(k, s - 1) for s in range(n)] for k in sites])  # units x n
    cost = (prefix[:, None, 1:] - prefix[:, :n, None] + penalty[:, :, None]).min(axis=0)
    invalid = np.tri(n, n, -1, dtype=bool)
    limit = ctx.devices[device].memory_limit
    if limit is not None:
        mem = np.array(ctx.mem_prefix)
        invalid |= (mem[None, 1:] - mem[:n, None]) > limit
    cost[invalid] = INF
    return cost


def _compute(ctx: Context, site: int, first: int, last: int) -> float:
    """Blocks first..last on a site, with the penalty of the cut before them."""
    return ctx.compute(site, first, last) + ctx.cut_cost(site, first - 1)


def _hop(ctx: Context, a: str, b: str | None) -> tuple[float, float]:
    """Transfer coefficients from device a's default unit to device b's (or to the result)."""
    target = ctx.target if b is None else ctx.site_index(b, 0)
    return ctx.transfer_coeffs(ctx.site_index(a, 0), target)


def _outgoing(ctx: Context, a: str, b: str | None) -> np.ndarray:
    """Outgoing transfer after each block i when the stage on a ends there."""
    fixed, per_byte = _hop(ctx, a, b)
    nbytes = np.array([blk.output_bytes for blk in ctx.blocks])
    if b is None:
        nbytes = np.full(len(ctx.blocks), ctx.problem.model.result_bytes)
    return np.full(len(nbytes), INF) if per_byte == INF else fixed + per_byte * nbytes


def best_partition(
    ctx: Context, chain: Sequence[str], k: int, cache: dict[str, np.ndarray]
) -> list[Partition]:
    """Best partition for each stage count 1..k on the chain prefix (linear partition DP)."""
    n = len(ctx.blocks)
    chain = list(chain[:k])
    prev = np.full(n + 1, INF)  # prev[s]: bottleneck of blocks 0..s-1 on the earlier stages
    prev[0] = ctx.transfer(ctx.origin, ctx.site_index(chain[0], 0), ctx.problem.model.input_bytes)
    backs: list[np.ndarray] = []
    out: list[Partition] = []
    for j, dev in enumerate(chain):
        if dev not in cache:
            cache[dev] = segment_matrix(ctx, dev)
        cost = cache[dev]
        last = np.maximum(
            prev[:n], cost[:, n - 1] + _outgoing(ctx, dev, None)[n - 1]
        )  # final stage ends at n-1
        s = int(last.argmin())
        out.append(_rebuild(chain[: j + 1], backs, s, n, float(last[s])))
        if j + 1 < len(chain):
            cand = np.maximum(prev[:n, None], cost + _outgoing(ctx, dev, chain[j + 1])[None, :])  # s x i
            arg = cand.argmin(axis=0)
            backs.append(arg)
            prev = np.concatenate(([INF], cand[arg, np.arange(n)]))
    return out


def _rebuild(devices: Sequence[str], backs: list[np.ndarray], s: int, n: int, value: float) -> Partition:
    bounds = [n, s]
    for arg in reversed(backs[: len(devices) - 1]):
        bounds.append(int(arg[bounds[-1] - 1]))
    return Partition(tuple(devices), tuple(reversed(bounds)), value)


def default_chains(ctx: Context, source: str) -> list[list[str]]:
    """The source then edges fastest first, and the same without the source."""
    speed = {d: min(ctx.prefix[s][-1] for s in ctx.device_sites(d)) for d in ctx.edges()}
    edges = sorted(speed, key=lambda d: speed[d])
    return [[source, *edges]] + ([edges] if edges else [])


def run(
    problem: Problem,
    ctx: Context,
    k: int | None = None,
    devices: Sequence[str] | None = None,
    objective: str = LATENCY,
) -> Plan:
    chains = [list(devices)] if devices else default_chains(ctx, problem.source)
    for chain in chains:
        for dev in chain:
            device_of(ctx, dev)
    if devices and len(set(devices)) != len(devices):
        raise PlanningError("a pipeline chain lists a device twice")
    limit = k or max(len(c) for c in chains)
    cache: dict[str, np.ndarray] = {}
    found = [p for c in chains for p in best_partition(ctx, c, limit, cache) if np.isfinite(p.bottleneck)]
    if not found:
        raise PlanningError("no pipeline fits the memory limits and links")
    found.sort(key=lambda p: (p.bottleneck, len(p.devices)))
    if objective == LATENCY:
        return pipeline_plan(ctx, found[0], found[1:4])
    options = []
    for part in found:
        plan = pipeline_plan(ctx, part, [])
        options.append(Option(plan.latency, source_joules(ctx, plan), part))
    chosen, notes = choose(options, objective, problem.deadline)
    ranked = sorted(options, key=lambda o: o.key(objective))
    others = [o.item for o in ranked if o is not chosen][:3]
    joules = {o.item: o.joules for o in options}
    return pipeline_plan(ctx, chosen.item, others, notes, joules)


def partition_stages(ctx: Context, part: Partition) -> tuple[list[Stage], float, list[CutTensor]]:
    """Stages of a partition: each on its device's fastest unit for the segment."""
    stages: list[Stage] = []
    cuts: list[CutTensor] = []
    for j, dev in enumerate(part.devices):
        first, last = part.bounds[j], part.bounds[j + 1] - 1
        site = min(ctx.device_sites(dev), key=lambda s: _compute(ctx, s, first, last))
        nxt = part.devices[j + 1] if j + 1 < len(part.devices) else None
        nbytes = ctx.blocks[last].output_bytes if nxt else ctx.problem.model.result_bytes
        fixed, per_byte = _hop(ctx, dev, nxt)
        stages.append(
            Stage(
                dev,
                ctx.sites[site].unit,
                first,
                last,
                _compute(ctx, site, first, last),
                fixed + per_byte * nbytes,
                ctx.devices[dev].state.wait,
            )
        )
        if nxt:
            cuts.append(CutTensor(ctx.blocks[last].name, dev, nxt, nbytes))
    upload = ctx.transfer(ctx.origin, ctx.site_index(part.devices[0], 0), ctx.problem.model.input_bytes)
    return stages, upload, cuts


def bottleneck_of(stages: Sequence[Stage], upload: float) -> float:
    """Seconds per frame of the slowest stage (compute + outgoing transfer), or of the source's upload."""
    return max([upload] + [s.compute + s.transfer for s in stages])


def pipeline_plan(
    ctx: Context,
    part: Partition,
    others: Sequence[Partition],
    notes: Sequence[str] = (),
    joules: Mapping[Partition, float | None] | None = None,
) -> Plan:
    stages, upload, cuts = partition_stages(ctx, part)
    slowest = bottleneck_of(stages, upload)
    alts = []
    for o in others:
        st, up = partition_stages(ctx, o)[:2]
        energy = (joules or {}).get(o)
        alts.append(Alternative(_label(o), up + sum(s.time for s in st), 1.0 / bottleneck_of(st, up), energy))
    return Plan(
        strategy="pipeline",
        stages=tuple(stages),
        input_transfer=upload,
        latency=upload + sum(s.time for s in stages),
        throughput=1.0 / slowest if slowest > 0 else INF,
        deadline=ctx.problem.deadline,
        cut_tensors=tuple(cuts),
        alternatives=tuple(alts),
        notes=(f"slowest stage {slowest:.6g} s/frame", *notes),
    )


def _label(part: Partition) -> str:
    spans = zip(part.devices, part.bounds, part.bounds[1:], strict=False)
    return " | ".join(f"{d}[{a}-{b - 1}]" for d, a, b in spans)
