from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "edgeorch.jobs"
    label = "jobs"

    def ready(self):
        from . import handlers  # noqa: F401  (registers this app's agent messages with the gateway)
