from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "edgeorch.telemetry"
    label = "telemetry"

    def ready(self):
        from . import handlers  # noqa: F401  (registers this app's agent messages with the gateway)
