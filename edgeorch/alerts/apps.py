from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "edgeorch.alerts"
    label = "alerts"

    def ready(self):
        # Registers this app's Celery tasks, which the services enqueue by name (``alerts.deliver``).
        from . import tasks  # noqa: F401
