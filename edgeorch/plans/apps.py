from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "edgeorch.plans"
    label = "plans"
