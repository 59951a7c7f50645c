"""`/api/v1/`: every app's API routes under one prefix."""

from django.urls import include, path

from .api import StatsApi, TaskDetailApi

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("friends.api.urls")),
    path("", include("notifications.api.urls")),
    path("tasks/<uuid:id>/", TaskDetailApi.as_view(), name="api-task-detail"),
    path("stats/", StatsApi.as_view(), name="api-stats"),
]
