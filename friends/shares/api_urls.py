"""Routes of the shares API, included by `friends.api.urls` under `/api/v1/`."""

from django.urls import path

from . import api

urlpatterns = [
    path("shares/", api.ShareListCreateApi.as_view(), name="api-share-list"),
    path("shares/<str:share_id>/", api.ShareDetailApi.as_view(), name="api-share-detail"),
    path("shares/<str:share_id>/download/", api.ShareDownloadApi.as_view(), name="api-share-download"),
    path("shares/<str:share_id>/thumbnail/", api.ShareThumbnailApi.as_view(), name="api-share-thumbnail"),
]
