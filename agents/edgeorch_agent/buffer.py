"""The telemetry buffer: records wait here, in seq order, until the control plane acknowledges them.

Seq rules
    Every record gets the next seq; seqs only ever grow. Until the first ``Welcome`` of this process the
    numbering is provisional: the server's ``last_seq`` tells where the device's history ends, and a freshly
    started agent (``next_seq`` 0) shifts its provisional records to start at ``last_seq + 1``, so a restarted
    agent never reuses a seq. Later welcomes only ever move ``next_seq`` forward.

Ack rules
    ``ack(seqs)`` removes exactly those records. Everything else stays and is resent on the next connection;
    duplicates are harmless because the server dedups on (device, seq).

Bounds
    At most ``capacity`` records are kept. When full, the oldest record is dropped and counted in
    ``dropped`` (cumulative since start; the server is told in every ``Telemetry`` message).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from itertools import islice

from edgeorch_wire.protocol import Record

DEFAULT_CAPACITY = 10_000


class TelemetryBuffer:
    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        if capacity < 1:
            raise ValueError("buffer capacity must be at least 1")
        self.capacity = capacity
        self.next_seq = 0
        self.dropped = 0
        self._records: OrderedDict[int, Record] = OrderedDict()
        self._anchored = False

    def __len__(self) -> int:
        return len(self._records)

    def add(self, metrics: dict[str, float], ts: float) -> Record:
        if len(self._records) >= self.capacity:
            self._records.popitem(last=False)
            self.dropped += 1
        record = Record(seq=self.next_seq, ts=ts, metrics=metrics)
        self._records[record.seq] = record
        self.next_seq += 1
        return record

    def sync(self, last_seq: int) -> None:
        """Align seqs with the server's ``Welcome.last_seq`` (the highest seq it has stored, -1 for none)."""
        floor = last_seq + 1
        if not self._anchored:
            self._anchored = True
            # Provisional numbering started at 0, so the offset that moves it past the server's history
            # is floor.
            self._shift(max(0, floor))
        self.next_seq = max(self.next_seq, floor)

    def _shift(self, offset: int) -> None:
        # Only provisional records (sampled before this process ever heard from the server) are shifted:
        # the server cannot have stored them, so renumbering them loses nothing and reuses no seq.
        if offset:
            old = list(self._records.values())
            self._records = OrderedDict(
                (r.seq + offset, Record(r.seq + offset, r.ts, r.metrics)) for r in old
            )
            self.next_seq += offset

    def ack(self, seqs: Iterable[int]) -> int:
        """Forget the stored records; returns how many were still here."""
        return sum(self._records.pop(seq, None) is not None for seq in seqs)

    def after(self, cursor: int, limit: int) -> list[Record]:
        """Up to ``limit`` unacked records with seq > ``cursor``, oldest first."""
        return list(islice((r for seq, r in self._records.items() if seq > cursor), limit))

    def has_after(self, cursor: int) -> bool:
        return bool(self._records) and next(reversed(self._records)) > cursor

    def unacked(self) -> list[int]:
        return list(self._records)
