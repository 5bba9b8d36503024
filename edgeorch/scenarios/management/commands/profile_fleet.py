"""``manage.py profile_fleet [--model NAME] [--timeout S]``: profile every model of the catalog (or one, by
name) on every online device that has no profile of it yet, one device at a time (on a shared host concurrent
profiles would slow each other down), waiting for each answer. ``make demo`` runs it in the background after
its agents start, so that the first plan a new user sees is planned from measured times, not estimates."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from edgeorch.catalog.models import MLModel
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device
from edgeorch.jobs import services as jobs
from edgeorch.jobs.choices import MeasurementState
from edgeorch.jobs.models import Measurement
from edgeorch.plans.measurements import latest_profile


class Command(BaseCommand):
    help = "Profile the catalog's models on every online device that has no profile of them yet."

    def add_arguments(self, parser):
        parser.add_argument("--model", help="only this model (by name; default: every model)")
        parser.add_argument("--server", default="", help="how agents reach the server (default PUBLIC_URL)")
        parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for each profile")

    def handle(self, *args, **opts):
        models = MLModel.objects.order_by("name", "version")
        if opts["model"]:
            models = models.filter(name=opts["model"])
        devices = Device.objects.filter(status=DeviceStatus.ONLINE).order_by("name")
        done = 0
        for model in models:
            for device in devices:
                if latest_profile(device, model) is not None:
                    continue
                self.stdout.write(f"profiling {model.name} v{model.version} on {device.name}")
                measurement = jobs.request_profile(
                    device, model, warmup=2, repeats=5, base_url=opts["server"]
                )
                state = self._wait(measurement, opts["timeout"])
                self.stdout.write(f"  {state}")
                done += state == MeasurementState.DONE
        self.stdout.write(f"{done} profile(s) measured")

    @staticmethod
    def _wait(measurement: Measurement, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = Measurement.objects.values_list("state", flat=True).get(pk=measurement.pk)
            if state != MeasurementState.PENDING:
                return str(state)
            time.sleep(0.2)
        return "not answered in time"
