"""Top-level routes. Each app with a ``urls`` module serves its pages under its own prefix."""

from importlib.util import find_spec

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from edgeorch.devices import views as device_views
from edgeorch.login import LoginView

PAGE_APPS = {"catalog": "models/", "plans": "plans/", "jobs": "runs/", "alerts": "alerts/"}

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("edgeorch.api.urls")),
    path("agent/install.sh", device_views.install_script, name="agent-install"),
    path("agent/edgeorch-agent.tar.gz", device_views.agent_package, name="agent-package"),
    path(
        "agent/edgeorch-wire.tar.gz",
        device_views.agent_package,
        {"filename": "edgeorch-wire.tar.gz"},
        name="agent-wire-package",
    ),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    *[
        path(prefix, include(f"edgeorch.{app}.urls"))
        for app, prefix in PAGE_APPS.items()
        if find_spec(f"edgeorch.{app}.urls") is not None
    ],
    path("", include("edgeorch.dashboard.urls")),
]
