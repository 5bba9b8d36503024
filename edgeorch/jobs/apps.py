from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "edgeorch.jobs"
    label = "jobs"

    def ready(self):
        # Registers this app's agent messages with the gateway, and its Celery tasks, which the services
        # enqueue by name (``services.enqueue``).
        from . import handlers, tasks  # noqa: F401
