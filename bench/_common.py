"""Shared bits of the benchmarks: the machine description and writing a section of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB, no GPU, Python {platform.python_version()}"


def markdown_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(section: str, path: Path = DOC) -> None:
    """Replace the section of docs/benchmarks.md that ``section`` heads (``## Title``), or append it.

    A section runs to the next ``## `` heading; the other sections are left as they are.
    """
    title = section.splitlines()[0].removeprefix("## ").strip()
    section = section.strip() + "\n\n"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def recreate_database(database_url: str, template: str | None = None) -> None:
    """Drop and create the PostgreSQL database ``database_url`` names: each benchmark run starts empty (or as
    a copy of the database ``template``)."""
    import urllib.parse as up

    import psycopg

    url = up.urlparse(database_url)
    name = url.path.lstrip("/")
    with psycopg.connect(up.urlunparse(url._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"' + (f' template "{template}"' if template else ""))


TEMPLATE_PREFIX = "edgeorch_bench_migrated_"


def migrations_digest() -> str:
    """A digest of every installed app's migration files (Django set up)."""
    import hashlib

    from django.apps import apps

    digest = hashlib.sha256()
    for config in sorted(apps.get_app_configs(), key=lambda c: c.label):
        folder = Path(config.path) / "migrations"
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            digest.update(f"{config.label}/{path.name}\0".encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def migrated_template(base: str) -> str:
    """The name of a database migrated to the installed migrations (Django set up), made once by ``migrate``
    in a process of its own and kept as the template ``django_on_fresh_database`` copies: a copy takes a
    fraction of a second where migrating takes seconds, for every benchmark run. It is named by
    ``migrations_digest``, so that other migrations make another; the templates of other migrations are
    dropped, where nobody is using them."""
    import subprocess
    import sys

    import psycopg

    template = TEMPLATE_PREFIX + migrations_digest()
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        names = [row[0] for row in conn.execute("select datname from pg_database")]
        if template in names:
            return template
        building = f"{template}_{os.getpid()}"  # renamed once migrated: a template is always whole
        conn.execute(f'drop database if exists "{building}"')
        conn.execute(f'create database "{building}"')
        try:
            env = {**os.environ, "DATABASE_URL": f"{base}/{building}"}
            migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v0"]
            subprocess.run(migrate, cwd=ROOT, env=env, check=True)
            conn.execute(f'alter database "{building}" rename to "{template}"')
        except psycopg.errors.DuplicateDatabase:
            pass  # another run made it meanwhile
        finally:
            conn.execute(f'drop database if exists "{building}"')
        for old in names:
            if re.fullmatch(re.escape(TEMPLATE_PREFIX) + "[0-9a-f]{12}", old):
                try:
                    conn.execute(f'drop database "{old}"')  # not forced: one in use stays
                except psycopg.errors.ObjectInUse:
                    pass
    return template


def django_on_fresh_database(name: str) -> None:
    """Set this process's Django up on a fresh, migrated database ``name`` (beside the product's own): a copy
    of ``migrated_template``."""
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
    os.environ["DATABASE_URL"] = f"{base}/{name}"
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")
    os.environ["DJANGO_SETTINGS_MODULE"] = "edgeorch.settings"
    import django

    django.setup()
    recreate_database(os.environ["DATABASE_URL"], template=migrated_template(base))


def product_environment(workdir: Path, database: str, prefix: str, **extra: str) -> dict:
    """Environment for the product's processes (Daphne, Celery, agents) started by a benchmark: its own
    database, channel prefix, Celery queue, run and media directories; ``extra`` adds or overrides."""
    import urllib.parse as up

    base = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/edgeorch")
    return {
        **os.environ,
        "DATABASE_URL": up.urlunparse(up.urlparse(base)._replace(path=f"/{database}")),
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1"),
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key"),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EDGEORCH_RUN_DIR": str(workdir),
        "EDGEORCH_MEDIA_ROOT": str(workdir / "media"),
        "EDGEORCH_CHANNEL_PREFIX": prefix,
        "EDGEORCH_CELERY_QUEUE": f"q-{prefix}",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
