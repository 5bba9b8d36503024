"""The energy model against hand-computed joules, and the energy strategy against the latency one."""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
from hypothesis import given, settings

from edgeorch.planning import Block, Device, Link, Model, PlanningError, Power, Problem, Unit, plan
from edgeorch.planning.cost import Context, chain_plan, latency_of
from edgeorch.planning.energy import RADIOS, plan_energy

from .instances import priced


def two_blocks(kind: str = "wifi", wakeup: bool = False) -> Problem:
    """A camera (2 W idle, 6 W busy) and a server (50 W, 200 W) on an 8 Mbit/s link of type ``kind``."""
    model = Model("two", (Block(0, "b0", output_bytes=2e5), Block(1, "b1", output_bytes=1e3)), 1e6, 1e3)
    devices = (
        Device("cam", units=(Unit("cpu", (0.1, 0.2)),), power=Power(2.0, 6.0)),
        Device("srv", units=(Unit("gpu", (0.01, 0.02)),), power=Power(50.0, 200.0)),
    )
    return Problem(model, devices, (Link("cam", "srv", 1e6, kind=kind),), "cam", radio_wakeup=wakeup)


def test_it_prices_a_split_by_hand():
    energy = plan(two_blocks(), "split", cut=1, device="srv").energy
    assert energy is not None
    # stage 0 on cam: 6 W x 0.1 s compute; sends 2e5 B (1.6 Mbit) in 0.2 s: 0.28317 x 1.6 + 0.13286 x 0.2;
    # idles 0.2 s at 2 W while sending.
    send = 0.28317 * 1.6 + 0.13286 * 0.2
    assert energy.stages[0] == pytest.approx(0.6 + send + 0.4)
    # stage 1 on srv: 0.02 s compute, the 1e3 B result back in 1 ms; cam receives and idles 0.021 s.
    receive = 0.13701 * 0.008 + 0.13286 * 0.001
    assert energy.stages[1] == pytest.approx(receive + 2.0 * 0.021)
    cam = energy.devices["cam"]
    assert cam.compute == pytest.approx(0.6)
    assert cam.radio == pytest.approx(send + receive)
    assert cam.idle == pytest.approx(2.0 * (0.2 + 0.021))
    # the closed form: idle x latency + (busy - idle) x own compute + radio
    assert energy.total == pytest.approx(2.0 * 0.321 + 4.0 * 0.1 + send + receive)
    assert energy.devices["srv"].compute == pytest.approx(200.0 * 0.02)
    assert energy.input == 0.0


def test_total_is_the_input_share_plus_the_stage_shares():
    for strategy in ("local", "offload", "device-edge", "multi-device", "energy", "pipeline"):
        energy = plan(two_blocks("lte"), strategy).energy
        assert energy is not None and energy.total is not None
        assert energy.total == pytest.approx(energy.input + sum(energy.stages))


def test_local_costs_busy_power_over_compute_and_no_radio():
    energy = plan(two_blocks(), "local").energy
    assert energy is not None
    assert energy.total == pytest.approx(6.0 * 0.3)
    assert energy.devices["cam"].radio == 0.0


def test_a_wakeup_adds_promotion_and_tail_once_per_device():
    quiet = plan(two_blocks("lte"), "offload").energy
    woken = plan(two_blocks("lte", wakeup=True), "offload").energy
    assert quiet is not None and woken is not None and quiet.total is not None and woken.total is not None
    assert woken.total - quiet.total == pytest.approx(RADIOS["lte"].wakeup_j)
    assert woken.input - quiet.input == pytest.approx(RADIOS["lte"].wakeup_j)
    assert RADIOS["lte"].wakeup_j == pytest.approx(1.2107 * 0.2601 + 1.06 * 11.576)


def test_a_source_without_a_power_model_has_unknown_energy():
    problem = two_blocks()
    cam = Device("cam", units=(Unit("cpu", (0.1, 0.2)),))
    energy = plan(Problem(problem.model, (cam, problem.devices[1]), problem.links, "cam"), "local").energy
    assert energy is not None and energy.total is None
    assert energy.to_dict()["total"] is None


def costly_input(kind: str) -> Problem:
    """8 Mbit of input over 100 Mbit/s: offloading is faster (0.11 s against 0.3 s) but its radio costs
    more joules than computing locally, unless the link is Ethernet."""
    model = Model("big-input", (Block(0, "b0", output_bytes=1e6), Block(1, "b1", output_bytes=1e3)), 1e6, 1e3)
    devices = (
        Device("cam", units=(Unit("cpu", (0.15, 0.15)),), power=Power(2.0, 6.0)),
        Device("srv", units=(Unit("gpu", (0.015, 0.015)),), power=Power(50.0, 200.0)),
    )
    return Problem(model, devices, (Link("cam", "srv", 12.5e6, kind=kind),), "cam")


def cut(p) -> int:
    return sum(1 for s in p.stages if s.device == "cam" for _ in range(s.first_block, s.last_block + 1))


