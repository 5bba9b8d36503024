from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "edgeorch.jobs"
    label = "jobs"
