"""Plans respect the constraints, explain themselves and serialise to JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest
from hypothesis import HealthCheck, given, settings

from edgeorch.planning import (
    STRATEGIES,
    Block,
    Device,
    DeviceState,
    Link,
    Model,
    PlanningError,
    Problem,
    Unit,
    plan,
)
from edgeorch.planning.cost import Context, memory_use

from .instances import problems

fast = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHAIN = ["local", "offload", "device-edge", "multi-device", "on-device", "pipeline", "adaptive"]


def plan_or_none(problem: Problem, strategy: str):
    try:
        return plan(problem, strategy)
    except PlanningError:
        return None


def held_memory(problem: Problem, result) -> dict[str, float]:
    held: dict[str, float] = {}
    for s in result.stages:
        held[s.device] = held.get(s.device, 0.0) + sum(
            b.memory for b in problem.model.blocks[s.first_block : s.last_block + 1]
        )
    return held


@fast
@given(problems(memory=True))
def test_plans_respect_memory_limits(problem: Problem) -> None:
    limits = {d.id: d.memory_limit for d in problem.devices}
    for strategy in CHAIN:
        result = plan_or_none(problem, strategy)
        if result is not None:
            for dev, need in held_memory(problem, result).items():
                limit = limits[dev]
                assert limit is None or need <= limit, strategy


@fast
@given(problems(offline=True))
def test_an_offline_device_is_never_used(problem: Problem) -> None:
    offline = {d.id for d in problem.devices if not d.online}
    for strategy in CHAIN:
        result = plan_or_none(problem, strategy)
        if result is not None:
            assert not {s.device for s in result.stages} & offline, strategy


@fast
@given(problems(memory=True, offline=True))
def test_reported_latency_equals_the_sum_of_its_stages(problem: Problem) -> None:
    for strategy in CHAIN:
        result = plan_or_none(problem, strategy)
        if result is not None:
            recomputed = result.input_transfer + sum(s.queue + s.compute + s.transfer for s in result.stages)
            assert result.latency == pytest.approx(recomputed), strategy


@fast
@given(problems(memory=True))
def test_multi_device_never_overfills_a_device_even_when_limits_bind(problem: Problem) -> None:
    result = plan_or_none(problem, "multi-device")
    if result is not None:
        ctx = Context(problem)
        assignment = [ctx.site_index(s.device, _unit(problem, s)) for s in result.stages for _ in _span(s)]
        assert all(ctx.fits(d, need) for d, need in memory_use(ctx, assignment).items())


def _unit(problem: Problem, stage) -> int:
    dev = next(d for d in problem.devices if d.id == stage.device)
    return [u.name for u in dev.units].index(stage.unit)


def _span(stage) -> range:
    return range(stage.first_block, stage.last_block + 1)


def two_devices(**phone_changes) -> Problem:
    """A phone (source) and an edge server over a 1 MB/s link with 20 ms RTT."""
    blocks = (Block(0, "conv", output_bytes=200_000), Block(1, "head", output_bytes=1_000))
    phone = replace(Device("phone", units=(Unit("cpu", (0.3, 0.3)),)), **phone_changes)
    edge = Device("edge", units=(Unit("gpu", (0.01, 0.01)),))
    model = Model("net", blocks, input_bytes=500_000, result_bytes=1_000)
    return Problem(model, (phone, edge), (Link("phone", "edge", 1e6, 0.02),), "phone", deadline=0.2)


def test_neurosurgeon_picks_the_cut_with_the_smallest_activation() -> None:
    result = plan(two_devices(), "device-edge")
    assert [(s.device, s.first_block, s.last_block) for s in result.stages] == [
        ("phone", 0, 0),
        ("edge", 1, 1),
    ]
    assert result.latency == pytest.approx(0.3 + (0.01 + 0.2) + 0.01 + (0.01 + 0.001))
    assert result.cut_tensors[0].bytes == 200_000
    assert result.alternatives and all(a.latency >= result.latency for a in result.alternatives)
    assert result.deadline_met is False


def test_throttle_multiplies_compute_and_the_queue_delays_the_first_block() -> None:
    result = plan(two_devices(state=DeviceState(throttle=2.0, queue_length=3, service_time=0.1)), "local")
    assert result.stages[0].compute == pytest.approx(1.2)
    assert result.stages[0].queue == pytest.approx(0.3)


def test_loss_inflates_the_expected_transfer_time() -> None:
    link = Link("a", "b", bandwidth=1e6, rtt=0.02, loss=0.5)
    assert link.time(1e6) == pytest.approx((0.01 + 1.0) * 2)


def test_units_of_one_device_exchange_tensors_through_shared_memory() -> None:
    jetson = Device("jetson", units=(Unit("cpu", (0.001, 1.0)), Unit("gpu", (1.0, 0.001))), shm_bandwidth=1e9)
    problem = Problem(
        Model("m", (Block(0, "a", output_bytes=1e6), Block(1, "b")), 0, 0), (jetson,), (), "jetson"
    )
    result = plan(problem, "on-device")
    assert [s.unit for s in result.stages] == ["cpu", "gpu"]
    assert result.stages[0].transfer == pytest.approx(20e-6 + 1e-3)


def test_an_offline_source_is_a_planning_error() -> None:
    with pytest.raises(PlanningError, match="offline"):
        plan(two_devices(online=False), "local")


def test_offloading_without_an_online_edge_is_a_planning_error() -> None:
    problem = two_devices()
    problem = replace(problem, devices=(problem.devices[0], replace(problem.devices[1], online=False)))
    for strategy in ("offload", "device-edge", "dag-mincut"):
        with pytest.raises(PlanningError):
            plan(problem, strategy)


def test_missing_profiles_without_a_predictor_are_a_planning_error() -> None:
    with pytest.raises(PlanningError, match="no block profile"):
        plan(two_devices(units=(Unit("cpu"),)), "local")


def test_a_memory_limit_that_excludes_every_placement_is_a_planning_error() -> None:
    problem = two_devices(memory_limit=10.0)
    problem = replace(
        problem,
        model=replace(problem.model, blocks=tuple(replace(b, memory=100.0) for b in problem.model.blocks)),
    )
    with pytest.raises(PlanningError, match="memory"):
        plan(problem, "local")


def test_split_needs_its_cut_and_device() -> None:
    with pytest.raises(PlanningError, match="device"):
        plan(two_devices(), "split", cut=1)
    result = plan(two_devices(), "split", cut=1, device="edge")
    assert [s.device for s in result.stages] == ["phone", "edge"]


def test_an_unknown_strategy_names_the_known_ones() -> None:
    with pytest.raises(PlanningError, match="multi-device"):
        plan(two_devices(), "magic")


def test_every_registered_strategy_has_a_one_line_description() -> None:
    assert set(STRATEGIES) >= {
        "local",
        "offload",
        "split",
        "device-edge",
        "multi-device",
        "on-device",
        "pipeline",
        "dag-mincut",
        "adaptive",
    }
    assert all(s.description and "\n" not in s.description for s in STRATEGIES.values())


def test_plans_serialise_to_json_and_problems_load_from_dicts() -> None:
    problem = two_devices()
    data = json.loads(json.dumps(asdict(problem)))
    assert Problem.from_dict(data) == problem
    for strategy in CHAIN:
        assert json.loads(json.dumps(plan(problem, strategy).to_dict()))["strategy"] == strategy
