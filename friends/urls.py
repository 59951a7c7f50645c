"""Pages of the friend graph (server-rendered); the account pages are in `accounts.urls`."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("friends/", views.friends_page, name="friends"),
    path("people/", views.find_person, name="find-person"),
    path("u/<str:username>/", views.profile, name="profile"),
    path("u/<str:username>/friends/", views.profile_friends, name="profile-friends"),
    path("u/<str:username>/mutual-friends/", views.profile_mutual_friends, name="profile-mutual-friends"),
    path("u/<str:username>/request/", views.send_request, name="send-request"),
    path("u/<str:username>/unfriend/", views.unfriend, name="unfriend"),
    path("u/<str:username>/block/", views.block, name="block"),
    path("u/<str:username>/unblock/", views.unblock, name="unblock"),
    path("requests/<int:request_id>/<str:action>/", views.request_action, name="request-action"),
    path("suggestions/", views.suggestions_page, name="suggestions"),
    path("suggestions/<str:username>/dismiss/", views.dismiss_suggestion, name="dismiss-suggestion"),
    path("", include("friends.shares.urls")),
]
