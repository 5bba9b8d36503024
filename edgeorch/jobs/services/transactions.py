"""Transactions around a run's rows: ``run_transaction`` and ``lock_run``."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection, transaction

from ..models import skips_flush


@contextmanager
def run_transaction():
    """A transaction changing a run's rows. On PostgreSQL it commits without waiting for the disk unless
    ``JOB_SYNCHRONOUS_COMMIT``: each durable commit costs a disk flush (docs/benchmarks.md, "Run state
    commits"), while a crash of the database loses at most its last fraction of a second of run states, never
    corrupts them, and a run it leaves active fails by the overdue sweep."""
    with transaction.atomic():
        if skips_flush():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def lock_run(kind, pk):
    """The run row, locked, with its source and model (None when there is none)."""
    return (
        kind.objects.select_for_update(of=("self",)).select_related("source", "model").filter(pk=pk).first()
    )
