"""Which tensors and segments a device may read: only the inputs and outputs of runs it takes part in (its
source, or a device its deployment placed a stage on), and the segments its work loads (``needs_segment``).
People read under the API's own permissions."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import PermissionDenied

from .services.authorise import takes_part


def readable_run(request, kind, pk):
    """The job or session ``pk`` (404 if there is none), refused with 403 to a device that takes no part in
    it."""
    run = get_object_or_404(kind.objects.select_related("deployment"), pk=pk)
    if getattr(request.user, "is_device", False) and not takes_part(run, request.user.device.pk):
        name = kind._meta.model_name
        raise PermissionDenied(
            f"This device takes no part in {name} {pk}: a device reads only the inputs and outputs of the "
            "runs it is the source of or runs a stage of."
        )
    return run


def needs_segment(device_id: str, sha256: str, models: list[int]) -> bool:
    """Whether the device's work needs this segment now: a stage of a live deployment placed on it (the
    live deployments are few: their stages are read in Python, the same on SQLite and PostgreSQL), or a
    pending profile of one of the segment's models that it is to run."""
    from .choices import DeploymentState, MeasurementState
    from .models import Deployment, Measurement

    live = Deployment.objects.filter(
        state__in=(DeploymentState.READY, DeploymentState.DEPLOYING)
    ).values_list("stages", flat=True)
    if any(s.get("sha256") == sha256 and s.get("device") == device_id for stages in live for s in stages):
        return True
    pending = Measurement.objects.filter(
        kind=Measurement.PROFILE, device_id=device_id, model_id__in=models, state=MeasurementState.PENDING
    )
    return pending.exists()
