from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "edgeorch.jobs"
    label = "jobs"

    def ready(self):
        # Registers this app's agent messages with the gateway, and its Celery tasks, which the services
        # enqueue by name (``services.enqueue``).
        # A model may leave the catalog only while no active run uses it (catalog.services.delete_model).
        from edgeorch.catalog.services import MODEL_HOLDERS, SEGMENT_READERS

        from . import access, handlers, tasks  # noqa: F401
        from .choices import ACTIVE
        from .models import Job, Session

        def active_runs_using(model) -> list[str]:
            jobs = Job.objects.filter(model=model, state__in=ACTIVE)[:5]
            sessions = Session.objects.filter(model=model, state__in=ACTIVE)[:5]
            return [str(run) for run in (*jobs, *sessions)]

        MODEL_HOLDERS["jobs"] = active_runs_using
        SEGMENT_READERS["jobs"] = access.needs_segment
