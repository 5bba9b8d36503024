from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "edgeorch.serving"
    label = "serving"

    def ready(self):
        # Registers ``serve_request`` with the gateway.
        from . import handlers  # noqa: F401
