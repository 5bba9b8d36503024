from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "edgeorch.alerts"
    label = "alerts"
