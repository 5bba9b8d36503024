"""A device's compute unit (``executor.units.ComputeUnit``, docs/qos.md "Isolation between users"): the stages
of several sessions take turns on it by the urgency of their best work, across their queues, not by who asked
first; the drop rule and the slack telemetry count what holds the unit. Generated work (hypothesis) and
hand-made cases, with the stage workers' own loop (``next_turn``)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import pytest
from edgeorch_agent.executor.qos import QosCollector, StageQueue
from edgeorch_agent.executor.units import ComputeUnit, next_turn
from edgeorch_wire import qos
from hypothesis import given, settings
from hypothesis import strategies as st


@dataclass
class Item:
    name: str
    priority: int = qos.NORMAL
    deadline: float | None = None


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _queue(unit: ComputeUnit, clock: Clock | None = None, dropped: list | None = None) -> StageQueue[Item]:
    async def drop(item: Item, reason: str) -> None:
        (dropped if dropped is not None else []).append((item, reason))

    return StageQueue(64, drop, clock or Clock(), unit=unit)


async def _serve(queues: list[StageQueue[Item]], unit: ComputeUnit, total: int) -> list[str]:
    """A worker per queue, as the stage workers run (a turn, the compute, the turn back), while something else
    holds the unit: all of them are waiting when it frees. Returns the names in the order computed."""
    holder = await unit.turn(_queue(unit))  # the compute under way when the work came
    order: list[str] = []
    done = asyncio.Event()

    async def worker(queue: StageQueue[Item]) -> None:
        while True:
            work, turn = await next_turn(queue, unit)
            order.append(work.name)
            await asyncio.sleep(0)  # the compute: the other workers are waiting meanwhile
            turn.release()
            if len(order) == total:
                done.set()

    workers = [asyncio.create_task(worker(q)) for q in queues]
    await asyncio.sleep(0)
    assert unit.waiting == len(queues)
    holder.release()
    await done.wait()
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return order


def test_a_high_priority_piece_is_computed_next_however_many_low_sessions_wait_before_it():
    """Three low-priority sessions' stages were waiting for the unit, each with work queued, before a high
    priority session's one piece came: it is computed as soon as the compute under way ends. First come, first
    served across the sessions would compute three low pieces before it."""

    async def scenario() -> list[str]:
        unit = ComputeUnit("cpu")
        lows = [_queue(unit) for _ in range(3)]
        for s, queue in enumerate(lows):
            for n in range(4):
                await queue.put(Item(f"low{s}-{n}", qos.LOW, 1000.5 + n))
        high = _queue(unit)
        await high.put(Item("high", qos.HIGH, 1060.0))  # last to come, with the latest deadline
        return await _serve([*lows, high], unit, 13)

    order = asyncio.run(scenario())
    assert order[0] == "high"
    # The lows then take turns by their own urgency: earliest deadline, then arrival, across the sessions.
    assert order[1:4] == ["low0-0", "low1-0", "low2-0"]


works = st.lists(
    st.lists(
        st.tuples(
            st.integers(qos.LOW, qos.CRITICAL),
            st.one_of(st.none(), st.floats(1001.0, 2000.0, allow_nan=False)),
        ),
        min_size=1,
        max_size=8,
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=120, deadline=None)
@given(works)
def test_each_turn_goes_to_the_most_urgent_work_of_the_stages_waiting_for_it(spec):
    """Whatever the sessions' work: each freed turn goes to the waiting stage whose best work is the most
    urgent (class, deadline, arrival across all the queues). The stage that has just computed asks again only
    after handing its output on, so it goes next only when no other stage waits."""
    items = [[Item(f"{s}-{n}", p, d) for n, (p, d) in enumerate(stage)] for s, stage in enumerate(spec)]

    async def scenario() -> list[str]:
        unit = ComputeUnit("cpu")
        queues = [_queue(unit) for _ in items]
        for queue, stage in zip(queues, items, strict=True):
            for item in stage:
                await queue.put(item)
        return await _serve(queues, unit, sum(map(len, items)))

    # The model: arrival order is the order of the puts above.
    arrival = {item.name: i for i, item in enumerate(i for stage in items for i in stage)}

    def key(item: Item) -> tuple[int, float, int]:
        return qos.order_key(item.priority, item.deadline, arrival[item.name])

    left = [sorted(stage, key=key) for stage in items]
    expected, last = [], None
    while any(left):
        others = [s for s, stage in enumerate(left) if stage and s != last]
        pick = min(others or [last], key=lambda s: key(left[s][0]))
        expected.append(left[pick].pop(0).name)
        last = pick
    assert asyncio.run(scenario()) == expected


def test_a_worker_cancelled_while_it_waits_leaves_no_turn_behind():
    async def scenario() -> None:
        unit = ComputeUnit("cpu")
        holder = await unit.turn(_queue(unit))
        waiting = _queue(unit)
        await waiting.put(Item("gone", qos.CRITICAL))
        task = asyncio.create_task(next_turn(waiting, unit))
        await asyncio.sleep(0)
        assert unit.waiting == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        holder.release()
        holder.release()  # a second release is nothing
        assert unit.free_in(0.0) == 0.0
        other = _queue(unit)
        await other.put(Item("next"))
        work, turn = await asyncio.wait_for(next_turn(other, unit), 1)  # the unit is free: at once
        assert work.name == "next"
        turn.release()

    asyncio.run(scenario())


def test_the_drop_rule_counts_the_compute_holding_the_unit_for_another_stage():
    """Another session's stage computes on the unit, 100 ms to go: work with 50 ms to its deadline cannot be
    computed in time here, though this stage itself is idle; with a deadline 150 ms away it can."""
    clock = Clock(1000.0)

    async def scenario() -> list:
        dropped: list = []
        unit = ComputeUnit("cpu")
        other = _queue(unit, clock)
        other.computed(0.100)
        turn = await unit.turn(other)
        other.computing(clock.now)
        mine = _queue(unit, clock, dropped)
        mine.computed(0.020)
        await mine.put(Item("late", qos.HIGH, clock.now + 0.050))
        await mine.put(Item("fits", qos.HIGH, clock.now + 0.150))
        assert [w.name for w in mine.items()] == ["fits"]
        turn.release()
        return dropped

    dropped = asyncio.run(scenario())
    assert [(item.name, reason.split(":")[0]) for item, reason in dropped] == [
        ("late", "dropped (on arrival)")
    ]
    assert "after 100.0 ms of the compute under way" in dropped[0][1]


def test_the_slack_telemetry_predicts_each_piece_in_its_units_order_across_the_stages():
    """A high piece of one session comes before a low piece of another on their shared unit: the low piece's
    predicted slack counts the high one's compute ahead of it (1000.25 - 1000 - 2 x 100 ms = 50 ms), which
    its own queue alone would not show (150 ms)."""
    clock = Clock(1000.0)

    async def scenario() -> tuple[dict, dict]:
        unit = ComputeUnit("cpu")
        low, high = _queue(unit, clock), _queue(unit, clock)
        for queue in (low, high):
            queue.computed(0.100)
        await low.put(Item("low", qos.LOW, 1000.25))
        await high.put(Item("high", qos.HIGH, 1000.5))
        return QosCollector({("a", 0): low, ("b", 0): high}, lambda: 0).collect(), low.metrics()

    metrics, own = asyncio.run(scenario())
    assert math.isclose(metrics["qos.slack_s"], 0.05, abs_tol=1e-9)
    assert math.isclose(own["slack_s"], 0.15, abs_tol=1e-9)
    assert metrics["qos.queued"] == 2 and metrics["qos.queued.low"] == 1 and metrics["qos.queued.high"] == 1
