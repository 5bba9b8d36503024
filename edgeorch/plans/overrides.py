"""What-if overrides of measured conditions, in the API's shape (bits/s and milliseconds).

The input's shape is declared once (``OverridesInput``) and decoded with msgspec, as the wire contract's
messages are (``edgeorch_wire.checks`` says what is wrong the same way). The REST serializer checks the same
bounds first; this is the check for every other caller (``plans.assembly``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec
from edgeorch_wire.checks import MAX_FLOAT, explain
from msgspec import Meta, Struct


class PlanInputError(ValueError):
    """A plan request names something unknown or gives a value out of range; the message says which."""


Bandwidth = Annotated[float, Meta(gt=0.0, le=MAX_FLOAT)]
Milliseconds = Annotated[float, Meta(ge=0.0, le=MAX_FLOAT)]
DeviceId = Annotated[str, Meta(min_length=1)]
RadioKind = Literal["wifi", "lte", "ethernet"]  # planning.energy.RADIOS


class LinkInput(Struct):
    a: DeviceId
    b: DeviceId
    bandwidth_bps: Bandwidth | None = None
    rtt_ms: Milliseconds | None = None
    radio: RadioKind | None = None


class OverridesInput(Struct):
    """``{bandwidth_bps?, rtt_ms?, radio?, radio_wakeup?, links?: [{a, b, bandwidth_bps?, rtt_ms?, radio?}],
    throttle?, queue?}``."""

    bandwidth_bps: Bandwidth | None = None
    rtt_ms: Milliseconds | None = None
    radio: RadioKind | None = None
    radio_wakeup: bool | None = None
    links: list[LinkInput] | None = None
    throttle: dict[str, Annotated[float, Meta(ge=1.0, le=MAX_FLOAT)]] | None = None
    queue: dict[str, Annotated[float, Meta(ge=0.0, le=MAX_FLOAT)]] | None = None


@dataclass(frozen=True)
class LinkOverride:
    bandwidth_bps: float | None = None
    rtt_s: float | None = None
    radio: str | None = None


@dataclass(frozen=True)
class Overrides:
    """``bandwidth_bps``/``rtt_s`` apply to every link; ``links`` to one pair (either direction) and win over
    them; ``throttle`` (>= 1.0) and ``queue`` (requests ahead) are per device id. ``radio`` (wifi, lte,
    ethernet) is the link type the energy model prices; ``radio_wakeup``: each inference wakes the radio."""

    bandwidth_bps: float | None = None
    rtt_s: float | None = None
    radio: str | None = None
    radio_wakeup: bool = False
    links: dict[frozenset[str], LinkOverride] = field(default_factory=dict)
    throttle: dict[str, float] = field(default_factory=dict)
    queue: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Overrides:
        """Parse ``{bandwidth_bps?, rtt_ms?, links?: [{a, b, bandwidth_bps?, rtt_ms?}], throttle?,
        queue?}``."""
        raw = dict(data or {})
        try:
            given = msgspec.convert(
                raw, OverridesInput, strict=False
            )  # "1e6" is a number too, as REST has it
        except msgspec.ValidationError as exc:
            raise PlanInputError(str(explain(exc, OverridesInput, raw, "overrides"))) from None
        links = {}
        for i, link in enumerate(given.links or []):
            pair = frozenset((link.a, link.b))
            if len(pair) != 2:
                raise PlanInputError(f"overrides.links[{i}] joins a device to itself")
            links[pair] = LinkOverride(link.bandwidth_bps, _seconds(link.rtt_ms), link.radio)
        return cls(
            bandwidth_bps=given.bandwidth_bps,
            rtt_s=_seconds(given.rtt_ms),
            radio=given.radio,
            radio_wakeup=bool(given.radio_wakeup),
            links=links,
            throttle=dict(given.throttle or {}),
            queue={k: int(v) for k, v in (given.queue or {}).items()},
        )

    def device_ids(self) -> set[str]:
        return {d for pair in self.links for d in pair} | set(self.throttle) | set(self.queue)

    def link(self, a: str, b: str) -> LinkOverride:
        """The override for the pair, its unset fields filled from the global ones."""
        own = self.links.get(frozenset((a, b)), LinkOverride())
        return LinkOverride(
            own.bandwidth_bps if own.bandwidth_bps is not None else self.bandwidth_bps,
            own.rtt_s if own.rtt_s is not None else self.rtt_s,
            own.radio or self.radio,
        )


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000.0
