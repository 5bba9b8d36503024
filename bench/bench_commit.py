"""A run's state change on PostgreSQL, three ways: why ``update_without_flush`` is one query string.

On a fresh database, a Django user row is updated ``--count`` times each way, the three interleaved update
by update so that they see the same machine:

- ``flush``: ``queryset.update`` in autocommit (one round trip; the commit waits for the WAL flush);
- ``atomic``: ``transaction.atomic()`` with ``SET LOCAL synchronous_commit TO OFF`` then the update
  (BEGIN, SET, UPDATE, COMMIT: four round trips, no flush wait);
- ``one string``: ``jobs.models.update_without_flush`` (SET LOCAL and the UPDATE in one query string: one
  round trip, no flush wait).

Each with a 20 ms sleep before it (a job's state change after its processes idled) and with none.

    .venv/bin/python bench/bench_commit.py [--count 300] [--write]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import django_on_fresh_database, machine, markdown_table, write_section  # noqa: E402

GAPS_MS = (20, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--write", action="store_true", help="record the table in docs/benchmarks.md")
    args = parser.parse_args()
    django_on_fresh_database("edgeorch_bench_commit")

    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from edgeorch.jobs.models import update_without_flush

    user = User.objects.create(username="bench")
    rows = User.objects.filter(pk=user.pk)

    def flush(i):
        rows.update(first_name=str(i))

    def atomic(i):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            rows.update(first_name=str(i))

    def one_string(i):
        update_without_flush(rows, first_name=str(i))

    ways = {"flush": flush, "atomic": atomic, "one string": one_string}
    table = []
    for gap in GAPS_MS:
        times: dict[str, list[float]] = {name: [] for name in ways}
        for i in range(args.count):
            for name, way in ways.items():
                time.sleep(gap / 1000)
                started = time.perf_counter()
                way(i)
                times[name].append((time.perf_counter() - started) * 1000)
        for name, samples in times.items():
            samples.sort()
            table.append(
                [
                    f"{gap} ms",
                    name,
                    f"{statistics.median(samples):.3f}",
                    f"{samples[int(len(samples) * 0.9)]:.3f}",
                ]
            )
    text = markdown_table(["sleep before", "way", "median ms", "p90 ms"], table)
    print(text)
    if args.write:
        write_section(
            "## Run state commits\n\n"
            f"Machine: {machine()}. "
            f"Command: `.venv/bin/python bench/bench_commit.py --count {args.count} --write`. "
            "One UPDATE of a row, three ways, interleaved (bench/bench_commit.py's docstring): why "
            "`jobs.models.update_without_flush` sends `SET LOCAL synchronous_commit TO OFF` and the UPDATE "
            "as one query string rather than inside `transaction.atomic()`; tests/test_private_internals.py "
            "guards the client-side binding it needs.\n\n" + text
        )


if __name__ == "__main__":
    main()
