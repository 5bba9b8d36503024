"""``manage.py api_key USER``: create an API key for USER and print it (`make token USER=NAME` runs it)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from edgeorch.api.keys import create_key


class Command(BaseCommand):
    help = (
        "Create a new API key for USER and print it. Only its digest is stored: the key is shown this once "
        "(revoke keys on the API key page, /account/api-key/)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r} (create one with manage.py createsuperuser)")
        self.stdout.write(create_key(user))
