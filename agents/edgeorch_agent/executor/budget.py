"""A stream's budget at its source: which edges its frames may go to, and how fast (docs/qos.md, "Budgets").

The control plane's coordinator sets each running session's budget from the fleet's load (``budget``
message): the edges it may use, each with its share of the edge and the frames per second that share buys
it. The source keeps to it per frame, without asking anyone: a token bucket per edge, refilled at the edge's
rate and holding up to ``BURST_S`` seconds of it (at least one frame), pays for each frame sent there. A
frame's edge is the first device other than this one that its route sends it to: the entry's peer, or the
next hop of the last local stage before the chain leaves this device. A route that runs on this device
alone needs no budget. No budget (none received, or one with ``edges`` null): no limit. A budget holds while
the stream is routed to the deployment it was set for: a re-plan (``stream_switch``) lifts it until the
coordinator sends the next.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..runtime import Deployment

BURST_S = 1.0  # a bucket holds this many seconds of its rate (at least one frame)


@dataclass
class TokenBucket:
    rate: float  # frames per second
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    at: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.at = self.clock()

    @property
    def burst(self) -> float:
        return max(1.0, self.rate * BURST_S)

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def ready(self) -> bool:
        """Whether a frame could be paid for now."""
        self._refill()
        return self.tokens >= 1.0

    def take(self) -> bool:
        """Pay for one frame; False (nothing taken) when the bucket has less than one."""
        if not self.ready():
            return False
        self.tokens -= 1.0
        return True


class Budget:
    """One session's budget as its source keeps it: the allowed edges and a bucket for each rated one."""

    def __init__(
        self,
        budget_id: str,
        edges: list[dict[str, Any]],
        deployment_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.budget_id = budget_id
        self.deployment_id = deployment_id  # it holds while the stream is routed there (None: always)
        self.shares = {str(e["device_id"]): float(e["share"]) for e in edges}
        self.names = {str(e["device_id"]): str(e.get("name") or e["device_id"]) for e in edges}
        self.buckets = {
            str(e["device_id"]): TokenBucket(float(e["rate"]), clock)
            for e in edges
            if e.get("rate") is not None and math.isfinite(float(e["rate"]))
        }

    def allows(self, edge: str | None) -> bool:
        """Whether a frame bound for ``edge`` (None: this device alone) could be sent now."""
        if edge is None:
            return True
        if edge not in self.shares or self.shares[edge] <= 0:
            return False
        bucket = self.buckets.get(edge)
        return bucket is None or bucket.ready()

    def take(self, edge: str | None) -> bool:
        """Pay for a frame bound for ``edge``: False when it is not allowed or over its share now."""
        if not self.allows(edge):
            return False
        bucket = self.buckets.get(edge) if edge is not None else None
        return bucket is None or bucket.take()

    def why_not(self, edge: str | None) -> str:
        """Why a frame bound for ``edge`` was refused (the ``budget:`` error of a frame dropped for it)."""
        if edge is None:
            return "budget: allowed"
        name = self.names.get(edge, edge)
        if edge not in self.shares or self.shares[edge] <= 0:
            allowed = ", ".join(sorted(n for e, n in self.names.items() if self.shares[e] > 0)) or "none"
            return (
                f"budget: edge {name} is not in this session's budget {self.budget_id} (allowed: {allowed})"
            )
        bucket = self.buckets[edge]
        return (
            f"budget: over its share of edge {name} ({self.shares[edge]:.0%}, {bucket.rate:.3g} frames/s) "
            f"in budget {self.budget_id}, and no allowed alternative"
        )


def edge_of(
    deployments: dict[str, Deployment], device_id: str, deployment_id: str, first_stage: int, entry: Any
) -> str | None:
    """The first device other than ``device_id`` a request entering ``deployment_id`` at ``first_stage``
    (with ``entry``: on that peer) is sent to; None when its route stays on this device (or is not known
    here: a stage not deployed on this device, which entering it will refuse anyway)."""
    if isinstance(entry, dict):
        return str(entry["device_id"])
    deployment = deployments.get(deployment_id)
    stage = first_stage
    seen: set[int] = set()
    while deployment is not None and stage in deployment.stages and stage not in seen:
        seen.add(stage)
        hop = deployment.stages[stage].spec.next
        if hop is None:
            return None
        if hop.device_id != device_id:
            return hop.device_id
        stage = hop.stage
    return None
