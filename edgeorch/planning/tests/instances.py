"""Hypothesis strategies for small random planning problems, and exhaustive reference solvers."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence

from hypothesis import strategies as st

from edgeorch.planning import Block, DagNode, Device, DeviceState, Link, Model, Power, Problem, Unit
from edgeorch.planning.cost import INF, Context, latency_of
from edgeorch.planning.energy import RADIOS

seconds = st.floats(0.001, 1.0)
sizes = st.floats(0.0, 2e6)


@st.composite
def devices(draw: st.DrawFn, index: int, n_blocks: int, memory: bool, offline: bool) -> Device:
    n_units = draw(st.integers(1, 2))
    units = tuple(
        Unit(name, tuple(draw(st.lists(seconds, min_size=n_blocks, max_size=n_blocks))))
        for name in ("cpu", "gpu")[:n_units]
    )
    state = DeviceState(draw(st.floats(1.0, 2.0)), draw(st.integers(0, 2)), draw(st.floats(0.0, 0.1)))
    # Memory is whole bytes, as devices and models report it (sub-byte floats only test prefix-sum rounding).
    limit = draw(st.one_of(st.none(), st.integers(0, 4_000_000).map(float))) if memory else None
    return Device(
        id=f"d{index}",
        online=index == 0 or not offline or draw(st.booleans()),
        units=units,
        state=state,
        memory_limit=limit,
        shm_bandwidth=draw(st.floats(1e8, 1e10)),
    )


@st.composite
def links(draw: st.DrawFn, ids: Sequence[str]) -> tuple[Link, ...]:
    return tuple(
        Link(a, b, draw(st.floats(1e5, 1e8)), draw(st.floats(0.0, 0.05)), 0.0, draw(st.floats(0.0, 0.3)))
        for a, b in itertools.combinations(ids, 2)
    )


@st.composite
def problems(
    draw: st.DrawFn, max_blocks: int = 4, max_devices: int = 3, memory: bool = False, offline: bool = False
) -> Problem:
    n = draw(st.integers(1, max_blocks))
    m = draw(st.integers(2, max_devices))
    blocks = tuple(
        Block(
            i,
            f"b{i}",
            output_bytes=draw(sizes),
            memory=draw(st.integers(0, 1_000_000).map(float)) if memory else 0.0,
        )
        for i in range(n)
    )
    devs = tuple(draw(devices(i, n, memory, offline)) for i in range(m))
    result = draw(st.sampled_from([None, *[d.id for d in devs if d.online]]))
    model = Model("m", blocks, draw(sizes), draw(sizes))
    return Problem(model, devs, draw(links([d.id for d in devs])), "d0", result, draw(st.none() | seconds))


@st.composite
def dag_problems(draw: st.DrawFn, max_nodes: int = 7) -> Problem:
    n = draw(st.integers(2, max_nodes))
    m = draw(st.integers(2, 3))
    ids = [f"d{i}" for i in range(m)]
    consumers: list[set[str]] = [set() for _ in range(n)]
    n_inputs = draw(st.integers(1, 2))
    for i in range(n_inputs, n):
        for j in draw(st.sets(st.integers(0, i - 1), min_size=1, max_size=3)):
            consumers[j].add(f"v{i}")
    nodes = tuple(
        DagNode(f"v{i}", {d: draw(seconds) for d in ids}, draw(sizes), tuple(sorted(consumers[i])))
        for i in range(n)
    )
    devs = tuple(
        Device(d, state=DeviceState(draw(st.floats(1, 2)), draw(st.integers(0, 1)), 0.05)) for d in ids
    )
    model = Model("dag", (), 0.0, 0.0, nodes)
    result = draw(st.sampled_from(ids))
    return Problem(model, devs, draw(links(ids)), "d0", result)


@st.composite
def priced(draw: st.DrawFn, base: st.SearchStrategy[Problem] | None = None) -> Problem:
    """A random problem (``base``: ``problems()``) whose devices have power models and whose links have
    types, with a deadline."""
    problem = draw(base if base is not None else problems())
    watts = st.floats(0.5, 20.0)
    devices = tuple(
        dataclasses.replace(d, power=Power(idle, idle + draw(watts)))
        for d in problem.devices
        for idle in [draw(watts)]
    )
    kinds = st.sampled_from(sorted(RADIOS))
    links = tuple(dataclasses.replace(link, kind=draw(kinds)) for link in problem.links)
    deadline = draw(st.floats(0.01, 5.0))
    return dataclasses.replace(problem, devices=devices, links=links, deadline=deadline)


def all_assignments(ctx: Context, sites: Sequence[int]) -> Iterator[list[int]]:
    return (list(a) for a in itertools.product(sites, repeat=len(ctx.blocks)))


def exhaustive(ctx: Context, sites: Sequence[int]) -> float:
    """The best latency over every assignment of blocks to the given sites."""
    return min(latency_of(ctx, a) for a in all_assignments(ctx, sites))


def exhaustive_device_edge(ctx: Context) -> float:
    """The best latency over every cut p and every (source unit, edge unit) pair."""
    n = len(ctx.blocks)
    src = ctx.device_sites(ctx.problem.source)
    edges = [e for d in ctx.edges() for e in ctx.device_sites(d)]
    return min(latency_of(ctx, [s] * p + [e] * (n - p)) for s in src for e in edges for p in range(n + 1))


def compositions(n: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Bounds (0, ..., n) of every split of n blocks into ``parts`` non-empty contiguous stages."""
    for cuts in itertools.combinations(range(1, n), parts - 1):
        yield (0, *cuts, n)


def exhaustive_pipeline(ctx: Context, chain: Sequence[str], k: int) -> float:
    """The smallest slowest-stage time over every contiguous partition onto a prefix of the chain."""
    n = len(ctx.blocks)
    best = INF
    for parts in range(1, min(k, len(chain), n) + 1):
        for bounds in compositions(n, parts):
            best = min(best, _bottleneck(ctx, chain[:parts], bounds))
    return best


def _bottleneck(ctx: Context, chain: Sequence[str], bounds: Sequence[int]) -> float:
    model = ctx.problem.model
    worst = ctx.transfer(ctx.origin, ctx.site_index(chain[0], 0), model.input_bytes)
    for j, dev in enumerate(chain):
        first, last = bounds[j], bounds[j + 1] - 1
        if not ctx.fits(dev, ctx.memory(first, last)):
            return INF
        compute = min(ctx.compute(s, first, last) + ctx.cut_cost(s, first - 1) for s in ctx.device_sites(dev))
        final = j + 1 == len(chain)
        target = ctx.target if final else ctx.site_index(chain[j + 1], 0)
        nbytes = model.result_bytes if final else ctx.blocks[last].output_bytes
        worst = max(worst, compute + ctx.transfer(ctx.site_index(dev, 0), target, nbytes))
    return worst
