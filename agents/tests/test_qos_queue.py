"""A stage's QoS queue (``executor.qos.StageQueue``, docs/qos.md): EDF within priority, over the queued and
the waiting alike, and the drop rule, on generated work (hypothesis) and on hand-made cases."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import pytest
from edgeorch_agent.executor.qos import MAX_WAITING, PROBE_AFTER, Admission, QosCollector, StageQueue
from edgeorch_wire import qos
from hypothesis import given, settings
from hypothesis import strategies as st


@dataclass
class Item:
    name: int
    priority: int = qos.NORMAL
    deadline: float | None = None


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _queue(maxsize: int, clock: Clock, dropped: list[tuple[Item, str]]) -> StageQueue[Item]:
    async def drop(item: Item, reason: str) -> None:
        dropped.append((item, reason))

    return StageQueue(maxsize, drop, clock)


def _expected(items: list[Item]) -> list[int]:
    """EDF within priority, by hand: higher class, then earlier deadline (none last), then arrival."""
    ranked = sorted(
        enumerate(items),
        key=lambda p: (-p[1].priority, p[1].deadline is None, p[1].deadline or 0.0, p[0]),
    )
    return [item.name for _, item in ranked]


works = st.lists(
    st.tuples(
        st.integers(qos.LOW, qos.CRITICAL),
        st.one_of(st.none(), st.floats(1001.0, 2000.0, allow_nan=False)),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(works, st.integers(1, 8))
def test_everything_comes_out_in_edf_order_within_priority_queued_or_waiting(spec, maxsize):
    """Whatever the bound, once all the work is in (queued, or its putter waiting), the gets take it in EDF
    order within priority: a waiting putter's work is ordered with the queued."""
    items = [Item(i, p, d) for i, (p, d) in enumerate(spec)]

    async def scenario() -> tuple[list[int], list]:
        dropped: list = []
        queue = _queue(maxsize, Clock(), dropped)
        putters = [asyncio.create_task(queue.put(item)) for item in items]
        await asyncio.sleep(0)  # every put has run: the first maxsize queued, the others waiting
        assert queue.qsize() == len(items)
        assert sum(not p.done() for p in putters) == max(0, len(items) - maxsize)
        got = [(await queue.get()).name for _ in items]
        await asyncio.gather(*putters)  # each putter went on once its work was taken or had a place
        return got, dropped

    got, dropped = asyncio.run(scenario())
    assert not dropped  # no compute measured, no deadline passed: nothing is infeasible
    assert got == _expected(items)


def test_a_reader_that_does_not_wait_for_a_place_lets_the_urgent_work_behind_it_arrive():
    """One connection's reader puts its frames one after another (``Pipeline.receive``). Past the bound, a
    waiting put would hold every frame behind it on the connection; ``wait=False`` returns with its work
    waiting in order, so a high-priority frame read after a line of low ones still arrives and comes out
    first. Only past ``MAX_WAITING`` does the reader wait (the back-pressure that bounds memory)."""

    async def scenario():
        dropped: list = []
        queue = _queue(2, Clock(), dropped)
        lows = [Item(i, qos.LOW, 1500.0) for i in range(6)]
        for item in lows:  # the reader: each put awaited before the next frame is read
            await asyncio.wait_for(queue.put(item, wait=False), 1.0)
        await asyncio.wait_for(queue.put(Item(99, qos.HIGH, 1900.0), wait=False), 1.0)
        assert queue.qsize() == 7 and queue.waiting() == 5
        first = (await queue.get()).name
        for k in range(MAX_WAITING - queue.waiting()):  # fill the waiting up to its bound
            await asyncio.wait_for(queue.put(Item(100 + k, qos.LOW, 1500.0), wait=False), 1.0)
        blocked = asyncio.create_task(queue.put(Item(1000, qos.LOW, 1500.0), wait=False))
        await asyncio.sleep(0.01)
        held = not blocked.done()
        await queue.get()  # a place frees: the best waiting work takes it, the blocked reader goes on
        await asyncio.wait_for(blocked, 1.0)
        # The blocking put of old would have held the reader at the third frame: the high one not arrived.
        old = _queue(2, Clock(), dropped)
        reader = asyncio.create_task(_read_all(old, [*lows, Item(99, qos.HIGH, 1900.0)]))
        await asyncio.sleep(0.01)
        arrived = [w.name for w in old.items()]
        reader.cancel()
        return first, held, arrived, dropped

    first, held, arrived, dropped = asyncio.run(scenario())
    assert first == 99 and held and not dropped
    assert 99 not in arrived and len(arrived) == 3  # two queued and one waiting: the reader stuck there


