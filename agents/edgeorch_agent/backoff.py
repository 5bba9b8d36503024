"""Reconnect delays: exponential backoff with full jitter.

The n-th delay is drawn uniformly from [0, min(cap, base * 2**n)] ("full jitter"), so a fleet of agents that
lost the control plane at the same moment does not come back in lock-step. ``reset()`` after a connection
that lasted, so one blip does not cost the next outage a long wait.
"""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None):
        if base <= 0 or cap < base:
            raise ValueError("backoff needs 0 < base <= cap")
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        """The largest delay the next draw may return."""
        # Past ~64 doublings any sane cap is reached; bounding the exponent avoids float overflow.
        return min(self.cap, self.base * 2 ** min(self.attempt, 64))

    def next_delay(self) -> float:
        delay = self._rng.uniform(0, self.ceiling())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
