from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "edgeorch.devices"
    label = "devices"
