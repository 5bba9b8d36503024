from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "edgeorch.telemetry"
    label = "telemetry"
