"""``ans``: the arms the source learns among per frame (ANS, Zhang, Chen, Xu, WWW 2021: the μLinUCB bandit
in ``edgeorch_agent.learning.ulinucb``), and the plan it starts on.

An arm is a cut p between the source and one edge (``edge``; default: the edge whose best cut the cost model
predicts fastest): blocks [0, p) on the source, [p, n) on the edge; p = 0 sends the raw input. The arms are
every cut p = 0..n-1 that no other cut beats whatever the link (``dominated``, below; with ``prune`` false,
every reachable cut, as in the paper) or, with ``k`` > 0, the k of those whose predicted T(p)
(``device_edge.cut_latency``: the profiles and probes of now) is lowest, ties to the lower cut; cuts the
memory limits or a missing link exclude are never arms. All-local (p = n) is the bandit's own arm whenever it
fits on the source. Each arm is deployed at once (its front segment on the source, its back segment on the
edge), so switching between arms costs no deploy; the plan returned is the arm predicted fastest, and
``Plan.arms`` lists them all with the source's predicted front-end time (the agent then measures its own) and
the predicted total.

Each arm's context x_p (``contexts``), what the source's bandit learns the back-end delay as a linear function
of, is ANS's: the back end's work and the bytes at the cut — [1, bytes at cut p, the MACs of blocks [p, n)
in convolutions, in fully connected layers and in the rest, the operator count of blocks [p, n)], each
feature but the constant divided by its largest value over the arms (order 1, as the bandit's λI prior
assumes; 0 where every arm has none). The constant is the round trip every offloaded frame pays.

**Dominated cuts are not arms** (a departure from the paper, which makes every cut an arm; docs/learning.md).
Cut p is dominated by an earlier reachable cut q < p when

    bytes(q) <= bytes(p)   and   T(q) - transfer(bytes(q)) <= T(p) - transfer(bytes(p))

(``bytes``: the tensor crossing the link at the cut, the raw input at q = 0; T from the profiles): moving
the cut from p back to q sends no more bytes, and what is left after the transfer — the source's front end,
the edge's queue and compute, the cut penalties, the answer's way back — is no slower. A transfer's time
``fixed + bytes / bandwidth`` (scaled by 1/(1 - loss)) grows with the bytes on every link, so T(q) <= T(p)
whatever the link's bandwidth, round trip or loss: learning cut p could only cost frames. The assumption is
the profiles' relative speeds: that the edge runs blocks [q, p) at least as fast, relative to the source, as
its profile says (contention that slows the edge below the device on those blocks could make a pruned cut
the better one). On mobilenetv2 (rpi4 -> edge-server) this drops the early cuts whose activation is larger
than the raw input (cut 6: 4.6 MiB, 8 times it), whose one optimistic look cost a third to two thirds of
``ans``'s regret on bench/bench_learning.py.
"""

from __future__ import annotations

from dataclasses import replace

from ..cost import INF, Context, chain_plan, describe, device_of
from ..errors import PlanningError
from ..model import Problem
from ..objective import LATENCY
from ..plan import Alternative, Arm, Plan
from .device_edge import cut_latency


def run(
    problem: Problem,
    ctx: Context,
    objective: str = LATENCY,
    k: int = 0,
    edge: str | None = None,
    prune: bool = True,
    beside: bool = True,
) -> Plan:
    if objective != LATENCY:
        raise PlanningError("ans learns delays: its objective is latency")
    for name, value in (("prune", prune), ("beside", beside)):
        if not isinstance(value, bool):
            raise PlanningError(f"ans: {name} must be true or false, not {value!r}")
    k = _count(k)
    edge = _edge(ctx, edge)
    n = len(ctx.blocks)
    per_cut = [_best(ctx, problem.source, edge, p) for p in range(n + 1)]
    offloading = [p for p in range(n) if per_cut[p][0] < INF]
    if not offloading:
        raise PlanningError(f"no cut to {edge!r} is reachable (memory limits or a missing link)")
    if prune:
        offloading = [p for p in offloading if dominated(ctx, per_cut, offloading, p) is None]
    if k:
        offloading = sorted(sorted(offloading, key=lambda p: (per_cut[p][0], p))[:k])
    chosen = [*offloading, n] if per_cut[n][0] < INF else offloading
    arms = tuple(_arm(ctx, per_cut[p], p, edge) for p in chosen)
    best = min(chosen, key=lambda p: (per_cut[p][0], p))
    alts = [
        Alternative(f"T({p}): " + describe(ctx, per_cut[p][1]), per_cut[p][0]) for p in chosen if p != best
    ]
    plan = chain_plan(
        ctx,
        "ans",
        per_cut[best][1],
        sorted(alts, key=lambda a: a.latency),
        notes=(f"learns per frame among {len(arms)} arms to {edge} (cuts {', '.join(map(str, chosen))})",),
    )
    return replace(plan, arms=arms)


