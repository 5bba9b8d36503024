"""A stage's queue with per-request QoS (docs/qos.md): earliest deadline first within priority, early drops.

Order (``edgeorch_wire.qos.order_key``): a higher priority class first; within a class the earliest deadline
first (work without one after every deadline of its class); then arrival order. The bound (``maxsize``) is the
back-pressure it always was: a ``put`` beyond it waits, but the waiting work is ordered with the rest, so a
``get`` takes the best of all, queued or waiting, and high-priority work never waits behind a line of
low-priority putters.

A putter that reads a connection shared by many requests (the data plane's reader: one connection per
deployment and peer carries every session's frames on it) must not wait there: while it waited for its
low-priority frame's place, the frames behind it on the connection — a high-priority one among them — would
not even have arrived (``bench_multiuser``: high-class frames reached the edge's queue ~200 ms late, past
their deadline, with the queue itself ordering them right). ``put(work, wait=False)`` leaves the work waiting
in order and returns, unless more than ``MAX_WAITING`` are waiting: only then does the reader wait, until
work leaves (the back-pressure that bounds the memory waiting work holds).

Drop rule: work is dropped, before it is computed, when it cannot meet its deadline even if nothing else came
first: ``now`` + what is left of the compute under way at the stage + its own expected compute > deadline.
Its expected compute is the least of the stage's recent computes (``RECENT``), a lower bound, so that what
is dropped is work that could only be late. The rule is checked when work arrives (a ``put``: it never takes
a place in the queue) and again when the worker takes it (it may have waited behind more urgent work). A
dropped request is answered at once (a failed DONE with ``dropped`` and the reason) rather than computed late.

A stage's queue orders its own work; the stages of every deployment (every session, every user) on one compute
unit take turns on it through that unit's ``units.ComputeUnit``, by the same order: the queues number arrivals
from one counter (``_ARRIVALS``), so two queues' best work compare. While another stage computes on the unit,
the compute under way the drop rule counts is the unit's (``ComputeUnit.free_in``).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from edgeorch_wire import qos


class Unit(Protocol):
    """What a stage queue reads of the compute unit it shares (``units.ComputeUnit``; named here by what it
    offers, so that ``units`` depends on this module and not the other way round)."""

    slots: int

    def free_in(self, now: float) -> float: ...


RECENT = 8  # computes the stage's expected compute is the least of
# Drops on the expectation alone (the deadline not passed yet) with no compute since, after which the next
# such work is computed anyway: a probe. Without it, an expectation too high (a slow first compute, a device
# that has sped up) would drop everything after it and, nothing being computed, never come down again.
PROBE_AFTER = 8
# Work a ``put(wait=False)`` leaves waiting beyond the bound before its putter waits too (back-pressure on the
# connection it reads): enough for every session on a deployment to keep frames in flight, bounded in memory.
MAX_WAITING = 64
# Arrival numbers shared by every stage queue of the agent: the order's last key compares across queues (a
# compute unit's turn goes to the queue whose best work comes first, ``units``).
_ARRIVALS = itertools.count()


class Queued(Protocol):
    """What the queue reads of a piece of work (the executor's ``Work``)."""

    priority: int
    deadline: float | None


W = TypeVar("W", bound=Queued)


@dataclass(order=True)
class _Entry(Generic[W]):
    key: tuple[int, float, int]
    work: W = field(compare=False)
    admitted: asyncio.Future[None] | None = field(compare=False, default=None)  # None: in the queue proper


class StageQueue(Generic[W]):
    """What ``asyncio.Queue[Work]`` was to a stage (``put``, ``get``, ``empty``, ``qsize``), EDF-ordered, with
    the drop rule applied by calling ``drop(work, reason)`` instead of queuing (``put``) or returning it.
    ``unit``: the compute unit its stage takes turns on with other stages (None: a unit of its own)."""

    def __init__(
        self,
        maxsize: int,
        drop: Callable[[W, str], Awaitable[None]],
        clock: Callable[[], float] = time.time,
        unit: Unit | None = None,
    ):
        self.maxsize = max(1, maxsize)
        self._drop = drop
        self._clock = clock
        self.unit = unit
        self._heap: list[_Entry[W]] = []  # queued and waiting work, best first
        self._admitted = 0  # entries in the queue proper (the rest wait: their putters are blocked)
        self._nonempty = asyncio.Event()
        self._taken = asyncio.Event()  # set whenever work leaves the queue (room for ``put(wait=False)``)
        self._recent: deque[float] = deque(maxlen=RECENT)
        self.expected_s = 0.0  # the stage's expected compute: the least of its recent ones (0 before any)
        self.busy_until = 0.0  # when the compute under way is expected to end (wall clock; 0: none)
        self.dropped = 0  # work dropped, since the queue was made
        self._predicted = 0  # drops on the expectation alone since the last compute (PROBE_AFTER)
        self._probes: set[int] = set()  # ids of work let through as probes: not dropped on the expectation
        self.drop_reasons: dict[str, int] = {}  # "arrival" / "dequeue" -> how many

    # --- what the worker tells it -------------------------------------------------------------------------

    def computing(self, started: float) -> None:
        self.busy_until = started + self.expected_s

    def computed(self, compute_s: float) -> None:
        if math.isfinite(compute_s) and compute_s >= 0:
            self._recent.append(compute_s)
            self.expected_s = min(self._recent)
        self.busy_until = 0.0
        self._predicted = 0

    # --- the drop rule ------------------------------------------------------------------------------------

    def busy_s(self, now: float) -> float:
        """How long until this stage could start computing: what is left of its own compute under way, or of
        the computes holding its unit (a lower bound either way)."""
        own = max(0.0, self.busy_until - now)
        return own if self.unit is None else max(own, self.unit.free_in(now))

    def slack(self, work: W, now: float | None = None) -> float:
        """Seconds ``work`` has to spare if it were computed next (infinite without a deadline)."""
        now = self._clock() if now is None else now
        return qos.slack(work.deadline, now, self.busy_s(now) + self.expected_s)

    def _infeasible(self, work: W, when: str) -> str | None:
        if work.deadline is None:
            return None  # no deadline: never dropped
        now = self._clock()
        spare = self.slack(work, now)
        if spare >= 0:
            return None
        if work.deadline > now:  # late only by the expectation
            if id(work) in self._probes:
                return None
            if self._predicted >= PROBE_AFTER:  # the expectation may be stale: this one is computed anyway
                self._predicted = 0
                self._probes.add(id(work))
                return None
            self._predicted += 1
        busy = self.busy_s(now)
        return (
            f"dropped ({when}): its deadline is {(work.deadline - now) * 1e3:.1f} ms away, "
            f"{qos.priority_name(work.priority)} priority; the stage needs at least "
            f"{self.expected_s * 1e3:.1f} ms to compute it"
            + (f" after {busy * 1e3:.1f} ms of the compute under way" if busy else "")
        )

    async def _dropping(self, work: W, when: str) -> bool:
        reason = self._infeasible(work, when)
        if reason is None:
            return False
        self.dropped += 1
        self.drop_reasons[when] = self.drop_reasons.get(when, 0) + 1
        await self._drop(work, reason)
        return True

    # --- the queue ----------------------------------------------------------------------------------------

    def qsize(self) -> int:
        return len(self._heap)

    def empty(self) -> bool:
        return not self._heap

    def full(self) -> bool:
        return self._admitted >= self.maxsize

    def waiting(self) -> int:
        """Work beyond the bound, waiting for a place (in the queue's order with the rest)."""
        return len(self._heap) - self._admitted

    def items(self) -> list[W]:
        """The work there is, in the order it would be taken."""
        return [entry.work for entry in sorted(self._heap)]

    def head(self) -> tuple[int, float, int] | None:
        """The order key of the best work there is (None: none), comparable with other queues' heads."""
        return self._heap[0].key if self._heap else None

    async def put(self, work: W, wait: bool = True) -> None:
        """Queue ``work`` in EDF order (or drop it, when it cannot make its deadline); waits while the queue
        is full, until ``work`` is taken or has a place. ``wait=False``: a full queue keeps it waiting in
        order and returns at once, or once work leaves while more than ``MAX_WAITING`` wait (see above)."""
        if await self._dropping(work, "on arrival"):
            return
        entry = _Entry(qos.order_key(work.priority, work.deadline, next(_ARRIVALS)), work)
        if self._admitted < self.maxsize:
            self._admitted += 1
            heapq.heappush(self._heap, entry)
            self._nonempty.set()
            return
        admitted = entry.admitted = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, entry)
        self._nonempty.set()
        if not wait:  # taken or admitted in its turn; nobody awaits its place, only room to wait in
            while self.waiting() > MAX_WAITING:
                self._taken.clear()
                await self._taken.wait()
            return
        try:
            await admitted
        except asyncio.CancelledError:
            # Cancelled while waiting (its future cancelled with it, or not yet resolved): its work goes.
            self._probes.discard(id(work))
            if (admitted.cancelled() or not admitted.done()) and entry in self._heap:
                self._heap.remove(entry)
                heapq.heapify(self._heap)
                if not self._heap:
                    self._nonempty.clear()
            raise

    async def get(self) -> W:
        """The best work there is (queued or waiting); work that cannot make its deadline is dropped."""
        while True:
            await self.wait()
            work = await self.take()
            if work is not None:
                return work

    async def wait(self) -> None:
        """Until there is work (queued or waiting)."""
        while not self._heap:
            self._nonempty.clear()
            await self._nonempty.wait()

    async def take(self) -> W | None:
        """The best work there is now, without waiting for any: work that cannot make its deadline is
        dropped meanwhile (None: nothing left)."""
        while self._heap:
            entry = heapq.heappop(self._heap)
            self._taken.set()
            if entry.admitted is None:
                self._admitted -= 1
            elif entry.admitted.cancelled():
                continue  # its putter was cancelled while it waited: the work is not to be done
            elif not entry.admitted.done():
                entry.admitted.set_result(None)  # taken straight from the waiting: its putter goes on
            self._admit_next()
            if not self._heap:
                self._nonempty.clear()
            if not await self._dropping(entry.work, "when its turn came"):
                self._probes.discard(id(entry.work))
                return entry.work
            self._probes.discard(id(entry.work))
        self._nonempty.clear()
        return None

    def _admit_next(self) -> None:
        """A place freed: the best waiting work takes it, and its putter goes on."""
        if self._admitted >= self.maxsize:
            return
        waiting = [e for e in self._heap if e.admitted is not None and not e.admitted.done()]
        if waiting:
            best = min(waiting)
            assert best.admitted is not None
            best.admitted.set_result(None)
            best.admitted = None
            self._admitted += 1

    def metrics(self, now: float | None = None) -> dict[str, Any]:
        """Its length (by class) and the least slack of its work with a deadline (absent: none queued), in
        its own order (``least_slack``; the agent's telemetry predicts it in its unit's order)."""
        now = self._clock() if now is None else now
        by_class = [0] * len(qos.PRIORITIES)
        for entry in self._heap:
            by_class[min(max(entry.work.priority, 0), qos.MAX_PRIORITY)] += 1
        out: dict[str, Any] = {"queued": len(self._heap), "by_class": by_class}
        least = least_slack([self], now)
        if math.isfinite(least):
            out["slack_s"] = least
        return out


