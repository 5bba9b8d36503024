"""Column values as Django hands them back from raw queries and subqueries, made the same on PostgreSQL and
SQLite: the snapshots (``snapshots``, ``users``) read both."""

from __future__ import annotations

import json
from datetime import UTC, datetime


def json_value(value):
    """A json/jsonb column's value: Django leaves those of raw queries (and SQLite's subqueries) as text."""
    return json.loads(value) if isinstance(value, str) else value


def aware(value) -> datetime:
    """A datetime column's value, timezone-aware (UTC where it has none): a subquery's comes back as text on
    SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
