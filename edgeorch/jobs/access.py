"""Which tensors a device may read: only the inputs and outputs of runs it takes part in (its source, or a
device its deployment placed a stage on). People read under the API's own permissions."""

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
