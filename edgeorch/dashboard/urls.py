from django.urls import path

from . import api_keys, health, metrics, views

app_name = "dashboard"

urlpatterns = [
    path("", views.fleet, name="fleet"),
    path("devices/<uuid:pk>/", views.device, name="device"),
    path("users/", views.users, name="users"),
    path("run/", views.run_form, name="run"),
    path("live/sessions/<uuid:pk>/", views.session_live, name="session-live"),
    path("live/sessions/<uuid:pk>/topology/", views.session_topology, name="session-topology"),
    path("live/jobs/<int:pk>/topology/", views.job_topology, name="job-topology"),
    path("live/deployments/<uuid:pk>/topology/", views.deployment_topology, name="deployment-topology"),
    path("enroll/", views.enrollment, name="enrollment"),
    path("account/api-key/", api_keys.api_key, name="api-key"),
    path("metrics", metrics.metrics, name="metrics"),
    path("healthz", health.healthz, name="healthz"),
]