def test_energy_keeps_the_work_local_when_the_radio_is_expensive():
    problem = costly_input("lte")
    fast, frugal = plan(problem, "device-edge"), plan(problem, "energy")
    assert cut(fast) == 0 and cut(frugal) == 2
    assert frugal.energy.total < fast.energy.total  # type: ignore[union-attr, operator]
    assert frugal.latency > fast.latency


def test_energy_agrees_with_latency_when_the_radio_is_cheap():
    problem = costly_input("ethernet")
    assert cut(plan(problem, "energy")) == cut(plan(problem, "device-edge")) == 0


def test_energy_meets_the_deadline_when_a_cut_can():
    problem = costly_input("lte")
    bounded = Problem(problem.model, problem.devices, problem.links, "cam", deadline=0.2)
    chosen = plan(bounded, "energy")
    assert chosen.latency <= 0.2 and cut(chosen) == 0
    impossible = Problem(problem.model, problem.devices, problem.links, "cam", deadline=0.01)
    fastest = plan(impossible, "energy")
    assert cut(fastest) == 0 and any("deadline" in n for n in fastest.notes)


def test_plans_carry_energy_in_their_dict():
    out = plan(two_blocks(), "split", cut=1, device="srv").to_dict()
    assert out["energy"]["total"] == pytest.approx(
        out["energy"]["input"] + sum(s["energy"] for s in out["stages"])
    )
    assert {d["device"] for d in out["energy"]["devices"]} == {"cam", "srv"}
    alts = plan(two_blocks(), "energy").to_dict()["alternatives"]
    assert all(a["energy"] is not None for a in alts)


def brute_force_cuts(problem: Problem) -> list[tuple[float, float]]:
    """(latency, source joules) of every single cut over source units x other devices' units."""
    ctx = Context(problem)
    n = len(ctx.blocks)
    sources = ctx.device_sites(problem.source)
    others = [s for d in ctx.edges() for s in ctx.device_sites(d)] or sources
    out = []
    for p, s, e in itertools.product(range(n + 1), sources, others):
        assignment = [s] * p + [e] * (n - p)
        latency = latency_of(ctx, assignment)
        if not math.isinf(latency):
            energy = plan_energy(ctx, chain_plan(ctx, "brute", assignment)).total
            assert energy is not None
            out.append((latency, energy))
    return out


@settings(max_examples=60, deadline=None)
@given(priced())
def test_energy_under_a_deadline_never_misses_it_when_a_cut_meets_it(problem):
    options = brute_force_cuts(problem)
    assert problem.deadline is not None
    meeting = [e for t, e in options if t <= problem.deadline]
    chosen = plan(problem, "energy")
    if meeting:
        assert chosen.latency <= problem.deadline + 1e-9
        assert chosen.energy.total == pytest.approx(min(meeting))  # type: ignore[union-attr]
    else:
        assert chosen.latency == pytest.approx(min(t for t, _ in options))


@settings(max_examples=60, deadline=None)
@given(priced())
def test_multi_device_energy_equals_exhaustive_search(problem):
    problem = dataclasses.replace(problem, deadline=None)
    ctx = Context(problem)
    best = math.inf
    for assignment in itertools.product(range(len(ctx.sites)), repeat=len(ctx.blocks)):
        if not math.isinf(latency_of(ctx, list(assignment))):
            joules = plan_energy(ctx, chain_plan(ctx, "brute", list(assignment))).total
            assert joules is not None
            best = min(best, joules)
    chosen = plan(problem, "multi-device", objective="energy")
    assert chosen.energy.total == pytest.approx(best, rel=1e-9, abs=1e-12)  # type: ignore[union-attr]


def test_multi_device_by_energy_keeps_the_work_local_on_lte():
    assert cut(plan(costly_input("lte"), "multi-device", objective="energy")) == 2
    assert cut(plan(costly_input("lte"), "multi-device")) == 0
    with pytest.raises(PlanningError, match="objective"):
        plan(costly_input("lte"), "multi-device", objective="battery")


@settings(max_examples=60, deadline=None)
@given(priced())
def test_multi_device_energy_under_a_deadline_meets_it_when_any_placement_can(problem):
    ctx = Context(problem)
    options = []
    for assignment in itertools.product(range(len(ctx.sites)), repeat=len(ctx.blocks)):
        latency = latency_of(ctx, list(assignment))
        if not math.isinf(latency):
            options.append((latency, plan_energy(ctx, chain_plan(ctx, "brute", list(assignment))).total))
    chosen = plan(problem, "multi-device", objective="energy_under_deadline")
    fastest = plan(problem, "multi-device")
    assert chosen.energy is not None and fastest.energy is not None
    if fastest.latency <= problem.deadline:
        assert chosen.latency <= problem.deadline + 1e-9
        assert chosen.energy.total <= fastest.energy.total + 1e-9  # never dearer than the fastest
        assert chosen.energy.total >= min(e for t, e in options if t <= problem.deadline) - 1e-9
    else:
        assert chosen.latency == pytest.approx(fastest.latency)
