"""What the executor's parts share: the agent's identity and links, and the tables more than one part reads.

A table lives here when parts on different levels touch it: the stage queues (deployments create them,
stage workers and request sources fill them) and the compute units their workers take turns on, the stream
frames awaited by this source (streams add them, a DONE resolves them, stage workers look at them to choose
where to compute), the stream emitters (streams start them, an undeploy cancels them) and the secrets of
deployments this source only enters.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from edgeorch_wire.aio import within
from edgeorch_wire.frames import Done
from edgeorch_wire.protocol import Message
from edgeorch_wire.qos import DEFAULT_PRIORITY

from ..dataplane import PeerPool
from ..emulation.device import EmulatedDevice
from ..emulation.links import LinkTable
from ..runtime import Deployment, SegmentCache
from .inputs import Pushed
from .qos import StageQueue
from .units import ComputeUnit


class RouteLost(Exception):
    """A request's route lost a device (a failover ``stream_switch``): its answer will not come, and a
    failover stream or serving session sends it again on the new route."""


Outbox = Callable[[Message, "bytes | None"], Awaitable[None]]
# Measures the link to the control plane: (link-probe URL, payload bytes) -> {rtt_s, bandwidth_bps, error}.
ControlProbe = Callable[[str, int], Awaitable[dict[str, Any]]]

FrameKey = tuple[str, str, int]  # (deployment, session, request): one stream frame


@dataclass
class Work:
    """One request at one stage: its inputs, the trace so far, and whom to tell when a stream frame ends."""

    request_id: int
    session_id: str | None
    feeds: dict[str, np.ndarray]
    trace: list[dict[str, Any]]
    arrived: float  # wall clock
    origin: dict[str, Any] | None = None
    relayed: bool = False
    priority: int = DEFAULT_PRIORITY  # its priority class's rank (edgeorch_wire.qos)
    deadline: float | None = None  # Unix seconds by which its answer is due (None: no deadline)


@dataclass
class Shared:
    device_id: str
    credential: str
    cache: SegmentCache
    outbox: Outbox  # the control channel's bounded queue: a full queue slows the executor down
    pool: PeerPool
    links: LinkTable  # emulated links to peers (empty: none)
    device: EmulatedDevice | None = None  # emulation: a device profile's speed, units, heat and tenants
    address: tuple[str, int] | None = None  # this agent's data plane as peers reach it
    deployments: dict[str, Deployment] = field(default_factory=dict)
    queues: dict[tuple[str, int], StageQueue[Work]] = field(default_factory=dict)  # EDF (``qos``)
    # The device's compute units by name, each the one scheduler of its stages' turns (``units``).
    units: dict[str, ComputeUnit] = field(default_factory=dict)
    # Stream frames in flight from this source -> (their DONE, the wall clock when it was read).
    waiters: dict[FrameKey, asyncio.Future[tuple[Done, float]]] = field(default_factory=dict)
    # Streams this agent sources -> (the deployment they run on, the task emitting their frames).
    emitters: dict[str, tuple[str, asyncio.Task[None]]] = field(default_factory=dict)
    entry_secrets: dict[str, bytes] = field(default_factory=dict)  # deployments whose frames go to a peer
    # Streams whose frames a local application pushes: session -> its live source (``push`` a frame to it).
    pushed: dict[str, Pushed] = field(default_factory=dict)
    dropped: int = (
        0  # work this agent's stage queues dropped (its deadline could not be met), since it started
    )

    def origin(self) -> dict[str, Any] | None:
        """Where a stream frame's DONE comes back to: this agent's data plane (None: not listening)."""
        if self.address is None:
            return None
        return {"device_id": self.device_id, "host": self.address[0], "port": self.address[1]}

    def secret_for(self, deployment_id: str) -> bytes | None:
        deployment = self.deployments.get(deployment_id)
        # A stream source that runs no stage of the deployment still hears its frames end (DONE frames).
        return deployment.secret if deployment else self.entry_secrets.get(deployment_id)

    def routes_lost(self, session_id: str, kept_deployment: str, switch_id: str) -> None:
        """A failover switch: every request of the session still out on another deployment will not be
        answered there; its waiter raises ``RouteLost`` (a failover stream or serving session sends it
        again)."""
        for key, waiter in list(self.waiters.items()):
            if key[1] == session_id and key[0] != kept_deployment and not waiter.done():
                waiter.set_exception(RouteLost(f"its route lost a device (switch {switch_id})"))

    def frame_done(self, done: Done) -> None:
        waiter = self.waiters.get((done.deployment_id, done.session_id, done.request_id))
        if waiter is not None and not waiter.done():
            # The frame ended for its source when its DONE was read: the waiting task resumes a loop turn
            # or two later, which is this agent's bookkeeping, not the frame's latency.
            waiter.set_result((done, time.time()))


class Rerouted(Protocol):
    """A stream or serving session whose route a ``stream_switch`` changes: ``switched`` is set (and
    replaced) at each switch (``announce_switch``)."""

    route: Any
    switched: asyncio.Event


def announce_switch(holder: Rerouted) -> None:
    holder.switched.set()
    holder.switched = asyncio.Event()


async def next_route(holder: Rerouted, old_deployment: str, seconds: float) -> Any:
    """``holder``'s route once it no longer goes to ``old_deployment`` (None after ``seconds``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while holder.route is None or holder.route.deployment_id == old_deployment:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        try:
            await within(holder.switched.wait(), remaining)
        except TimeoutError:
            return None
    return holder.route
