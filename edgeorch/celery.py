"""The Celery app: workers and beat run planning, dispatch, profiling and upkeep."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edgeorch.settings")

app = Celery("edgeorch")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fix-up closes the database connections (and, under prefork, the whole connection pool)
# around every task unless told to reuse them: a new pool and connection per task cost a dispatch ~12 ms.
# Connections are still recycled every 2 x this many tasks; the pool checks each before handing it out.
app.conf.CELERY_DB_REUSE_MAX = 500
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule_upkeep(sender: Celery, **_kwargs) -> None:
    from django.conf import settings

    sender.add_periodic_task(
        settings.LIVENESS_CHECK_INTERVAL_S, sender.signature("devices.mark_stale_offline"), name="liveness"
    )
    sender.add_periodic_task(
        settings.TELEMETRY_ROLLUP_INTERVAL_S, sender.signature("telemetry.roll_up"), name="telemetry roll-up"
    )
    # An evaluation still queued when the next is due is dropped (expires): busy workers catch up with one.
    sender.add_periodic_task(
        settings.ALERT_EVALUATION_INTERVAL_S,
        sender.signature("alerts.evaluate"),
        name="alert rules",
        expires=settings.ALERT_EVALUATION_INTERVAL_S,
    )
    # Each run also has its own countdown; this sweep catches a run whose countdown task was lost.
    sender.add_periodic_task(10.0, sender.signature("jobs.expire_overdue"), name="overdue runs")
    if settings.COORDINATOR_INTERVAL_S:
        sender.add_periodic_task(
            settings.COORDINATOR_INTERVAL_S,
            sender.signature("jobs.coordinate"),
            name="coordinator",
            expires=settings.COORDINATOR_INTERVAL_S,
        )
    if settings.LINK_PROBE_INTERVAL_S:
        sender.add_periodic_task(
            settings.LINK_PROBE_INTERVAL_S, sender.signature("jobs.probe_fleet"), name="link probing"
        )
