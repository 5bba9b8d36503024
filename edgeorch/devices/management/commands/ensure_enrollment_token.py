"""Make sure an enrollment token with a given plain value exists (for compose and provisioning tools)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from edgeorch.devices.models import EnrollmentToken, hash_secret
from edgeorch.devices.services import TOKEN_PREFIX


class Command(BaseCommand):
    help = "Create the enrollment token TOKEN if no token with that value exists."

    def add_arguments(self, parser):
        parser.add_argument("token")
        parser.add_argument("--max-uses", type=int, default=1)
        parser.add_argument("--ttl-hours", type=float, default=24 * 365)

    def handle(self, *args, token, max_uses, ttl_hours, **options):
        if len(token) < 20:
            raise CommandError("The token must be at least 20 characters long.")
        _, created = EnrollmentToken.objects.get_or_create(
            token_hash=hash_secret(token),
            defaults={
                "name": "bootstrap",
                "prefix": token.removeprefix(TOKEN_PREFIX)[:6],
                "max_uses": max_uses,
                "expires_at": timezone.now() + timedelta(hours=ttl_hours),
            },
        )
        self.stdout.write("created" if created else "exists")
