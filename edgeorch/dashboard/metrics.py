"""``GET /metrics``: Prometheus metrics, with the official ``prometheus_client``, for staff or an API key.

Every figure is read from the database at scrape time, not counted in a process: jobs and frames are
recorded by the Celery workers and the websocket handlers of several processes, and the database is where
they all meet. Served: inference requests (jobs and stream frames) and their latency histogram per model and
strategy, runs by state (the control plane's queue), the Celery queue's length, devices by status and each
device's latest telemetry.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import BasePermission

from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device
from edgeorch.jobs.choices import ACTIVE, RunState
from edgeorch.jobs.models import Frame, Job, Session
from edgeorch.telemetry.services import latest_values

from .health import broker

log = logging.getLogger(__name__)

# Latency buckets (seconds): from a local digits frame (~1 ms) to a cold multi-device deployment.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Device gauges from the latest telemetry: metric -> (Prometheus name, help).
DEVICE_GAUGES = {
    "cpu.percent": ("edgeorch_device_cpu_percent", "CPU use, percent"),
    "mem.used_percent": ("edgeorch_device_memory_used_percent", "Memory in use, percent"),
    "temp.max": ("edgeorch_device_temperature_celsius", "Hottest sensor, degrees Celsius"),
    "cpu.throttle_factor": ("edgeorch_device_throttle_factor", "Clock slow-down (1 = full speed)"),
    "power.watts": ("edgeorch_device_power_watts", "Power draw, watts"),
}
RUN_LABELS = ["model", "strategy"]


class Collector:
    """Builds every family from the database on each ``collect`` (one scrape)."""

    def collect(self):
        yield from self._requests()
        yield from self._runs()
        yield from self._devices()
        queue = self._celery_queue()
        if queue is not None:
            yield queue

    def _requests(self):
        count = CounterMetricFamily(
            "edgeorch_inference_requests",
            "Inference requests answered: one-shot jobs and stream frames, by outcome",
            labels=[*RUN_LABELS, "kind", "outcome"],
        )
        latency = HistogramMetricFamily(
            "edgeorch_inference_latency_seconds",
            "End-to-end latency of the requests answered (jobs and frames that succeeded)",
            labels=[*RUN_LABELS, "kind"],
        )
        jobs = Job.objects.filter(state__in=[RunState.COMPLETED, RunState.FAILED])
        frames = Frame.objects.all()
        for kind, rows, prefix, value, ok in (
            ("job", jobs, "", "measured_latency_s", Q(state=RunState.COMPLETED)),
            ("frame", frames, "session__", "latency_s", Q(ok=True)),
        ):
            for row in _histogram_rows(rows, prefix, value, ok):
                labels = [row["run_model"], row["run_strategy"], kind]
                count.add_metric([*labels, "ok"], row["n_ok"])
                count.add_metric([*labels, "failed"], row["n_all"] - row["n_ok"])
                buckets = [(str(b), row[f"le{i}"]) for i, b in enumerate(BUCKETS)] + [("+Inf", row["n_ok"])]
                latency.add_metric(labels, buckets, row["latency_sum"] or 0.0)
        yield count
        yield latency

    def _runs(self):
        gauge = GaugeMetricFamily(
            "edgeorch_runs", "Jobs and sessions not yet ended, by state (the queue)", labels=["kind", "state"]
        )
        for kind, model in (("job", Job), ("session", Session)):
            found = dict(model.objects.filter(state__in=ACTIVE).values_list("state").annotate(n=Count("pk")))
            for state in sorted(ACTIVE):
                gauge.add_metric([kind, state], found.get(state, 0))
        yield gauge

    def _devices(self):
        by_status = GaugeMetricFamily("edgeorch_devices", "Devices of the fleet by status", labels=["status"])
        found = dict(Device.objects.values_list("status").annotate(n=Count("pk")))
        for status in DeviceStatus.values:
            by_status.add_metric([status], found.get(status, 0))
        yield by_status
        devices = list(
            Device.objects.exclude(status=DeviceStatus.REVOKED).values_list("pk", "name", "status")
        )
        up = GaugeMetricFamily(
            "edgeorch_device_up", "1 while the device's agent is online", labels=["device", "name"]
        )
        for pk, name, status in devices:
            up.add_metric([str(pk), name], 1.0 if status == DeviceStatus.ONLINE else 0.0)
        yield up
        online = [(str(pk), name) for pk, name, status in devices if status == DeviceStatus.ONLINE]
        latest = latest_values([pk for pk, _ in online], list(DEVICE_GAUGES)) if online else {}
        for metric, (family_name, text) in DEVICE_GAUGES.items():
            family = GaugeMetricFamily(family_name, text, labels=["device", "name"])
            for pk, name in online:
                value = latest.get(pk, {}).get("metrics", {}).get(metric)
                if value is not None:
                    family.add_metric([pk, name], float(value))
            yield family

    def _celery_queue(self):
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        try:
            with broker(2.0) as client:
                length = client.llen(queue)
        except redis.RedisError as exc:  # the scrape still answers the database's figures
            log.warning("metrics: cannot read the Celery queue's length: %s", exc)
            return None
        gauge = GaugeMetricFamily(
            "edgeorch_celery_queue_length", "Tasks waiting in the Celery queue", labels=["queue"]
        )
        gauge.add_metric([queue], length)
        return gauge


def _histogram_rows(rows, prefix: str, value: str, ok: Q):
    """Per model and strategy: how many requests, how many succeeded, their latency sum and the cumulative
    count at or under each bucket, in one query."""
    buckets = {f"le{i}": Count("pk", filter=ok & Q(**{f"{value}__lte": b})) for i, b in enumerate(BUCKETS)}
    return (
        rows.values(run_model=F(prefix + "model__name"), run_strategy=F(prefix + "strategy"))
        .annotate(
            n_all=Count("pk"), n_ok=Count("pk", filter=ok), latency_sum=Sum(value, filter=ok), **buckets
        )
        .order_by("run_model", "run_strategy")
    )


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(Collector())


class StaffOrApiKey(BasePermission):
    """Staff logged in to the dashboard, or anyone with an API key (a Prometheus server scrapes with one)."""

    message = "Metrics are for staff or an API key (Authorization: Token <key>)."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated) or getattr(user, "is_device", False):
            return False
        return bool(user.is_staff or request.auth is not None)


@api_view(["GET"])
@permission_classes([StaffOrApiKey])
def _metrics(request):
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def metrics(request):
    """A plain view in front of the DRF one (which brings the API's authentication): /metrics is no REST
    endpoint, and the schema generator, which enumerates DRF views, would otherwise take the common prefix of
    every path from / instead of /api/ and rename every operation."""
    return _metrics(request)
