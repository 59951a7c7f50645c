"""Routes of the accounts API, under `/api/v1/` (see `socialsite.api_urls`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="api-auth-token"),
    path("auth/tokens/", views.TokenListApi.as_view(), name="api-token-list"),
    path("auth/tokens/<str:token_id>/", views.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("auth/logout-all/", views.LogoutAllApi.as_view(), name="api-logout-all"),
    path("users/", views.UserSignUpApi.as_view(), name="api-user-sign-up"),
    path("me/", views.MeApi.as_view(), name="api-me"),
]
