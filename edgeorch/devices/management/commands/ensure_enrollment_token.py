"""Make sure a bootstrap enrollment token exists (for compose and provisioning tools).

``ensure_enrollment_token TOKEN``: a token with that plain value (a provisioning tool chose it).
``ensure_enrollment_token --generate``: on a deployment's first start, a new random token, printed once (only
its digest is stored, as for every token); on later starts nothing, since one was made. It also revokes the
token earlier versions of docker-compose.yml published, where one of them made it. ``--write FILE`` also
leaves it in FILE (0600) for a local agent to enroll with (compose's agent service).
"""

import os
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from edgeorch.devices import services
from edgeorch.devices.models import EnrollmentToken, hash_secret
from edgeorch.devices.services import TOKEN_PREFIX

NAME = "bootstrap"
# The bootstrap token docker-compose.yml gave every stack before it generated one (100 uses, a year, printed
# in the repository): --generate revokes it where an earlier version made it.
PUBLISHED = ["eet_compose-bootstrap-token-change-me"]


class Command(BaseCommand):
    help = (
        "Create the enrollment token TOKEN if no token with that value exists; or, with --generate, a random "
        "bootstrap token the first time (printed once), nothing on later runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("token", nargs="?")
        parser.add_argument("--generate", action="store_true", help="a random token, made once and printed")
        parser.add_argument("--write", metavar="FILE", help="with --generate: also write the token to FILE")
        parser.add_argument("--max-uses", type=int, default=1)
        parser.add_argument("--ttl-hours", type=float, default=24 * 365)

    def handle(self, *args, token, generate, write, max_uses, ttl_hours, **options):
        if bool(token) == generate:
            raise CommandError("Give either a TOKEN or --generate.")
        if generate:
            self._generate(write, max_uses, ttl_hours)
            return
        if len(token) < 20:
            raise CommandError("The token must be at least 20 characters long.")
        _, created = EnrollmentToken.objects.get_or_create(
            token_hash=hash_secret(token),
            defaults={
                "name": NAME,
                "prefix": token.removeprefix(TOKEN_PREFIX)[:6],
                "max_uses": max_uses,
                "expires_at": timezone.now() + timedelta(hours=ttl_hours),
            },
        )
        self.stdout.write("created" if created else "exists")

    def _generate(self, write: str | None, max_uses: int, ttl_hours: float) -> None:
        published = EnrollmentToken.objects.filter(token_hash__in=[hash_secret(t) for t in PUBLISHED])
        if published.filter(revoked=False).update(revoked=True):
            self.stdout.write("Revoked the bootstrap enrollment token earlier versions published.")
        if EnrollmentToken.objects.filter(name=NAME).exclude(pk__in=published.values("pk")).exists():
            self.stdout.write("A bootstrap enrollment token was made on an earlier start: none made now.")
            return
        _, plain = services.create_enrollment_token(
            name=NAME, max_uses=max_uses, ttl=timedelta(hours=ttl_hours)
        )
        if write:
            path = Path(write)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(plain + "\n")
        self.stdout.write(
            f"A bootstrap enrollment token was made ({max_uses} use{'s' if max_uses != 1 else ''}, valid "
            f"{ttl_hours:g} h). It is shown only now; the server keeps only its digest:\n"
            f"  {plain}\n"
            "Enroll a device with it: edgeorch-agent enroll --server <EDGEORCH_PUBLIC_URL> --token <it>; "
            "make more tokens on the dashboard's Enroll page."
        )
