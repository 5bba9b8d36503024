from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.model_list, name="list"),
    path("<int:pk>/", views.model_detail, name="detail"),
    path("<int:pk>/delete/", views.model_delete, name="delete"),
    path("<int:pk>/variants/", views.model_variant, name="variant"),
]