def least_slack(queues: list[StageQueue[Any]], now: float) -> float:
    """The least slack of the work with a deadline in ``queues``, stages that take turns on one compute unit
    (or one queue alone), each piece's predicted in the order the unit would compute them: after what holds
    the unit now, and one expected compute of its own stage (shared among the unit's slots) for each piece up
    to and including it. Infinite: none has a deadline."""
    if not queues:
        return math.inf
    unit = queues[0].unit
    slots = unit.slots if unit is not None else 1
    ahead = min(queue.busy_s(now) for queue in queues)
    least = math.inf
    pieces = sorted(((e.key, e.work, q) for q in queues for e in q._heap), key=lambda p: p[0])
    for _, work, queue in pieces:
        ahead += queue.expected_s / slots
        least = min(least, qos.slack(work.deadline, now, ahead))
    return least


class Admission:
    """At most ``slots`` holders at once (a served model's requests in its pipeline); while all are taken,
    the waiting enter most urgent first, by the stage queues' order (``qos.order_key``), not by arrival."""

    def __init__(self, slots: int):
        self._free = max(1, slots)
        self._waiting: list[tuple[tuple[int, float, int], asyncio.Future[None]]] = []

    def locked(self) -> bool:
        return self._free <= 0

    async def acquire(self, priority: int, deadline: float | None) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (qos.order_key(priority, deadline, next(_ARRIVALS)), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # handed a slot just as its waiter was cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            _, future = heapq.heappop(self._waiting)
            if not future.done():  # a cancelled waiter is skipped
                future.set_result(None)  # the slot goes straight to the most urgent waiter
                return
        self._free += 1


class QosCollector:
    """The telemetry of an agent's stage queues (a collector: ``collect() -> metrics``; docs/qos.md):

    ``qos.queued``            work waiting in all the agent's stage queues (0: none)
    ``qos.queued.<class>``    the same per priority class (low, normal, high, critical), sent only while
                              not 0 (absent: none of that class waits; each record stays small)
    ``qos.slack_s``           the least slack of the queued work with a deadline, each piece's predicted in
                              the order its compute unit would take it, across the stages on that unit
                              (``least_slack``; absent: none has a deadline); negative: it will be dropped
    ``qos.dropped``           work the agent's stages have dropped since it started (a counter)

    An agent with no stage deployed that has dropped nothing sends none of them.
    """

    def __init__(self, queues: dict[Any, StageQueue[Any]], dropped: Callable[[], int]):
        self._queues = queues
        self._dropped = dropped

    def collect(self) -> dict[str, float]:
        dropped = self._dropped()
        queues = list(self._queues.values())  # a copy: the sampler runs in a thread of its own
        if not queues and not dropped:
            return {}  # no stage deployed here, nothing dropped: nothing to say, every record stays small
        now = queues[0]._clock() if queues else time.time()
        by_class = [0] * len(qos.PRIORITIES)
        units: dict[int, list[StageQueue[Any]]] = {}  # the stages that take turns on one unit together
        for queue in queues:
            numbers = queue.metrics(now)
            by_class = [a + b for a, b in zip(by_class, numbers["by_class"], strict=True)]
            units.setdefault(id(queue.unit if queue.unit is not None else queue), []).append(queue)
        least = min((least_slack(group, now) for group in units.values()), default=math.inf)
        out = {"qos.queued": float(sum(by_class)), "qos.dropped": float(dropped)}
        out.update(
            {f"qos.queued.{name}": float(n) for name, n in zip(qos.PRIORITIES, by_class, strict=True) if n}
        )
        if math.isfinite(least):
            out["qos.slack_s"] = least
        return out