def dominated(
    ctx: Context, per_cut: list[tuple[float, list[int], int]], reachable: list[int], p: int
) -> int | None:
    """The earliest reachable cut q < p that dominates cut p (module docstring), or None."""
    rest_p = per_cut[p][0] - _link(ctx, per_cut[p], p)
    for q in reachable:
        if q >= p:
            break
        if ctx.activation(q) <= ctx.activation(p) and per_cut[q][0] - _link(ctx, per_cut[q], q) <= rest_p:
            return q
    return None


def _link(ctx: Context, best: tuple[float, list[int], int], p: int) -> float:
    """The transfer of cut p's crossing tensor in T(p): from where the front end ran (the input's origin for
    p = 0) to the edge unit of the assignment."""
    _, assignment, site = best
    sender = ctx.origin if p == 0 else site
    return ctx.transfer(sender, assignment[p], ctx.activation(p))


def _count(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise PlanningError(f"ans: k must be a whole number >= 0 (0: every cut not dominated), not {k!r}")
    return k


def _edge(ctx: Context, edge: str | None) -> str:
    """The named edge (online, not the source), else the one whose best cut is predicted fastest."""
    source = ctx.problem.source
    if edge:
        device_of(ctx, edge)
        if edge == source:
            raise PlanningError("ans: the edge must be another device than the source")
        return edge
    edges = ctx.edges()
    if not edges:
        raise PlanningError("no edge device is online")
    n = len(ctx.blocks)
    return min(edges, key=lambda e: (min(_best(ctx, source, e, p)[0] for p in range(n + 1)), e))


def _best(ctx: Context, source: str, edge: str, p: int) -> tuple[float, list[int], int]:
    """T(p) over the source's units x the edge's units, its assignment and the source unit it uses."""
    n = len(ctx.blocks)
    options = [
        (cut_latency(ctx, s, e, p), [s] * p + [e] * (n - p), s)
        for s in ctx.device_sites(source)
        for e in ctx.device_sites(edge)
    ]
    return min(options, key=lambda o: o[0])


def _arm(ctx: Context, best: tuple[float, list[int], int], p: int, edge: str) -> Arm:
    latency, _, site = best
    front = ctx.wait(site) + ctx.compute(site, 0, p - 1) if p else 0.0
    return Arm(p, edge, front, latency)


CONTEXT_FEATURES = ("constant", "cut_bytes", "macs_conv", "macs_fc", "macs_other", "ops")


def contexts(blocks: list[dict], cuts: list[int]) -> list[list[float]]:
    """x_p for each cut p of ``cuts`` (``CONTEXT_FEATURES``) from the catalog's blocks (``MLModel.blocks``:
    ``input_bytes``, ``macs_by_category``, ``op_counts`` per block); the local cut p = n gets zeros (the
    bandit does not learn it)."""
    rows = [_features(blocks, p) for p in cuts]
    scale = [max((r[i] for r in rows), default=0.0) or 1.0 for i in range(len(CONTEXT_FEATURES))]
    scale[0] = 1.0
    return [
        [round(v / scale[i], 6) for i, v in enumerate(row)] if p < len(blocks) else [0.0] * len(row)
        for p, row in zip(cuts, rows, strict=True)
    ]


def _features(blocks: list[dict], p: int) -> list[float]:
    back = blocks[p:]
    if not back:
        return [0.0] * len(CONTEXT_FEATURES)
    macs: dict[str, float] = {}
    for block in back:
        for category, value in (block.get("macs_by_category") or {}).items():
            macs[category] = macs.get(category, 0.0) + float(value or 0)
    conv, fc = macs.pop("conv", 0.0), macs.pop("fc", 0.0)
    ops = sum(float(v or 0) for b in back for v in (b.get("op_counts") or {}).values())
    return [1.0, float(back[0].get("input_bytes") or 0), conv, fc, sum(macs.values()), ops]
