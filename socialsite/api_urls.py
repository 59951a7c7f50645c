"""`/api/v1/`: every app's API routes under one prefix."""

from django.urls import include, path

from .api import LogoutAllApi, TaskDetailApi, TokenListApi, TokenObtainApi, TokenRevokeApi

urlpatterns = [
    path("auth/token/", TokenObtainApi.as_view(), name="api-auth-token"),
    path("auth/tokens/", TokenListApi.as_view(), name="api-token-list"),
    path("auth/tokens/<str:token_id>/", TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("auth/logout-all/", LogoutAllApi.as_view(), name="api-logout-all"),
    path("", include("friends.api.urls")),
    path("tasks/<uuid:id>/", TaskDetailApi.as_view(), name="api-task-detail"),
]
