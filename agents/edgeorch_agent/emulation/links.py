"""Network emulation on the data plane: each link from this agent to a peer has a bandwidth, RTT, jitter
and loss, constant or following a trace, and every data-plane send to that peer takes the time it would.

Link specs and their traces (constant, ``steps``, ``random_walk``, ``csv``) are the wire contract's:
``edgeorch_wire.links`` parses them, for a ``--links`` file and a ``shape`` message alike.

Delay of an N-byte send, in direction up (this agent → peer) or down (the answer to a PING)::

    start   = max(now, when the previous send in that direction finished serialising)
    serial  = 8 N / bandwidth
    retrans = lost * rtt,   lost ~ Binomial(ceil(N / 1448), loss)
    arrival = start + serial + retrans + max(0, rtt/2 + U(-jitter, +jitter))

Loss is modelled as retransmission delay: each lost packet-equivalent (one 1448-byte TCP segment) costs
one extra RTT, and stalls the link for that long (no data is actually dropped: TCP would resend it). Arrivals
never go backwards (TCP delivers in order), so jitter cannot reorder frames.

The sender sleeps the delay minus the real transfer time (an average of what the previous sends on the link
really took), then sends: on loopback, a transfer takes the time it would take over the emulated link.
Each agent shapes what it sends; a PING's PONG comes back through the requester's shaper (direction down),
so probes measure the emulated link both ways.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from edgeorch_wire.links import (
    ANY_PEER,
    FIELDS,
    LinkSpec,
    LinkSpecError,
    Trace,
    load_links,
    parse_links,
    parse_trace,
)

__all__ = [
    "ANY_PEER",
    "FIELDS",
    "PACKET_BYTES",
    "LinkShaper",
    "LinkSpec",
    "LinkSpecError",
    "LinkState",
    "LinkTable",
    "Trace",
    "load_links",
    "parse_links",
    "parse_trace",
]

PACKET_BYTES = 1448  # one TCP segment's payload on a 1500-byte MTU


# --- shaping ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkState:
    """A link's parameters at one instant (a trace's value, sanitised)."""

    bandwidth_bps: float | None
    rtt_s: float
    jitter_s: float
    loss: float


class LinkShaper:
    """One emulated link from this agent to one peer. Used from the event loop only."""

    def __init__(self, spec: LinkSpec, clock: Callable[[], float] = time.monotonic, seed: int = 0):
        self.spec = spec
        self._clock = clock
        self._started = clock()
        self._rng = random.Random(seed)
        self._free = {"up": 0.0, "down": 0.0}  # when each direction finishes its current serialisation
        self._arrival = {"up": 0.0, "down": 0.0}
        self.real_s = 0.0  # moving average of what sends on this link really took (subtracted from sleeps)

    def state(self) -> LinkState:
        t = self._clock() - self._started
        bandwidth = None if self.spec.bandwidth_bps is None else self.spec.bandwidth_bps.value(t)
        return LinkState(
            None if bandwidth is None else max(1.0, bandwidth),
            max(0.0, self.spec.rtt_s.value(t)),
            max(0.0, self.spec.jitter_s.value(t)),
            min(0.99, max(0.0, self.spec.loss.value(t))),
        )

    def delay(self, nbytes: int, direction: str = "up") -> float:
        """Seconds from now until the last of ``nbytes`` sent now arrives at the other end."""
        now, link = self._clock(), self.state()
        start = max(now, self._free[direction])
        serial = 8.0 * nbytes / link.bandwidth_bps if link.bandwidth_bps else 0.0
        retrans = self._lost(nbytes, link.loss) * link.rtt_s
        self._free[direction] = start + serial + retrans
        one_way = max(0.0, link.rtt_s / 2 + self._rng.uniform(-link.jitter_s, link.jitter_s))
        arrival = max(start + serial + retrans + one_way, self._arrival[direction])
        self._arrival[direction] = arrival
        return arrival - now

    def _lost(self, nbytes: int, loss: float) -> int:
        if loss <= 0:
            return 0
        packets = max(1, math.ceil(nbytes / PACKET_BYTES))
        # Binomial by its normal approximation above a few hundred packets: exact enough, and O(1).
        if packets > 200:
            mean, sd = packets * loss, math.sqrt(packets * loss * (1 - loss))
            return max(0, round(self._rng.gauss(mean, sd)))
        return sum(self._rng.random() < loss for _ in range(packets))

    async def hold(self, nbytes: int, direction: str = "up") -> float:
        """Sleep until a send of ``nbytes`` may start so that it arrives when the link says; returns the
        emulated delay."""
        emulated = self.delay(nbytes, direction)
        await asyncio.sleep(max(0.0, emulated - self.real_s))
        return emulated

    def observe(self, real_s: float) -> None:
        self.real_s = 0.8 * self.real_s + 0.2 * max(0.0, real_s)


class LinkTable:
    """The shapers of this agent's links, by peer device id, peer name or ``*`` (every other peer)."""

    def __init__(
        self, specs: dict[str, LinkSpec | None] | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self._clock = clock
        self._specs: dict[str, LinkSpec] = {}
        self._shapers: dict[tuple[str, str], LinkShaper] = {}  # (spec key, peer) -> its link
        self.update(specs or {})

    def update(self, specs: dict[str, LinkSpec | None]) -> None:
        """Set (or, with None, remove) links; a changed link starts its traces again at t = 0."""
        for peer, spec in specs.items():
            if spec is None:
                self._specs.pop(peer, None)
            else:
                self._specs[peer] = spec
        self._shapers = {k: v for k, v in self._shapers.items() if k[0] not in specs}

    def for_peer(self, device_id: str | None, name: str | None = None) -> LinkShaper | None:
        for key in (device_id, name):
            if key is not None and key in self._specs:
                return self._shaper(key, key)
        if ANY_PEER in self._specs and device_id is not None:
            # Each peer gets its own link from the default spec: separate links, not one shared pipe.
            return self._shaper(ANY_PEER, device_id)
        return None

    def _shaper(self, spec_key: str, peer: str) -> LinkShaper:
        shaper = self._shapers.get((spec_key, peer))
        if shaper is None:
            shaper = LinkShaper(self._specs[spec_key], self._clock, seed=len(self._shapers))
            self._shapers[(spec_key, peer)] = shaper
        return shaper

    def __len__(self) -> int:
        return len(self._specs)
