"""Routes of the notifications API, under `/api/v1/` (see `socialsite.api_urls`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.NotificationListApi.as_view(), name="api-notification-list"),
    path(
        "notifications/unread-count/", views.NotificationUnreadCountApi.as_view(), name="api-notification-unread-count"
    ),
    path("notifications/read-all/", views.NotificationReadAllApi.as_view(), name="api-notification-read-all"),
    # Ids routed as strings: the view answers a malformed id with the API's JSON 404.
    path(
        "notifications/<str:notification_id>/read/", views.NotificationReadApi.as_view(), name="api-notification-read"
    ),
]
