"""ASGI entry point: Django for HTTP, Channels for the agent and dashboard websockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edgeorch.settings")
# Static files are served in this process by WhiteNoise's middleware (settings: STORAGES): hashed and
# compressed where collectstatic has run (the image), by name from the app folders elsewhere (the demo).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from edgeorch.bodylimit import BodyLimit, guard_daphne  # noqa: E402
from edgeorch.dashboard.routing import websocket_urlpatterns as dashboard_ws  # noqa: E402
from edgeorch.gateway.routing import websocket_urlpatterns as agents_ws  # noqa: E402
from edgeorch.serving.proxy import InferenceRouter  # noqa: E402

# Bodies are bounded in size and time while they are read (edgeorch.bodylimit): in Daphne itself, before it
# spools them to disk, and again around the app.
guard_daphne()
application = ProtocolTypeRouter(
    {
        # /v2 (the Open Inference Protocol, forwarded to a source's endpoint) skips Django: it is a hot path.
        "http": BodyLimit(InferenceRouter(django_asgi_app)),
        # Agents authenticate with their device credential (not cookies), so no origin check applies to them;
        # the dashboard socket goes through the session middleware and checks the user itself.
        "websocket": AuthMiddlewareStack(URLRouter(agents_ws + dashboard_ws)),
    }
)
