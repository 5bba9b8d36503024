from celery import shared_task

from . import services


@shared_task(name="telemetry.roll_up", ignore_result=True, acks_late=True)
def roll_up() -> dict:
    """Beat task: fold old raw telemetry into one-minute roll-ups and expire old roll-ups (idempotent)."""
    return services.roll_up()
