from celery import shared_task

from . import services
from .models import Alert


@shared_task(name="alerts.evaluate", ignore_result=True)
def evaluate() -> dict:
    """Beat task: evaluate every alert rule once (idempotent: an open alert is never raised twice)."""
    return services.evaluate_rules()


@shared_task(name="alerts.deliver", ignore_result=True, acks_late=True)
def deliver(alert_id: int, event: str) -> None:
    """Email and webhook for one alert's change. Not retried: each attempt is recorded on the alert, and a
    retry would tell the receivers that did answer a second time."""
    alert = Alert.objects.select_related("rule", "device").filter(pk=alert_id).first()
    if alert is not None:  # its rule was deleted since
        services.deliver(alert, event)
