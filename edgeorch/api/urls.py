"""The REST surface under /api/.

Each domain app contributes through its own ``api`` module, which defines ``register(router)`` for its
viewsets and may define ``extra_urlpatterns`` for plain API views.
"""

from importlib import import_module
from importlib.util import find_spec

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from .errors import not_found

API_APPS = ["devices", "telemetry", "catalog", "plans", "jobs", "alerts", "dashboard"]

router = DefaultRouter()
extra: list = []
for _app in API_APPS:
    if find_spec(f"edgeorch.{_app}.api") is None:
        continue
    _module = import_module(f"edgeorch.{_app}.api")
    if hasattr(_module, "register"):
        _module.register(router)
    extra += getattr(_module, "extra_urlpatterns", [])

urlpatterns = [
    *extra,
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's settings come as a script of their own (not inline): the pages' Content-Security-Policy.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    re_path(r"^", not_found),  # last: whatever else is asked under /api/ is a JSON 404
]
