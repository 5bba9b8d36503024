"""Measurements the planner reads: storing and reading block profiles and link samples.

Verbs: ``record_profile``, ``latest_profile``, ``record_link``, ``latest_links``, ``device_links``. Bandwidth
is in bits/s, as agents measure it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from .choices import ProfileSource
from .models import BlockProfile, LinkSample
from .overrides import PlanInputError


def record_profile(
    device,
    model,
    blocks: Sequence[dict],
    thermal: dict | None = None,
    *,
    source: str = ProfileSource.MEASURED,
    measured_at: datetime | None = None,
) -> BlockProfile:
    """Store one profiling run: ``blocks`` as agents report them, ``[{block, median_s, p90_s, runs}]``."""
    n = len(model.blocks)
    median: list[float | None] = [None] * n
    p90: list[float | None] = [None] * n
    for entry in blocks:
        i = int(entry["block"])
        if not 0 <= i < n:
            raise PlanInputError(f"{model} has blocks 0..{n - 1}; a profile names block {i}")
        median[i] = float(entry["median_s"])
        p90[i] = float(entry.get("p90_s", entry["median_s"]))
    return BlockProfile.objects.create(
        device=device,
        model=model,
        measured_at=measured_at or timezone.now(),
        median_s=median,
        p90_s=p90,
        runs=max((int(e.get("runs", 0)) for e in blocks), default=0),
        thermal=dict(thermal or {}),
        source=source,
    )


def latest_profile(device, model) -> BlockProfile | None:
    """The newest profile of ``model`` on ``device``, complete or not."""
    return BlockProfile.objects.filter(device=device, model=model).order_by("-measured_at").first()


def record_link(
    device_from,
    device_to,
    bandwidth_bps: float,
    rtt_s: float,
    *,
    jitter_s: float = 0.0,
    loss: float = 0.0,
    measured_at: datetime | None = None,
) -> LinkSample:
    """Store one link measurement; ``device_to`` None is the link to the control plane."""
    if not bandwidth_bps > 0 or rtt_s < 0 or not 0 <= loss < 1:
        raise PlanInputError("a link needs bandwidth > 0, rtt >= 0 and 0 <= loss < 1")
    return LinkSample.objects.create(
        device_from=device_from,
        device_to=device_to,
        bandwidth_bps=bandwidth_bps,
        rtt_s=rtt_s,
        jitter_s=jitter_s,
        loss=loss,
        measured_at=measured_at or timezone.now(),
    )


def latest_links(devices: Iterable) -> dict[tuple[str, str], LinkSample]:
    """The newest sample of each measured direction between the given devices, keyed (from id, to id)."""
    ids = [d.pk for d in devices]
    rows = LinkSample.objects.filter(device_from__in=ids, device_to__in=ids)
    if connection.vendor == "postgresql":
        # DISTINCT ON: one row per direction, straight off the (from, to, -measured_at) index.
        rows = rows.order_by("device_from_id", "device_to_id", "-measured_at").distinct(
            "device_from_id", "device_to_id"
        )
    else:  # the SQLite demo: a correlated subquery does the same
        newest = LinkSample.objects.filter(
            device_from=OuterRef("device_from"), device_to=OuterRef("device_to")
        ).order_by("-measured_at")
        rows = rows.filter(pk=Subquery(newest.values("pk")[:1]))
    return {(str(s.device_from_id), str(s.device_to_id)): s for s in rows}


def device_links(device) -> list[LinkSample]:
    """The newest sample of each direction from or to ``device``, the control-plane link (``device_to``
    None) included, newest first. The planner does not read the control-plane link: no plan sends work
    through the control plane (a relayed hop is a fallback, not a plan)."""
    rows = LinkSample.objects.filter(Q(device_from=device) | Q(device_to=device)).select_related(
        "device_from", "device_to"
    )
    if connection.vendor == "postgresql":
        # DISTINCT ON counts NULLs as equal: the control-plane direction is one direction.
        rows = rows.order_by("device_from_id", "device_to_id", "-measured_at").distinct(
            "device_from_id", "device_to_id"
        )
        return sorted(rows, key=lambda s: s.measured_at, reverse=True)
    newest: dict[tuple, LinkSample] = {}  # the SQLite demo: a device's few samples, sorted here
    for sample in rows.order_by("-measured_at"):
        newest.setdefault((sample.device_from_id, sample.device_to_id), sample)
    return list(newest.values())
