from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "edgeorch.gateway"
    label = "gateway"
