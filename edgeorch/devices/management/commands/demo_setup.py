"""Prepare a demo: an admin account and enrollment tokens for local agents (used by ``make demo``)."""

import secrets
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from edgeorch.api.permissions import OPERATORS_GROUP, VIEWERS_GROUP
from edgeorch.devices import services
from edgeorch.devices.choices import DeviceRole


class Command(BaseCommand):
    help = (
        "Create the demo admin (password kept in --password-file) and print enrollment tokens as KEY=VALUE."
    )

    def add_arguments(self, parser):
        parser.add_argument("--password-file", required=True)
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, password_file, **options):
        for name in (OPERATORS_GROUP, VIEWERS_GROUP):
            Group.objects.get_or_create(name=name)
        path = Path(password_file)
        password = path.read_text().strip() if path.exists() else secrets.token_urlsafe(12)
        path.write_text(password + "\n")
        path.chmod(0o600)
        User = get_user_model()
        user = User.objects.filter(username=username).first() or User(username=username)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        for role, uses in ((DeviceRole.END_DEVICE, 1), (DeviceRole.EDGE, 2)):
            _, plain = services.create_enrollment_token(
                created_by=user, name=f"demo {role}", max_uses=uses, ttl=timedelta(hours=1), role=role
            )
            self.stdout.write(f"{role.upper()}_TOKEN={plain}")
        self.stdout.write(f"ADMIN_USER={username}")
        self.stdout.write(f"ADMIN_PASSWORD={password}")
