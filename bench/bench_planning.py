"""Planning time against problem size (multi-device, pipeline, device-edge, dag-mincut).

    .venv/bin/python bench/bench_planning.py [--write]

Targets: multi-device and pipeline on 300 blocks x 20 devices < 50 ms; dag-mincut on a DAG the size of
ResNet-18 / MobileNetV2 in ONNX (~70-160 nodes, with skip connections) < 100 ms. With --write, replaces the
"## Planning" section of docs/benchmarks.md (appending it if missing) and leaves the other sections alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repository root

from bench._common import write_section  # noqa: E402
from edgeorch.planning import (  # noqa: E402
    Block,
    DagNode,
    Device,
    DeviceState,
    Link,
    Model,
    Problem,
    Unit,
    plan,
)

COMMAND = ".venv/bin/python bench/bench_planning.py --write"


def chain_problem(n_blocks: int, n_devices: int, seed: int = 0) -> Problem:
    """A random chain over a phone (cpu + gpu) and n-1 edge nodes, fully linked."""
    rng = random.Random(seed)
    blocks = tuple(
        Block(i, f"b{i}", output_bytes=rng.uniform(1e3, 2e6), memory=rng.uniform(1e5, 1e7))
        for i in range(n_blocks)
    )
    devices = [Device("d0", units=tuple(Unit(u, _times(rng, n_blocks, 4.0)) for u in ("cpu", "gpu")))]
    for k in range(1, n_devices):
        state = DeviceState(rng.uniform(1, 1.5), rng.randint(0, 3), rng.uniform(0, 0.01))
        devices.append(
            Device(f"d{k}", units=(Unit("gpu", _times(rng, n_blocks, 1.0)),), state=state, memory_limit=4e9)
        )
    links = tuple(
        Link(a.id, b.id, rng.uniform(1e6, 1e8), rng.uniform(1e-3, 5e-2))
        for i, a in enumerate(devices)
        for b in devices[i + 1 :]
    )
    return Problem(Model("chain", blocks, 6e5, 4e3), tuple(devices), links, "d0")


def _times(rng: random.Random, n: int, slowdown: float) -> tuple[float, ...]:
    return tuple(slowdown * rng.uniform(1e-4, 5e-3) for _ in range(n))


def residual_dag(n_nodes: int, n_edges: int = 2, seed: int = 0) -> Problem:
    """A ResNet-like DAG: conv -> relu -> conv -> add(skip) units, until n_nodes nodes."""
    rng = random.Random(seed)
    ids = ["d0"] + [f"e{k}" for k in range(n_edges)]
    names = ["input"]
    consumers: dict[str, list[str]] = {"input": []}
    skip = "input"
    while len(names) < n_nodes:
        unit = [f"n{len(names) + j}" for j in range(4)][: n_nodes - len(names)]
        for j, name in enumerate(unit):
            consumers[names[-1]].append(name)
            if j == 3:
                consumers[skip].append(name)
                skip = name
            names.append(name)
            consumers[name] = []
    nodes = tuple(
        DagNode(
            v,
            {d: rng.uniform(1e-4, 4e-3) * (4.0 if d == "d0" else 1.0) for d in ids},
            rng.uniform(1e4, 2e6),
            tuple(consumers[v]),
        )
        for v in names
    )
    devices = tuple(Device(d) for d in ids)
    links = tuple(Link("d0", e, rng.uniform(1e6, 1e8), 0.01) for e in ids[1:])
    return Problem(Model("dag", (), 0.0, 0.0, nodes), devices, links, "d0")


def best_ms(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of ``repeat`` runs, in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def chain_rows(sizes: list[tuple[int, int]]) -> list[str]:
    rows = []
    for n, m in sizes:
        problem = chain_problem(n, m)
        times = [
            best_ms(lambda p=problem, s=s: plan(p, s)) for s in ("multi-device", "pipeline", "device-edge")
        ]
        rows.append(f"| {n} | {m} | " + " | ".join(f"{t:.1f}" for t in times) + " |")
    return rows


def dag_rows(sizes: list[int]) -> list[str]:
    rows = []
    for n in sizes:
        problem = residual_dag(n)
        rows.append(
            f"| {n} | {len(problem.devices) - 1} | {best_ms(lambda p=problem: plan(p, 'dag-mincut')):.1f} |"
        )
    return rows


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def report() -> str:
    head = "| blocks | devices | multi-device ms | pipeline ms | device-edge ms |\n|---:|---:|---:|---:|---:|"
    by_blocks = chain_rows([(n, 20) for n in (50, 100, 200, 300, 600)])
    by_devices = chain_rows([(300, m) for m in (2, 5, 10, 20, 40)])
    dags = dag_rows([70, 160, 320])
    return "\n".join(
        [
            "## Planning",
            "",
            f"Command: `{COMMAND}`. Machine: {os.cpu_count()} cores ({cpu_model()}), no GPU, Python "
            f"{platform.python_version()}. "
            "Median of 5 runs of `plan(problem, strategy)` (context build included).",
            "Targets: multi-device and pipeline on 300 blocks x 20 devices < 50 ms; "
            "dag-mincut on 70-160 nodes < 100 ms.",
            "",
            "Growth with blocks (20 devices; the source has cpu + gpu units):",
            "",
            head,
            *by_blocks,
            "",
            "Growth with devices (300 blocks):",
            "",
            head,
            *by_devices,
            "",
            "dag-mincut on a synthetic residual DAG (conv, relu, conv, add + skip), source plus 2 edges:",
            "",
            "| nodes | edges tried | dag-mincut ms |\n|---:|---:|---:|",
            *dags,
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="replace the Planning section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    text = report()
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
