from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST surface's own pieces: API keys (``keys``), their command and the migration that hashed the
    plaintext DRF tokens of earlier versions."""

    name = "edgeorch.api"
    label = "api"

    def ready(self) -> None:
        from . import strict

        strict.install()
