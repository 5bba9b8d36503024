from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "edgeorch.scenarios"
    verbose_name = "Scenarios"
