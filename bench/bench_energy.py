"""The source device's energy per inference: latency-optimal vs energy-optimal vs all-local vs full offload.

    .venv/bin/python bench/bench_energy.py [--quick] [--write]

Every zoo model (its blocks from the catalog's graph analysis of var/zoo; ``make demo`` builds it) from an
rpi4-class camera to an edge-server-class node, priced by ``edgeorch.planning.energy`` (docs/energy.md),
over Wi-Fi, LTE and Ethernet; then AlexNet and MobileNetV2 over Wi-Fi at 1-100 Mbit/s, beside
Neurosurgeon's reported 59.5% average device-energy saving. Block times are the emulation's: block MACs
over ``EDGEORCH_DEFAULT_GMACS`` (5 GMAC/s) times each profile's speed, not measurements. With --write,
replaces the "## Energy" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repository root

import onnx  # noqa: E402
from edgeorch_wire.profiles import load_profile  # noqa: E402

from bench._common import markdown_table, write_section  # noqa: E402
from edgeorch.catalog import graph  # noqa: E402
from edgeorch.planning import Block, Device, Link, Model, Plan, Power, Problem, Unit, plan  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_energy.py --write"
ZOO = ROOT / "var" / "zoo"
GMACS = 5.0  # EDGEORCH_DEFAULT_GMACS: the host's assumed rate, which profiles' speeds divide
SOURCE, EDGE = "rpi4", "edge-server"
# (label, link type, Mbit/s, RTT s, each inference wakes the radio)
LINKS = [
    ("Wi-Fi 20 Mbit/s", "wifi", 20.0, 0.005, False),
    ("LTE 10 Mbit/s", "lte", 10.0, 0.05, False),
    ("LTE 10 Mbit/s, sporadic", "lte", 10.0, 0.05, True),
    ("Ethernet 100 Mbit/s", "ethernet", 100.0, 0.001, False),
]
SWEEP_MODELS = ("alexnet", "mobilenetv2")
SWEEP_MBPS = (1, 2, 5, 10, 20, 50, 100)
NEUROSURGEON_SAVING = 0.595  # Kang et al., ASPLOS 2017: average mobile-energy reduction (up to 94.7%)


def zoo_models(names: list[str] | None = None) -> list[Model]:
    """The zoo's models as the planner's chains, from the built ONNX files."""
    import json

    manifest = json.loads((ZOO / "manifest.json").read_text())
    out = []
    for entry in manifest["models"]:
        if names and entry["name"] not in names:
            continue
        analysis = graph.analyse(graph.prepare_model(onnx.load(ZOO / entry["file"])))
        blocks = tuple(
            Block(b.index, f"b{b.index}", macs=b.macs, output_bytes=b.output_bytes or 0, memory=b.param_bytes)
            for b in analysis.blocks
        )
        inputs = sum(t.nbytes or 0 for t in analysis.inputs)
        outputs = sum(t.nbytes or 0 for t in analysis.outputs)
        out.append(Model(entry["name"], blocks, float(inputs), float(outputs)))
    return out


def device(key: str, name: str, model: Model) -> Device:
    """A device of profile ``name``: each unit's block times are MACs over the profile's rate."""
    profile = load_profile(name)
    units = tuple(
        Unit(u.name, tuple(b.macs / (GMACS * 1e9) * profile.speed * u.speed for b in model.blocks))
        for u in profile.units
    )
    power = Power(profile.power.idle_w, profile.power.busy_w) if profile.power else None
    return Device(key, name, units=units, power=power, memory_limit=profile.memory_limit_bytes)


def problem(model: Model, kind: str, mbps: float, rtt: float, wakeup: bool) -> Problem:
    devices = (device("cam", SOURCE, model), device("edge", EDGE, model))
    return Problem(
        model, devices, (Link("cam", "edge", mbps * 1e6 / 8, rtt, kind=kind),), "cam", None, None, wakeup
    )


@dataclass
class Outcome:
    cut: str
    joules: float
    seconds: float


def outcome(p: Plan, n: int) -> Outcome:
    on_source = sum(
        s.last_block - s.first_block + 1
        for s in p.stages
        if s.device == "cam" and s.first_block is not None and s.last_block is not None
    )
    cut = "local" if on_source == n else ("offload" if on_source == 0 else f"{on_source}/{n}")
    assert p.energy is not None and p.energy.total is not None
    return Outcome(cut, p.energy.total, p.latency)


def compare(pr: Problem) -> dict[str, Outcome]:
    n = len(pr.model.blocks)
    names = {"latency": "device-edge", "energy": "energy", "local": "local", "offload": "offload"}
    return {k: outcome(plan(pr, s), n) for k, s in names.items()}


def _pct(x: float) -> str:
    return f"{x:+.0%}" if abs(x) >= 0.005 else "0%"


def model_rows(models: list[Model]) -> tuple[list[list], dict[tuple[str, bool], tuple[float, float]]]:
    rows, savings = [], {}
    for model in models:
        for label, kind, mbps, rtt, wakeup in LINKS:
            o = compare(problem(model, kind, mbps, rtt, wakeup))
            lat, en, loc, off = o["latency"], o["energy"], o["local"], o["offload"]
            saving = 1 - en.joules / loc.joules
            savings[(f"{model.name} {label}", wakeup)] = (saving, 1 - en.joules / off.joules)
            rows.append(
                [
                    model.name,
                    label,
                    f"{lat.cut}: {lat.joules:.3f} J, {lat.seconds * 1e3:.0f} ms",
                    f"{en.cut}: {en.joules:.3f} J, {en.seconds * 1e3:.0f} ms",
                    f"{loc.joules:.3f} J, {loc.seconds * 1e3:.0f} ms",
                    f"{off.joules:.3f} J, {off.seconds * 1e3:.0f} ms",
                    _pct(-saving),
                    _pct(en.joules / off.joules - 1),
                    _pct(en.joules / lat.joules - 1),
                    _pct(en.seconds / lat.seconds - 1),
                ]
            )
    return rows, savings


def sweep_rows(models: list[Model]) -> list[list]:
    rows = []
    for model in models:
        if model.name not in SWEEP_MODELS:
            continue
        for mbps in SWEEP_MBPS:
            o = compare(problem(model, "wifi", mbps, 0.005, False))
            lat, en, loc = o["latency"], o["energy"], o["local"]
            rows.append(
                [
                    model.name,
                    mbps,
                    lat.cut,
                    en.cut,
                    _pct(lat.joules / loc.joules - 1),
                    _pct(en.joules / loc.joules - 1),
                    _pct(en.seconds / lat.seconds - 1),
                ]
            )
    return rows


def report(quick: bool = False) -> str:
    models = zoo_models(list(SWEEP_MODELS) if quick else None)
    rows, savings = model_rows(models)
    table = markdown_table(
        [
            "model",
            "link",
            "latency-optimal (cut: source J, latency)",
            "energy-optimal",
            "all local",
            "full offload",
            "energy-opt vs local",
            "vs offload",
            "energy-opt vs latency-opt J",
            "latency cost",
        ],
        rows,
    )
    sweep = markdown_table(
        [
            "model",
            "Wi-Fi Mbit/s",
            "latency-opt cut",
            "energy-opt cut",
            "latency-opt J vs local",
            "energy-opt J vs local",
            "latency cost",
        ],
        sweep_rows(models),
    )
    large = [s for (name, wakeup), s in savings.items() if not name.startswith("digits") and not wakeup]

    def mean(rows: list[tuple[float, float]], k: int) -> str:
        return f"{statistics.mean(r[k] for r in rows):.1%}" if rows else "-"

    every = list(savings.values())
    return "\n".join(
        [
            "## Energy",
            "",
            f"Command: `{COMMAND}`. No agents and no measurement: `edgeorch.planning` plans each zoo "
            f"model (blocks from the catalog's graph analysis) from an {SOURCE}-class camera (2.7 W idle, "
            f"6.4 W busy) to an {EDGE}-class node (block times = MACs / {GMACS:g} GMAC/s x the profile's "
            "speed), and prices each plan with the energy model of docs/energy.md: the source's joules per "
            "inference (compute at busy power, idle power while it waits, radio per Huang et al. 2012). "
            "*Cut* is the blocks run on the camera. *Sporadic*: each inference wakes the LTE radio "
            "(promotion + 11.6 s tail); the other rows are a stream that keeps it awake.",
            "",
            table,
            "",
            f"Mean energy-optimal saving: against full offload {mean(every, 1)} over every row, "
            f"{mean(large, 1)} over the ImageNet-size models streaming; against all-local {mean(every, 0)} "
            f"and {mean(large, 0)}. Neurosurgeon reports {NEUROSURGEON_SAVING:.1%} on average (up to 94.7%) "
            "less mobile energy than its status quo, cloud-only processing (full offload here), for 8 DNNs "
            "from a Jetson TK1 over Wi-Fi, LTE and 3G.",
            "",
            "Reading it: where the two agree, it is because both trade the same things — a slow camera's "
            "compute against sending fewer bytes; the figures differ for reasons of this emulation, not of "
            "the algorithm. (1) The energy counted here includes the camera's idle power while it waits "
            "(Neurosurgeon counts compute and transmission only), which pulls the energy-optimal cut "
            "towards the latency-optimal one: they differ only where the radio's per-bit cost outweighs "
            "the seconds saved (fast Wi-Fi: offloading the raw input is fastest, a smaller activation "
            "costs fewer joules) or a wake-up's tail dominates (sporadic LTE: all-local). (2) Block times "
            "are MACs over an assumed rate times the profile's 6x, not measured layer latencies; the "
            "camera's power is the rpi4 profile's two numbers, not per-layer GPU power. (3) The workloads "
            "differ: eight vision, speech and language applications on a mobile GPU against a cloud "
            "there; five zoo models on an emulated edge node at a few GMAC/s here, so the status quo "
            "(offload) is often already the cheapest. Nothing here is measured on a battery: it checks "
            "the planner's choices against its own model.",
            "",
            f"Wi-Fi from 1 to 100 Mbit/s (RTT 5 ms), {' and '.join(SWEEP_MODELS)}:",
            "",
            sweep,
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only " + ", ".join(SWEEP_MODELS))
    parser.add_argument(
        "--write", action="store_true", help="replace the Energy section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    text = report(args.quick)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
