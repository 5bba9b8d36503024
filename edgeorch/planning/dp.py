"""The chain dynamic program over (block, site holding the activation) from RESEARCH.md:

    C[i][x] = min_y ( C[i-1][y] + transfer(y -> x, bytes(out_{i-1})) + [y != x] cut_x(i-1) ) + t_x(i)

O(blocks x sites^2), vectorised with numpy over the sites. The queueing wait of x is folded into the
transfer when y is on another device. Memory limits: a block needing more than a device's limit is never
placed there; if the optimum still overfills a device, a Lagrangian penalty (lambda x memory) is added to that
device's compute and raised until the plan fits (exact when no limit binds; a heuristic when one does, since
the constrained problem is a resource-constrained shortest path).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .cost import INF, Context, memory_use
from .errors import PlanningError


class Seconds:
    """The DP's default objective: latency. ``energy.SourceJoules`` has the same three methods in joules."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def compute(self, site: int) -> float:
        """What a second of compute on ``site`` costs."""
        return 1.0

    def transfer(self, a: int, b: int) -> tuple[float, float]:
        """(fixed, per byte) cost of moving a tensor from site a to site b."""
        return self.ctx.transfer_coeffs(a, b)

    def wait(self, site: int) -> float:
        return self.ctx.wait(site)


def _moved(weights: Seconds, a: int, b: int, nbytes: float) -> float:
    fixed, per_byte = weights.transfer(a, b)
    return fixed + per_byte * nbytes if per_byte != INF else INF


def _site_arrays(ctx: Context, sites: Sequence[int], weights: Seconds) -> tuple[np.ndarray, np.ndarray]:
    """Fixed and per-byte transfer cost matrices between the allowed sites, waits folded in."""
    m = len(sites)
    fixed = np.zeros((m, m))
    per_byte = np.zeros((m, m))
    for a, ya in enumerate(sites):
        for b, xb in enumerate(sites):
            f, p = weights.transfer(ya, xb)
            other_device = ctx.sites[ya].device != ctx.sites[xb].device
            fixed[a, b] = f + (weights.wait(xb) if other_device else 0.0)
            per_byte[a, b] = p
    return fixed, per_byte


def _compute_matrix(
    ctx: Context, sites: Sequence[int], penalty: dict[str, float], weights: Seconds
) -> np.ndarray:
    """times[i, x]: block i on site x; infinite where the block alone exceeds the device's memory."""
    times = np.array([ctx.times[s] for s in sites], dtype=float).T.reshape(len(ctx.blocks), len(sites))
    mem = np.array([b.memory for b in ctx.blocks])
    for k, s in enumerate(sites):
        dev = ctx.sites[s].device
        limit = ctx.devices[dev].memory_limit
        times[:, k] *= weights.compute(s)
        if limit is not None:
            times[mem > limit, k] = np.inf
        times[:, k] += penalty.get(dev, 0.0) * mem
    return times


def _ends(ctx: Context, sites: Sequence[int], weights: Seconds) -> tuple[np.ndarray, np.ndarray]:
    """Cost to enter each site with the input (wait included) and to leave it with the result."""
    model = ctx.problem.model
    start = np.array([_moved(weights, ctx.origin, s, model.input_bytes) + weights.wait(s) for s in sites])
    finish = np.array([_moved(weights, s, ctx.target, model.result_bytes) for s in sites])
    return start, finish


def solve(
    ctx: Context, sites: Sequence[int], penalty: dict[str, float], weights: Seconds | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Run the DP (minimising ``weights``' cost: latency by default); returns the final cost per site and the
    back-pointers."""
    weights = weights or Seconds(ctx)
    fixed, per_byte = _site_arrays(ctx, sites, weights)
    times = _compute_matrix(ctx, sites, penalty, weights)
    start, finish = _ends(ctx, sites, weights)
    moves = 1.0 - np.eye(len(sites))  # a stage starts where the site changes: the cut's penalty applies
    with np.errstate(invalid="ignore"):
        cost = start + times[0]
        back: list[np.ndarray] = []
        for i in range(1, len(ctx.blocks)):
            cand = cost[:, None] + fixed + per_byte * ctx.blocks[i - 1].output_bytes
            if ctx.blocks[i - 1].cut_penalty:
                cand += moves * np.array([weights.compute(s) * ctx.cut_cost(s, i - 1) for s in sites])
            cand[np.isnan(cand)] = np.inf
            arg = cand.argmin(axis=0)
            back.append(arg)
            cost = cand[arg, np.arange(len(sites))] + times[i]
    return cost + finish, back


def trace(sites: Sequence[int], last: int, back: list[np.ndarray]) -> list[int]:
    """Follow back-pointers from the final site to the assignment (site ids)."""
    path = [last]
    for arg in reversed(back):
        path.append(int(arg[path[-1]]))
    return [sites[k] for k in reversed(path)]


def optimal_chain(
    ctx: Context, sites: Sequence[int], rounds: int = 40, weights: Seconds | None = None
) -> tuple[list[int], list[list[int]]]:
    """The best assignment over ``sites`` (least latency, or least ``weights``' cost), and the best
    assignments ending on a few other sites (runner-ups)."""
    penalty: dict[str, float] = {}
    for _ in range(rounds):
        final, back = solve(ctx, sites, penalty, weights)
        best = int(final.argmin())
        if not np.isfinite(final[best]):
            break
        assignment = trace(sites, best, back)
        over = [d for d, need in memory_use(ctx, assignment).items() if not ctx.fits(d, need)]
        if not over:
            others = [int(k) for k in np.argsort(final)[1:4] if np.isfinite(final[k])]
            return assignment, [trace(sites, k, back) for k in others]
        for dev in over:  # Lagrangian step: make memory on the overfull device more expensive
            penalty[dev] = max(penalty.get(dev, 0.0) * 4, _base_penalty(ctx))
    raise PlanningError("the memory limits exclude every placement")


def _base_penalty(ctx: Context) -> float:
    """A first lambda (s/byte) of the order of compute time per byte of parameters."""
    mem = sum(b.memory for b in ctx.blocks) or 1.0
    slowest = max(sum(t) for t in ctx.times) or 1.0
    return slowest / mem / 16
