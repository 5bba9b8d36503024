"""Plans for dispatch, kept for a moment: the same model over the same fleet plans the same way.

Assembling a problem reads profiles, links and telemetry (about twenty queries: most of a one-shot job's
dispatch time in bench/bench_jobs.py), while the inputs change far less often than jobs arrive. A cached
plan is reused only while nothing it was built from has changed: the devices' rows (status, connection,
profile — read fresh for every dispatch), the newest block profile and link sample (read with the devices,
``with_fleet_version``, or by one query of its own), and for at most ``settings.PLAN_CACHE_S`` seconds,
which bounds how stale a telemetry input (throttle) may be.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import TextField
from django.db.models.expressions import RawSQL

from .models import BlockProfile, LinkSample

SIZE = 256
TABLES = (BlockProfile._meta.db_table, LinkSample._meta.db_table)  # whose newest id is the fleet's version


def fleet_version() -> tuple[Any, ...]:
    """The newest block profile and link sample ids: a new measurement changes it (one query)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT max(id) FROM {t})" for t in TABLES))
        return tuple(cursor.fetchone())


FLEET_VERSION = "fleet_version_"  # the annotation ``with_fleet_version`` adds to each device row


def with_fleet_version(devices):
    """The device queryset with ``fleet_version()`` on every row, read by the same statement: a dispatch then
    reads its devices and the fleet's version in one round trip (``version_of``)."""
    ids = " || ',' || ".join(f"coalesce(CAST((SELECT max(id) FROM {t}) AS TEXT), '')" for t in TABLES)
    return devices.annotate(**{FLEET_VERSION: RawSQL(f"SELECT {ids}", [], output_field=TextField())})


def version_of(devices) -> tuple[Any, ...] | None:
    """The fleet version a ``with_fleet_version`` row carries (None when there is none)."""
    for device in devices:
        value = getattr(device, FLEET_VERSION, None)
        if value is not None:
            return tuple(int(part) if part else None for part in value.split(","))
    return None


def device_key(device) -> tuple[Any, ...]:
    return (str(device.pk), device.status, device.channel_name, device.profile, device.role)


class PlanCache:
    """A bounded, thread-safe map from everything a plan depends on to the plan, each entry for ``ttl_s``."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def plan(self, plan_fn, model, devices, source, strategy: str, **options: Any) -> dict[str, Any]:
        """``plan_fn(model, devices, source, strategy, **options)``, or the same answer given lately."""
        ttl = settings.PLAN_CACHE_S
        if not ttl:
            return plan_fn(model, devices, source, strategy, **options)
        key = (
            model.pk,
            model.sha256,
            device_key(source),
            strategy,
            json.dumps(options, sort_keys=True, default=str),
            tuple(sorted(device_key(d) for d in devices)),
            version_of([source, *devices]) or fleet_version(),
        )
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and now - hit[0] < ttl:
            return copy.deepcopy(hit[1])
        plan = plan_fn(model, devices, source, strategy, **options)
        with self._lock:
            self._entries[key] = (now, copy.deepcopy(plan))
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return plan


plans = PlanCache()
