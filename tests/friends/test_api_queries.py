"""The API's reads cost a fixed number of SQL queries, however many friends or requests a user has.

Each test runs with 5 and with 500 and the same ceiling, so a query per row (an N+1) fails the 500 case.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.services import profile_settings_update
from friends.models import FriendRequest, Friendship

User = get_user_model()
V1 = "/api/v1"
SIZES = [5, 500]


def many_users(n: int, prefix: str) -> list:
    return User.objects.bulk_create([User(username=f"{prefix}{i:04}", password="!") for i in range(n)])


def befriend_many(user, n: int) -> None:
    """Both directions of each friendship, as the services write them (bulk: only tests may)."""
    others = many_users(n, f"{user.username}-friend")
    Friendship.objects.bulk_create(
        [Friendship(user=user, friend=o) for o in others] + [Friendship(user=o, friend=user) for o in others]
    )


@pytest.mark.parametrize("n", SIZES)
def test_friends_list_queries_do_not_grow_with_friends(api_as, alice, n, django_assert_max_num_queries):
    befriend_many(alice, n)
    client = api_as(alice)
    # token + user, page count, page rows with each friend joined in
    with django_assert_max_num_queries(3):
        response = client.get(f"{V1}/friends/")
    assert response.status_code == 200
    assert response.json()["count"] == n
    assert len(response.json()["results"]) == min(n, 50)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("viewer_is_friend", [True, False])
def test_profile_queries_do_not_grow_with_friends(
    api_as, alice, bob, n, viewer_is_friend, django_assert_max_num_queries
):
    befriend_many(alice, n)
    befriend_many(bob, n)
    if viewer_is_friend:
        Friendship.objects.bulk_create([Friendship(user=alice, friend=bob), Friendship(user=bob, friend=alice)])
    profile_settings_update(user=alice, friend_list_visibility="everyone")
    client = api_as(bob)
    # token + user, owner, friendship, pending requests, blocks, friend-list setting, friend count
    with django_assert_max_num_queries(7):
        response = client.get(f"{V1}/users/alice/")
    assert response.status_code == 200
    assert response.json()["friend_count"] == n + viewer_is_friend
    assert response.json()["is_friend"] is viewer_is_friend


@pytest.mark.parametrize("n", SIZES)
def test_me_queries_do_not_grow_with_friends(api_as, alice, n, django_assert_max_num_queries):
    befriend_many(alice, n)
    client = api_as(alice)
    # token + user, me, friend count, friend-list setting
    with django_assert_max_num_queries(4):
        response = client.get(f"{V1}/me/")
    assert response.json()["friend_count"] == n


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("direction", ["incoming", "outgoing"])
def test_friend_request_list_queries_do_not_grow_with_requests(
    api_as, alice, n, direction, django_assert_max_num_queries
):
    others = many_users(n, "asker")
    pairs = [(o, alice) if direction == "incoming" else (alice, o) for o in others]
    FriendRequest.objects.bulk_create([FriendRequest(from_user=a, to_user=b) for a, b in pairs])
    client = api_as(alice)
    # token + user, page count, page rows with both users joined in
    with django_assert_max_num_queries(3):
        response = client.get(f"{V1}/friend-requests/", {"direction": direction})
    assert response.json()["count"] == n
    assert len(response.json()["results"]) == min(n, 50)
