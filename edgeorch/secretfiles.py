"""A deployment's first start: generate the secrets it needs into its volumes, once.

``python -m edgeorch.secretfiles PATH[:MODE] ...`` writes a new random secret (64 URL-safe characters) to
each PATH that does not exist yet, and leaves an existing one alone, so a restart or an upgrade keeps the key
and the password it started with. Compose's ``secrets`` service runs it before anything else
(docker-compose.yml): the Django key (read by the settings through ``SECRET_KEY_FILE``) and the PostgreSQL
password (read by PostgreSQL through ``POSTGRES_PASSWORD_FILE`` and by the settings through
``DATABASE_PASSWORD_FILE``). It imports nothing of Django: the settings cannot load before the key exists.

Each file is created under its final name in one step (written aside, then hard-linked), so processes that
start at once never read a half-written secret, and the one that loses the race keeps the winner's. MODE is
octal, 0600 unless given (a file another user's process reads, PostgreSQL's, needs 0644 inside its own
volume).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path


def ensure_secret_file(path: Path, mode: int = 0o600) -> bool:
    """Write a new random secret to ``path`` unless it exists; whether this call created it."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
        os.chmod(tmp, mode)  # the umask may have taken bits off
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m edgeorch.secretfiles PATH[:MODE] ...", file=sys.stderr)
        return 2
    for arg in argv:
        name, _, mode = arg.partition(":")
        created = ensure_secret_file(Path(name), int(mode, 8) if mode else 0o600)
        print(f"{name}: {'generated' if created else 'exists, kept'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
