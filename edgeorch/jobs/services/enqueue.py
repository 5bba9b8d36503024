"""Enqueue: this app's Celery tasks, sent by name once the surrounding transaction commits.

The tasks (``jobs.tasks``, registered when the app is ready) call the services; naming them here instead of
importing them keeps the imports one way. Each is still sent by its own ``apply_async``, with its options.
"""

from __future__ import annotations

from edgeorch.celery import app


def after_commit(name: str, *args, **options) -> None:
    """Send task ``name`` with ``args`` after commit (at once outside a transaction); ``options`` as
    ``apply_async`` takes them (``countdown``)."""
    app.tasks[name].apply_async_on_commit(args, **options)
