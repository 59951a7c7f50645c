"""Routes of the accounts API, under `/api/v1/` (see `socialsite.api_urls`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.AuthTokenApi.as_view(), name="api-auth-token"),
    path("users/", views.UserSignUpApi.as_view(), name="api-user-sign-up"),
    path("me/", views.MeApi.as_view(), name="api-me"),
]
