"""``manage.py build_zoo``: export the built-in models (cached) and register them in the catalog."""

from django.core.management.base import BaseCommand

from edgeorch.catalog import services


class Command(BaseCommand):
    help = "Export the built-in model zoo to ONNX (cached in $EDGEORCH_ZOO_DIR) and register it."

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="Zoo cache directory (default: $EDGEORCH_ZOO_DIR or var/zoo)")

    def handle(self, *args, **options):
        models = services.register_zoo(options.get("dir"), log_line=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"zoo ready: {', '.join(str(m) for m in models)}"))
