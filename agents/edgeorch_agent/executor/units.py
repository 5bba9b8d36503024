"""The compute units of this device, and the turns its stages take on each (docs/qos.md, "Isolation between
users").

A stage's queue orders its own work (``qos.StageQueue``), but a compute unit is shared by the stages of every
deployment on it: of every session, every user. ``ComputeUnit`` is the one scheduler of a unit. A stage worker
whose queue holds work asks it for a turn (``turn``); while every slot is taken, the waiting stages wait, and
each freed slot goes to the stage whose best work comes first by the stage queues' own order
(``edgeorch_wire.qos.order_key``, arrivals numbered across all the queues): the highest class, then the
earliest deadline, then the earliest arrival, whichever session the work belongs to. So a flood of
low-priority work, from one session or many, delays higher-priority work by the computes under way when it
comes (one, on a unit that computes one thing at a time), never by the flood's queues.

The work stays in its stage's queue until the turn comes (``StageQueue.take``, ``next_turn``): queue lengths
stay true, the drop rule is checked again then, and the slack telemetry predicts each piece in the unit's
order (``qos.least_slack``). A turn covers the compute only: the worker gives it back before handing the
output on, since a next stage on the same unit needs a turn of its own (held through that stage's
back-pressure, one turn would wait for the other for ever). The worker asks again only once its output is
handed on, so a freed turn goes to a stage already waiting, if any: a stage with several pieces queued
computes them with one of the other waiting stages' (the most urgent) in between, rather than all in a row.

Slots: an emulated device's unit computes one thing at a time (``EmulatedDevice.occupy``), so one slot. A
device that is not emulated is one unit, ``host``, with a slot per core: its stages' onnxruntime threads share
the cores through the operating system, and the slots decide only which stage starts next.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..emulation.device import EmulatedDevice
from .qos import Queued, StageQueue

W = TypeVar("W", bound=Queued)

HOST = "host"  # the one unit of a device that is not emulated


@dataclass(eq=False)
class Turn:
    """A stage's hold on its unit; ``release`` gives it back (once, however often it is called)."""

    unit: ComputeUnit
    queue: StageQueue[Any]
    released: bool = field(default=False)

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.unit._release(self.queue)


class ComputeUnit:
    def __init__(self, name: str, slots: int = 1):
        self.name = name
        self.slots = max(1, slots)
        self._holders: list[StageQueue[Any]] = []  # the stages whose turn it is (computing, or about to)
        self._waiting: list[tuple[StageQueue[Any], asyncio.Future[Turn]]] = []  # in the order they asked

    def __repr__(self) -> str:
        return f"ComputeUnit({self.name!r}, slots={self.slots}, held={len(self._holders)})"

    @property
    def waiting(self) -> int:
        """Stages waiting for a turn."""
        return sum(not future.done() for _, future in self._waiting)

    def free_in(self, now: float) -> float:
        """Seconds until a slot is expected to free (0: one is free): the least of what is left of the
        computes holding the unit, each by its stage's expectation (a lower bound, as the drop rule needs)."""
        if len(self._holders) < self.slots:
            return 0.0
        return min(max(0.0, queue.busy_until - now) for queue in self._holders)

    async def turn(self, queue: StageQueue[Any]) -> Turn:
        """Wait for a turn for ``queue``'s stage: at once while a slot is free and no stage waits; else when a
        slot frees and ``queue``'s best work is the most urgent of the waiting stages'."""
        if len(self._holders) < self.slots and not self._waiting:
            self._holders.append(queue)
            return Turn(self, queue)
        future: asyncio.Future[Turn] = asyncio.get_running_loop().create_future()
        waiter = (queue, future)
        self._waiting.append(waiter)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                future.result().release()  # handed a turn just as its worker was cancelled: pass it on
            elif waiter in self._waiting:
                self._waiting.remove(waiter)
            raise

    def _release(self, queue: StageQueue[Any]) -> None:
        self._holders.remove(queue)
        while len(self._holders) < self.slots and self._waiting:
            best = min(self._waiting, key=lambda waiter: _urgency(waiter[0]))
            self._waiting.remove(best)
            queue, future = best
            if not future.done():  # a cancelled waiter is skipped
                self._holders.append(queue)
                future.set_result(Turn(self, queue))


async def next_turn(queue: StageQueue[W], unit: ComputeUnit) -> tuple[W, Turn]:
    """A stage worker's next work, with its unit's turn: once the queue holds work, the stage waits for a
    turn, then takes the most urgent of its own work, dropping what could only be late by then (nothing left:
    it gives the turn back and waits again). The caller releases the turn once the work is computed."""
    while True:
        await queue.wait()
        turn = await unit.turn(queue)
        try:
            work = await queue.take()
        except BaseException:
            turn.release()
            raise
        if work is not None:
            return work, turn
        turn.release()


def _urgency(queue: StageQueue[Any]) -> tuple[int, tuple[int, float, int]]:
    """A waiting stage's place in line: its best work's order key; a stage with none left goes last."""
    head = queue.head()
    return (1, (0, 0.0, 0)) if head is None else (0, head)


def unit_for(device: EmulatedDevice | None, unit: str | None, units: dict[str, ComputeUnit]) -> ComputeUnit:
    """The unit a stage computes on (``unit``: the stage's, None the device's default), made on first use;
    one per unit of the device, shared by all its stages."""
    if device is None:
        name, slots = HOST, os.cpu_count() or 1
    else:
        name, slots = device.profile.unit(unit or device.default_unit).name, 1
    if name not in units:
        units[name] = ComputeUnit(name, slots)
    return units[name]
