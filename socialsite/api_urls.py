"""`/api/v1/`: every app's API routes under one prefix."""

from django.urls import include, path

urlpatterns = [
    path("", include("friends.api.urls")),
]
