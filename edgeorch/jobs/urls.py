from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("", views.run_list, name="list"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("sessions/<uuid:pk>/", views.session_detail, name="session"),
]
