"""The feed (home page and `GET shares/`) costs a bounded number of queries, whatever the number of
friends or shares."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from friends.models import Friendship, Share

User = get_user_model()

# Session + user (2); friend and request counts (2); the cold suggestions panel records its enqueued
# computation (1); the feed is a count and one slice with the owners joined (2); the header's unread
# badge comes with the user.
HOME_MAX_QUERIES = 7
# Token auth (1: token with its user) + count + slice (2).
API_LIST_MAX_QUERIES = 3


def world(viewer, *, friends: int, shares_each: int) -> None:
    """`friends` friends of `viewer` (both rows of each friendship), each with `shares_each` link shares."""
    people = User.objects.bulk_create([User(username=f"{viewer.username}-f{i}") for i in range(friends)])
    since = timezone.now()
    Friendship.objects.bulk_create(
        [Friendship(user=viewer, friend=p, is_friend_since=since) for p in people]
        + [Friendship(user=p, friend=viewer, is_friend_since=since) for p in people]
    )
    Share.objects.bulk_create(
        [
            Share(owner=p, url=f"https://example.com/{p.pk}/{i}", caption=f"from {p.username}", state="ready")
            for p in people
            for i in range(shares_each)
        ]
        # A file share with a preview, so the template's file branch is exercised as well.
        + [Share(owner=viewer, file="shares/x", original_name="x.png", thumbnail="thumbnails/x.webp", state="ready")]
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("friends", "shares_each"), [(2, 1), (120, 3)])
def test_home_feed_queries_do_not_grow_with_friends_or_shares(
    alice, django_assert_max_num_queries, friends, shares_each
):
    world(alice, friends=friends, shares_each=shares_each)
    client = Client()
    client.force_login(alice)
    with django_assert_max_num_queries(HOME_MAX_QUERIES):
        response = client.get(reverse("home"))
    feed = response.context["feed"]
    assert feed.paginator.count == friends * shares_each + 1
    assert len(feed.object_list) == min(20, friends * shares_each + 1)


@pytest.mark.django_db
@pytest.mark.parametrize(("friends", "shares_each"), [(2, 1), (120, 3)])
def test_api_share_list_queries_do_not_grow_with_friends_or_shares(
    alice, api_as, django_assert_max_num_queries, friends, shares_each
):
    world(alice, friends=friends, shares_each=shares_each)
    api = api_as(alice)
    with django_assert_max_num_queries(API_LIST_MAX_QUERIES):
        body = api.get("/api/v1/shares/").json()
    assert body["count"] == friends * shares_each + 1
    assert len(body["results"]) == min(50, friends * shares_each + 1)
