"""Notification pages, under `/notifications/`."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.inbox, name="notifications"),
    path("read/", views.mark_read, name="notifications-mark-read"),
    path("read-all/", views.mark_all_read, name="notifications-mark-all-read"),
]
