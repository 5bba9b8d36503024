from celery import shared_task

from . import services


@shared_task(name="devices.mark_stale_offline", ignore_result=True)
def mark_stale_offline() -> int:
    """Beat task: devices silent past the liveness timeout go offline (idempotent)."""
    return services.mark_stale_offline()
