"""Routes of the friends API, under `/api/v1/` (see `socialsite.api_urls`; accounts are in `accounts.api`)."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("users/<str:username>/", views.UserDetailApi.as_view(), name="api-user-detail"),
    path("users/<str:username>/mutual-friends/", views.MutualFriendListApi.as_view(), name="api-user-mutual-friends"),
    path("users/<str:username>/friends/", views.UserFriendListApi.as_view(), name="api-user-friends"),
    path("friends/", views.FriendListApi.as_view(), name="api-friend-list"),
    path("friends/<str:username>/", views.FriendDeleteApi.as_view(), name="api-friend-delete"),
    path("friend-requests/", views.FriendRequestListCreateApi.as_view(), name="api-friend-request-list"),
    # Ids routed as strings: the view answers a non-integer id with the API's JSON 404.
    path("friend-requests/<str:request_id>/", views.FriendRequestCancelApi.as_view(), name="api-friend-request-cancel"),
    path(
        "friend-requests/<str:request_id>/accept/",
        views.FriendRequestAcceptApi.as_view(),
        name="api-friend-request-accept",
    ),
    path(
        "friend-requests/<str:request_id>/decline/",
        views.FriendRequestDeclineApi.as_view(),
        name="api-friend-request-decline",
    ),
    path("blocks/", views.BlockListCreateApi.as_view(), name="api-block-list"),
    path("blocks/<str:username>/", views.BlockDeleteApi.as_view(), name="api-block-delete"),
    path("suggestions/", views.SuggestionListApi.as_view(), name="api-suggestion-list"),
    path("suggestions/<str:username>/dismiss/", views.SuggestionDismissApi.as_view(), name="api-suggestion-dismiss"),
    path("", include("friends.shares.api_urls")),
]
