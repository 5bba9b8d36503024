"""Dynamic inference per request: which configuration serves a request (docs/qos.md).

A model with several costs — the branchy model's exits, a catalog model's width or quantised variants, and
the split points between the source and an edge — can serve a request in several *configurations*, each
with its measured accuracy (the catalog's) and its predicted time: the compute of each stage it runs and the
transfer of each hop (``stream.dynamic``). The source's controller picks per request, without asking the
control plane, the most accurate configuration whose predicted latency meets the request's deadline given
the queues it knows now (Edgent's and SPINN's rule): its own stages' queues and the last queueing each
downstream stage reported on a frame's trace.

The rule is a pure function (``choose``) so that both ends test the same code: the agent runs it per frame,
the control plane's tests check it against brute force over (exit, split, variant).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """One configuration, as the rule sees it: its accuracy (0..1), each stage it runs (a key the queue
    delays are known by, and its predicted compute seconds) and the seconds its hops' transfers take."""

    accuracy: float
    stages: tuple[tuple[str, float], ...]
    transfer_s: float = 0.0


def predicted_s(option: Option, queues: Mapping[str, float]) -> float:
    """The option's predicted latency now: each stage's compute plus the queueing known for it (0 where none
    is known), plus its transfers."""
    return option.transfer_s + sum(compute + max(0.0, queues.get(key, 0.0)) for key, compute in option.stages)


def choose(
    options: Sequence[Option], budget_s: float | None, queues: Mapping[str, float]
) -> tuple[int, float]:
    """The index of the option to serve a request with ``budget_s`` seconds left until its deadline (None: no
    deadline), and its predicted latency. The most accurate whose predicted latency fits the budget; among
    equally accurate ones the fastest, then the first listed. When none fits, the fastest (then the most
    accurate, then the first): the request's best chance, which its stages may still drop.
    """
    if not options:
        raise ValueError("no configuration to choose from")
    budget = math.inf if budget_s is None else budget_s
    times = [predicted_s(option, queues) for option in options]
    fitting = [i for i, t in enumerate(times) if t <= budget]
    if fitting:
        best = min(fitting, key=lambda i: (-options[i].accuracy, times[i], i))
    else:
        best = min(range(len(options)), key=lambda i: (times[i], -options[i].accuracy, i))
    return best, times[best]
