"""Pages of shares, included by `friends.urls`."""

from django.urls import path

from . import views

urlpatterns = [
    path("shares/new/", views.share_new, name="share-new"),
    path("shares/<int:share_id>/", views.share_detail, name="share-detail"),
    path("shares/<int:share_id>/download/", views.share_download, name="share-download"),
    path("shares/<int:share_id>/thumbnail/", views.share_thumbnail, name="share-thumbnail"),
    path("shares/<int:share_id>/delete/", views.share_delete, name="share-delete"),
]
