from django.urls import path

from . import proxy

urlpatterns = [
    path("", proxy.v2, name="v2"),
    path("<path:path>", proxy.v2, name="v2-path"),
]
