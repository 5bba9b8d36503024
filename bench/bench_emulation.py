"""Emulation benchmark: how much an emulated device's compute moves when other work takes this host's cores.

    .venv/bin/python bench/bench_emulation.py [--write] [--quick]

An emulated device (``edgeorch-agent run --profile``) stretches each stage's real onnxruntime compute to its
speed factor (``runtime.Stretch``). On a shared host other processes (other emulated devices, the control
plane) take cores now and then; on the real device they would not. This runs zoo models as an agent runs a
stage (``runtime.load_session``: its threads, spinning off), one run every 5 ms, on a quiet host and then
beside 1 and 2 busy processes (each spinning in bursts of 10-30 ms about half the time), and applies both
rules to the same host times:

- *multiplied*: the emulated time is the factor times the run's own time (a host delay is multiplied too);
- *Stretch*: the factor times the run's time, but no more than the 5th percentile of the last 256 runs (a
  host delay is waited out, not multiplied) — what agents do. Its memory runs on from load to load, as an
  agent's does: the quiet runs, then those beside 1 busy process, then those beside 2.

Per model, rule and load: the emulated mean, and its ratio to the same rule's on the quiet host
(1.00: the busy host did not change the emulated device). With --write, replaces the "## Emulation" section
of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "agents"))

from edgeorch_agent.runtime import Stretch, load_session  # noqa: E402

from bench._common import machine, markdown_table, write_section  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_emulation.py --write"
MODELS = ("mobilenetv2", "resnet18")
FACTOR = 6.0  # an rpi4 (docs/protocol.md, device profiles); the ratios are the same for any factor > 1.5
GAP_S = 0.005  # between runs: a stream's frames, not a tight loop
LOADS = (0, 1, 2)  # busy processes beside the runs
BURST_S = 0.02  # the other processes' bursts (and pauses), on average


def spin(stop, seed: int) -> None:
    """Another process's work on this host: bursts of ``BURST_S`` spinning, as long idle between them."""
    rng = np.random.default_rng(seed)
    time.sleep(rng.uniform(0, 2 * BURST_S))
    while not stop.is_set():
        until = time.perf_counter() + rng.uniform(0.5, 1.5) * BURST_S
        while time.perf_counter() < until:
            pass
        time.sleep(rng.uniform(0.5, 1.5) * BURST_S)


def host_times(session, feeds, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - started)
        time.sleep(GAP_S)
    return times


def emulated(times: dict[int, list[float]], factor: float, rule: str) -> dict[int, list[float]]:
    """Per load, the emulated times of its runs (one ``Stretch`` over all loads in turn, as one agent)."""
    if rule == "multiplied":
        return {busy: [factor * t for t in runs] for busy, runs in times.items()}
    stretch = Stretch()
    return {busy: [stretch.target(t, factor) for t in times[busy]] for busy in LOADS}


def model_path(name: str) -> Path:
    from edgeorch.catalog import zoo

    directory = zoo.default_zoo_dir()
    built = next(m for m in zoo.build_zoo(directory) if m.name == name)
    return directory / built.file


def measure(name: str, runs: int) -> dict[int, list[float]]:
    """Host seconds per run of ``name``, beside 0, 1 and 2 busy processes."""
    session = load_session(model_path(name), None)
    (spec,) = session.get_inputs()
    feeds = {spec.name: np.random.default_rng(0).standard_normal(spec.shape).astype(np.float32)}
    host_times(session, feeds, 10)  # warm-up
    times = {}
    for busy in LOADS:
        stop = multiprocessing.Event()
        hogs = [multiprocessing.Process(target=spin, args=(stop, i), daemon=True) for i in range(busy)]
        for hog in hogs:
            hog.start()
        try:
            times[busy] = host_times(session, feeds, runs)
        finally:
            stop.set()
            for hog in hogs:
                hog.join()
    return times


def report(quick: bool) -> str:
    runs = 40 if quick else 200
    rows = []
    for name in MODELS:
        times = measure(name, runs)
        for rule in ("multiplied", "Stretch"):
            means = {busy: statistics.mean(t) for busy, t in emulated(times, FACTOR, rule).items()}
            rows.append(
                [
                    name,
                    f"{statistics.median(times[0]) * 1e3:.2f}",
                    f"x{FACTOR:g}",
                    rule,
                    *(f"{means[busy] * 1e3:.1f}" for busy in LOADS),
                    *(f"{means[busy] / means[0]:.2f}" for busy in LOADS[1:]),
                ]
            )
    table = markdown_table(
        [
            "model",
            "host p50 ms",
            "factor",
            "rule",
            *(f"mean ms, {b} busy" for b in LOADS),
            *(f"{b} busy / quiet" for b in LOADS[1:]),
        ],
        rows,
    )
    return "\n".join(
        [
            "## Emulation",
            "",
            f"`{COMMAND}` — {machine()}. {runs} runs per model and load, {GAP_S * 1e3:.0f} ms apart, as an "
            "agent runs a stage; *N busy*: N other processes each spinning in bursts of 10-30 ms about half "
            "the time. Both rules are applied to the same host times (bench/bench_emulation.py's docstring).",
            "",
            table,
            "",
            "Reading it: with *multiplied*, every millisecond another process takes from a run is multiplied "
            "by the device's factor; *Stretch* waits it out instead, so the emulated device keeps its speed. "
            "What is left under *Stretch* beside 2 busy processes on this 2-core host: no core is ever free, "
            "so every run is slowed (the agent's session uses both cores), and over the 200 runs the 5th "
            "percentile of the last 256 starts to rise with them. The scenarios benchmark runs three "
            "emulated devices, Daphne, a Celery worker and the runner on this host.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--write", action="store_true", help="replace the Emulation section of docs/benchmarks.md"
    )
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke run)")
    args = parser.parse_args()
    text = report(args.quick)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
