from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.fleet, name="fleet"),
    path("devices/<uuid:pk>/", views.device, name="device"),
    path("enroll/", views.enrollment, name="enrollment"),
    path("account/api-key/", views.api_key, name="api-key"),
]
