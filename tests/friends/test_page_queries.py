"""Pages cost a bounded number of SQL queries, whatever the number of friends (the lecture's point)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.services import profile_settings_update
from friends import services
from friends.models import Friendship

User = get_user_model()

# Session + user (2); profile: user_profile (user, relationship: 3, friend-list setting, friend count) + page
# count and slice = 10;
# friends page: four lists, each a count and a slice = 10, + the header's unread badge (1) = 11.
# Profile: 10 for the page, 2 for the cached mutual friends, and on a cold cache 4 more to record the
# enqueued computation's TaskRecord. None of it depends on the number of friends.
PROFILE_MAX_QUERIES = 16
FRIENDS_PAGE_MAX_QUERIES = 11


def with_friends(owner, count: int) -> list:
    """`count` friends for `owner`, both directions of each friendship written in bulk."""
    friends = User.objects.bulk_create([User(username=f"{owner.username}-f{i}") for i in range(count)])
    since = timezone.now()
    Friendship.objects.bulk_create(
        [Friendship(user=owner, friend=f, is_friend_since=since) for f in friends]
        + [Friendship(user=f, friend=owner, is_friend_since=since) for f in friends]
    )
    return friends


@pytest.fixture
def busy_alice(alice, bob, carol, make_user):
    """Alice with a request of every kind and a block, so every list on the pages has rows."""
    services.friend_request_send(from_user=bob, to_user=alice)
    services.friend_request_send(from_user=alice, to_user=carol)
    services.block_create(blocker=alice, blocked=make_user("mallory"))
    return alice


@pytest.mark.django_db
@pytest.mark.parametrize("friends", [5, 500])
def test_profile_page_queries_do_not_grow_with_the_number_of_friends(
    busy_alice, bob, django_assert_max_num_queries, friends
):
    with_friends(busy_alice, friends)
    profile_settings_update(user=busy_alice, friend_list_visibility="everyone")
    client = Client()
    client.force_login(bob)
    with django_assert_max_num_queries(PROFILE_MAX_QUERIES):
        response = client.get(reverse("profile", args=["alice"]))
    assert response.status_code == 200
    assert len(response.context["friends"].object_list) == min(friends, 50)
    assert response.content.decode().count("since <time") == min(friends, 50)


@pytest.mark.django_db
@pytest.mark.parametrize("friends", [5, 500])
def test_own_profile_page_queries_do_not_grow_with_the_number_of_friends(
    busy_alice, django_assert_max_num_queries, friends
):
    with_friends(busy_alice, friends)
    client = Client()
    client.force_login(busy_alice)
    with django_assert_max_num_queries(PROFILE_MAX_QUERIES):
        response = client.get(reverse("profile", args=["alice"]), {"page": 2})
    assert response.status_code == 200
    assert response.context["friends"].number == (2 if friends > 50 else 1)


@pytest.mark.django_db
@pytest.mark.parametrize("friends", [5, 500])
def test_friends_page_queries_do_not_grow_with_the_number_of_friends(
    busy_alice, django_assert_max_num_queries, friends
):
    with_friends(busy_alice, friends)
    client = Client()
    client.force_login(busy_alice)
    with django_assert_max_num_queries(FRIENDS_PAGE_MAX_QUERIES):
        response = client.get(reverse("friends"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("since <time") == min(friends, 50)
    assert "Decline" in html and "Cancel" in html and "Unblock" in html
    assert f'Your friends <span class="muted">({friends})</span>' in html
