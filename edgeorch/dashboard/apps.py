from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "edgeorch.dashboard"
    label = "dashboard"
