"""Coalesce telemetry from every agent connection of one server process into few database writes.

Each websocket consumer awaits ``submit()``; a single writer task per event loop takes everything pending,
stores it with one ``store_batches`` call (one transaction), and resolves each caller with its own result,
which the consumer then acknowledges to its agent. While a write is in progress new batches accumulate,
so under load flushes grow instead of queuing: that is the back-pressure. At most ``max_pending`` batches
wait; a caller past the bound waits for room, which slows the agent's acks and therefore its sending.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from channels.db import database_sync_to_async

from edgeorch import events as dashboard

from .services import BatchRefused, StoreResult, store_batches

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    device_id: str
    message: object
    future: asyncio.Future = field(repr=False)


class TelemetryIngestor:
    """One per event loop. ``linger`` trades a little latency for fewer, larger transactions."""

    def __init__(self, linger: float = 0.02, max_records: int = 20000, max_pending: int = 5000):
        self.linger = linger
        self.max_records = max_records
        self._queue: list[_Pending] = []
        self._records = 0
        self._room = asyncio.Semaphore(max_pending)
        self._wake = asyncio.Event()
        self._writer: asyncio.Task | None = None

    async def submit(self, device_id: str, message) -> StoreResult:
        """Queue one device's batch and wait until it is stored (or raise what storing raised)."""
        await self._room.acquire()
        count = len(message.records)
        future = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(str(device_id), message, future))
        self._records += count
        self._wake.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._run(), name="telemetry-writer")
        return await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if self._records < self.max_records:
                await asyncio.sleep(self.linger)
            batch, self._queue, self._records = self._queue, [], 0
            self._wake.clear()
            if batch:
                await self._flush(batch)
            for _ in batch:
                self._room.release()

    async def _flush(self, batch: list[_Pending]) -> None:
        try:
            results = await database_sync_to_async(store_batches, thread_sensitive=False)(
                [(p.device_id, p.message) for p in batch]
            )
        except Exception as exc:  # the database is down: every caller hears it, none is acked
            log.exception("storing %d telemetry batches failed", len(batch))
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return
        for pending, result in zip(batch, results, strict=True):
            if pending.future.done():
                continue
            if isinstance(result, BatchRefused):  # this device's alone: the others were stored
                pending.future.set_exception(result)
            else:
                pending.future.set_result(result)
        stored = [
            (p.device_id, p.message)
            for p, r in zip(batch, results, strict=True)
            if isinstance(r, StoreResult)
        ]
        await dashboard.apublish("telemetry", dashboard.telemetry_data(stored))


_ingestors: dict[int, TelemetryIngestor] = {}


def get_ingestor() -> TelemetryIngestor:
    """The ingestor of the running event loop (Daphne runs one loop per process)."""
    loop = asyncio.get_running_loop()
    ingestor = _ingestors.get(id(loop))
    if ingestor is None:
        ingestor = _ingestors[id(loop)] = TelemetryIngestor()
    return ingestor
