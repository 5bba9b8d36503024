from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "edgeorch.catalog"
    label = "catalog"
