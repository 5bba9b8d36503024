"""Logging an agent's refused messages without letting the agent write the log: one line per (device,
reason) per window, then, when the window has passed and it happens again, one line saying how many were
left out. A device that sends 10,000 bad messages writes a few lines, not 10,000.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class RateLimitedLog:
    """``warning(key, message)`` logs the first of each ``key`` per ``window`` seconds; the rest are
    counted and summed up in the next line logged for that key. At most ``max_keys`` keys are kept
    (the oldest are forgotten first), so a device cycling through reasons cannot grow memory."""

    def __init__(
        self,
        logger: logging.Logger,
        window: float = 60.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.logger, self.window, self.max_keys, self.clock = logger, window, max_keys, clock
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}  # key -> (window start, left out)

    def warning(self, key: tuple[str, str], message: str, *args: object) -> bool:
        """Log ``message % args`` unless ``key`` was logged within the window; True when it was logged."""
        now = self.clock()
        started, left_out = self._seen.get(key, (None, 0))
        if started is not None and now - started < self.window:
            self._seen[key] = (started, left_out + 1)
            return False
        if left_out:
            message += " (and %d more like it in the last %g s)"
            args = (*args, left_out, self.window)
        self._seen.pop(key, None)  # re-inserted last: the dict's order is the age of each key's window
        self._seen[key] = (now, 0)
        while len(self._seen) > self.max_keys:
            del self._seen[next(iter(self._seen))]
        self.logger.warning(message, *args)
        return True