async def _read_all(queue: StageQueue[Item], items: list[Item]) -> None:
    for item in items:
        await queue.put(item)


@settings(max_examples=100, deadline=None)
@given(works, st.floats(0.0, 0.5), st.floats(0.0, 1.5))
def test_the_drop_rule_drops_exactly_what_cannot_make_it(spec, compute_s, busy_s):
    """On arrival, work is dropped iff now + the rest of the compute under way + the stage's expected compute
    is past its deadline (but for the probes); what is kept comes out in order."""
    clock = Clock(1000.0)
    items = [
        Item(i, p, None if d is None else 1000.0 + (d - 1000.0) / 1000.0) for i, (p, d) in enumerate(spec)
    ]

    async def scenario():
        dropped: list = []
        queue = _queue(len(items), clock, dropped)
        queue.computed(compute_s)
        queue.computing(clock.now + busy_s - compute_s)  # under way, busy_s left of it
        for item in items:
            await queue.put(item)
        return queue, dropped

    queue, dropped = asyncio.run(scenario())
    # Late by the expectation (every deadline here is still ahead): dropped, but after PROBE_AFTER such drops
    # with no compute since, the next one is computed anyway (a probe), and the count starts again.
    late, since = set(), 0
    for i in items:
        if i.deadline is not None and i.deadline < clock.now + busy_s + compute_s:
            if since >= PROBE_AFTER:
                since = 0
            else:
                late.add(i.name)
                since += 1
    assert {item.name for item, _ in dropped} == late
    for item, reason in dropped:
        assert reason.startswith("dropped (on arrival)") and qos.priority_name(item.priority) in reason
    kept = [i for i in items if i.name not in late]
    assert [w.name for w in queue.items()] == [w.name for w in _order(kept)]


def _order(items: list[Item]) -> list[Item]:
    by_name = {i.name: i for i in items}
    return [by_name[n] for n in _expected(items)]


def test_work_whose_deadline_passes_while_it_waits_is_dropped_when_its_turn_comes():
    clock = Clock(1000.0)

    async def scenario():
        dropped: list = []
        queue = _queue(4, clock, dropped)
        queue.computed(0.010)  # the stage computes in 10 ms
        await queue.put(Item(1, qos.LOW, 1000.5))
        await queue.put(Item(2, qos.HIGH, 1000.05))
        await queue.put(Item(3, qos.NORMAL, None))
        assert not dropped
        clock.now = 1000.2  # item 2's deadline has passed meanwhile; item 1's has not
        first = await queue.get()
        return first, dropped, queue

    first, dropped, queue = asyncio.run(scenario())
    assert first.name == 3  # normal before low; the high one was dropped, not computed
    assert [(i.name, r.split(":")[0]) for i, r in dropped] == [(2, "dropped (when its turn came)")]
    assert queue.dropped == 1 and queue.qsize() == 1


def test_a_cancelled_putter_leaves_nothing_behind():
    async def scenario():
        queue = _queue(1, Clock(), [])
        await queue.put(Item(1))
        waiting = asyncio.create_task(queue.put(Item(2, qos.CRITICAL)))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert queue.qsize() == 1
        return (await queue.get()).name

    assert asyncio.run(scenario()) == 1


