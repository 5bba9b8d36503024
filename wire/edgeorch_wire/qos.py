"""Per-request quality of service: priority classes and deadlines (docs/qos.md).

Every request (a stream frame, a served request) carries a priority class and may carry a deadline. Both ends
import the classes from here: the control plane stores a session's class by name, the data plane carries its
rank (``ActivationMeta.priority``), and every stage's queue on an agent serves higher ranks first, then the
earliest deadline (EDF), and drops work that can no longer meet its deadline before computing it.

A deadline on the wire is absolute: Unix seconds on the source's clock (``ActivationMeta.deadline``). Stages
on other devices compare it with their own clocks, as the traces' ``start``/``end`` already assume: the
fleet's clocks are synchronised (NTP); a skew of a few ms moves a drop decision by as much.
"""

from __future__ import annotations

import math
from typing import Any

# The classes, lowest first: a class's rank is its index, and a higher rank is served first.
PRIORITIES = ("low", "normal", "high", "critical")
LOW, NORMAL, HIGH, CRITICAL = range(len(PRIORITIES))
DEFAULT_PRIORITY = NORMAL
MAX_PRIORITY = len(PRIORITIES) - 1
# Triton's ``priority`` request parameter counts the other way: 1 is the highest, larger is lower, 0 the
# default. A Triton integer p is the class of rank max(LOW, TRITON_TOP + 1 - p): 1 critical, 2 high,
# 3 normal, 4 and above low.
TRITON_TOP = CRITICAL


class QosError(ValueError):
    """A priority or deadline a request cannot carry; the message says what was wrong."""


def priority_name(rank: int) -> str:
    return PRIORITIES[rank] if 0 <= rank <= MAX_PRIORITY else str(rank)


def priority_rank(name: str) -> int:
    try:
        return PRIORITIES.index(name)
    except ValueError:
        raise QosError(f"priority {name!r} is not one of {', '.join(PRIORITIES)}") from None


def parse_priority(value: Any) -> int | None:
    """A request's ``priority`` parameter as a rank: a class name (``"high"``), or an integer as Triton means
    it (0: the default, i.e. None; 1 the highest, ``TRITON_TOP``; larger is lower). None: not given."""
    if value is None:
        return None
    if isinstance(value, str):
        return priority_rank(value.strip().lower())
    if isinstance(value, bool) or not isinstance(value, int):
        raise QosError(
            f"priority must be one of {', '.join(PRIORITIES)} or a Triton priority (an integer >= 0), "
            f"not {value!r}"
        )
    if value < 0:
        raise QosError(f"priority {value} is negative (Triton priorities are 0 = default, 1 = highest, ...)")
    if value == 0:
        return None
    return max(LOW, TRITON_TOP + 1 - value)


def order_key(priority: int, deadline: float | None, seq: int) -> tuple[int, float, int]:
    """Where a piece of work goes in a stage's queue (smallest first): higher priority first, then the
    earliest deadline (none: after every deadline of its class), then arrival order (``seq``)."""
    return (-priority, math.inf if deadline is None else deadline, seq)


def slack(deadline: float | None, now: float, ahead_s: float) -> float:
    """Seconds to spare if the work needs ``ahead_s`` more from ``now``: negative means it cannot make its
    deadline; infinite without one."""
    return math.inf if deadline is None else deadline - now - ahead_s
