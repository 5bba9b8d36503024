"""What-if overrides of measured conditions, in the API's shape (bits/s and milliseconds)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class PlanInputError(ValueError):
    """A plan request names something unknown or gives a value out of range; the message says which."""


@dataclass(frozen=True)
class LinkOverride:
    bandwidth_bps: float | None = None
    rtt_s: float | None = None


@dataclass(frozen=True)
class Overrides:
    """``bandwidth_bps``/``rtt_s`` apply to every link; ``links`` to one pair (either direction) and win over
    them; ``throttle`` (>= 1.0) and ``queue`` (requests ahead) are per device id."""

    bandwidth_bps: float | None = None
    rtt_s: float | None = None
    links: dict[frozenset[str], LinkOverride] = field(default_factory=dict)
    throttle: dict[str, float] = field(default_factory=dict)
    queue: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Overrides:
        """Parse ``{bandwidth_bps?, rtt_ms?, links?: [{a, b, bandwidth_bps?, rtt_ms?}], throttle?, queue?}``."""
        data = data or {}
        links = {}
        for i, link in enumerate(data.get("links") or []):
            pair = frozenset((str(_required(link, "a", i)), str(_required(link, "b", i))))
            if len(pair) != 2:
                raise PlanInputError(f"overrides.links[{i}] joins a device to itself")
            links[pair] = LinkOverride(_bandwidth(link.get("bandwidth_bps")), _rtt(link.get("rtt_ms")))
        return cls(
            bandwidth_bps=_bandwidth(data.get("bandwidth_bps")),
            rtt_s=_rtt(data.get("rtt_ms")),
            links=links,
            throttle={
                str(k): _number(v, "throttle", minimum=1.0) for k, v in (data.get("throttle") or {}).items()
            },
            queue={str(k): int(_number(v, "queue", minimum=0)) for k, v in (data.get("queue") or {}).items()},
        )

    def device_ids(self) -> set[str]:
        return {d for pair in self.links for d in pair} | set(self.throttle) | set(self.queue)

    def link(self, a: str, b: str) -> LinkOverride:
        """The override for the pair, its unset fields filled from the global ones."""
        own = self.links.get(frozenset((a, b)), LinkOverride())
        return LinkOverride(
            own.bandwidth_bps if own.bandwidth_bps is not None else self.bandwidth_bps,
            own.rtt_s if own.rtt_s is not None else self.rtt_s,
        )


def _required(link: Mapping[str, Any], key: str, i: int) -> Any:
    if not isinstance(link, Mapping) or link.get(key) in (None, ""):
        raise PlanInputError(f"overrides.links[{i}] needs {key!r}")
    return link[key]


def _number(value: Any, what: str, minimum: float, strict: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PlanInputError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < minimum or (strict and number == minimum):
        bound = "greater than" if strict else "at least"
        raise PlanInputError(f"{what} must be {bound} {minimum:g}, got {value!r}")
    return number


def _bandwidth(value: Any) -> float | None:
    return None if value is None else _number(value, "bandwidth_bps", minimum=0.0, strict=True)


def _rtt(value: Any) -> float | None:
    return None if value is None else _number(value, "rtt_ms", minimum=0.0) / 1000.0