def test_telemetry_reports_length_per_class_and_the_least_slack_in_queue_order():
    clock = Clock(1000.0)

    async def scenario():
        queue = _queue(8, clock, [])
        queue.computed(0.100)
        await queue.put(Item(1, qos.HIGH, 1000.5))
        await queue.put(Item(2, qos.LOW, 1000.25))
        await queue.put(Item(3, qos.LOW, None))
        return queue

    queue = asyncio.run(scenario())
    metrics = QosCollector({("d", 0): queue}, lambda: 7).collect()
    assert metrics["qos.queued"] == 3 and metrics["qos.dropped"] == 7
    assert metrics["qos.queued.high"] == 1 and metrics["qos.queued.low"] == 2
    assert "qos.queued.normal" not in metrics and "qos.queued.critical" not in metrics  # absent: 0
    # Item 2 comes after item 1: 1000.25 - 1000 - 2 x 100 ms of compute ahead of its end = 50 ms.
    assert math.isclose(metrics["qos.slack_s"], 0.05, abs_tol=1e-9)
    assert QosCollector({}, lambda: 0).collect() == {}  # no stage here, nothing dropped: nothing sent
    idle = QosCollector({("d", 0): _queue(8, clock, [])}, lambda: 0).collect()
    assert idle == {"qos.queued": 0.0, "qos.dropped": 0.0}


@pytest.mark.parametrize(
    ("value", "rank"),
    [
        ("high", qos.HIGH),
        ("LOW", qos.LOW),
        (None, None),
        (0, None),
        (1, qos.CRITICAL),
        (2, qos.HIGH),
        (3, qos.NORMAL),
        (4, qos.LOW),
        (99, qos.LOW),
    ],
)
def test_request_priorities_take_class_names_or_triton_integers(value, rank):
    assert qos.parse_priority(value) == rank


@pytest.mark.parametrize("value", ["urgent", -1, 1.5, True, [1]])
def test_bad_request_priorities_say_what_is_wrong(value):
    with pytest.raises(qos.QosError, match="priority"):
        qos.parse_priority(value)


def test_admission_lets_the_most_urgent_waiting_request_in_first():
    """A served model's in-flight slots (``Admission``): while they are taken, the waiting enter by priority,
    then deadline, then arrival; a cancelled waiter is skipped and its place not lost."""

    async def scenario() -> list[str]:
        gate = Admission(1)
        await gate.acquire(qos.LOW, None)  # the one in flight
        entered: list[str] = []

        async def request(label: str, priority: int, deadline: float | None) -> None:
            await gate.acquire(priority, deadline)
            entered.append(label)

        waiting = {
            "low": asyncio.create_task(request("low", qos.LOW, 1.0)),
            "normal": asyncio.create_task(request("normal", qos.NORMAL, None)),
            "gone": asyncio.create_task(request("gone", qos.CRITICAL, None)),
            "normal-soon": asyncio.create_task(request("normal-soon", qos.NORMAL, 5.0)),
            "high": asyncio.create_task(request("high", qos.HIGH, 9.0)),
        }
        await asyncio.sleep(0)
        assert gate.locked() and not entered
        waiting["gone"].cancel()
        for _ in range(4):  # each request leaves in turn, handing its slot on
            gate.release()
            await asyncio.sleep(0)
        await asyncio.gather(*(t for k, t in waiting.items() if k != "gone"))
        gate.release()
        assert not gate.locked()
        return entered

    assert asyncio.run(scenario()) == ["high", "normal-soon", "normal", "low"]


def test_a_stale_expectation_is_probed_and_corrected_instead_of_dropping_everything_after_it():
    """A slow first compute (a cold start) set the expectation above every deadline: without a probe nothing
    would be computed again. After PROBE_AFTER drops one piece is computed; its compute corrects the rule."""
    clock = Clock(1000.0)

    async def scenario():
        dropped: list = []
        queue = _queue(64, clock, dropped)
        queue.computed(2.0)  # the cold first compute
        for n in range(PROBE_AFTER + 1):
            await queue.put(Item(n, qos.NORMAL, clock.now + 0.5))
        assert len(dropped) == PROBE_AFTER and queue.qsize() == 1  # the last one is the probe, kept
        clock.now += 0.4  # it waited; its turn comes: still not dropped (a probe), though still "late"
        probe = await queue.get()
        queue.computing(clock.now)
        queue.computed(0.05)  # the warm compute: the expectation comes down
        await queue.put(Item(99, qos.NORMAL, clock.now + 0.5))
        return probe, dropped, queue

    probe, dropped, queue = asyncio.run(scenario())
    assert probe.name == PROBE_AFTER and queue.expected_s == 0.05
    assert [w.name for w in queue.items()] == [99]  # fits now: kept
    assert len(dropped) == PROBE_AFTER
