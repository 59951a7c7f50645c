"""The API's reads cost a fixed number of SQL queries, however many friends or requests a user has.

Each test runs with 5 and with 500 and the same ceiling, so a query per row (an N+1) fails the 500 case.
"""

from __future__ import annotations

import pytest

from accounts.services import profile_settings_update
from friends.models import FriendRequest
from tests.support.factories import befriend, give_friends, make_users

V1 = "/api/v1"
SIZES = [5, 500]


@pytest.mark.parametrize("n", SIZES)
def test_friends_list_queries_do_not_grow_with_friends(api_as, alice, n, get_within_queries):
    give_friends(alice, n)
    # token + user, page count, page rows with each friend joined in
    response = get_within_queries(api_as(alice), f"{V1}/friends/", 3)
    assert response.json()["count"] == n
    assert len(response.json()["results"]) == min(n, 50)


@pytest.mark.parametrize("n", SIZES)
def test_someones_friend_list_queries_do_not_grow_with_friends(api_as, alice, bob, n, get_within_queries):
    give_friends(alice, n)
    profile_settings_update(user=alice, friend_list_visibility="everyone")
    # token + user, the profile (visible? shown to bob? the stored count), page rows with each friend joined in
    response = get_within_queries(api_as(bob), f"{V1}/users/alice/friends/", 3)
    assert response.json()["count"] == n
    assert len(response.json()["results"]) == min(n, 50)
    if n > 50:
        last = api_as(bob).get(f"{V1}/users/alice/friends/", {"page": "last"}).json()
        assert len(last["results"]) == (n % 50 or 50) and last["next"] is None


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("viewer_is_friend", [True, False])
def test_profile_queries_do_not_grow_with_friends(api_as, alice, bob, n, viewer_is_friend, get_within_queries):
    give_friends(alice, n)
    give_friends(bob, n)
    if viewer_is_friend:
        befriend((alice, bob))
    profile_settings_update(user=alice, friend_list_visibility="everyone")
    # token + user, owner, friendship, pending requests, blocks, friend-list setting, friend count
    response = get_within_queries(api_as(bob), f"{V1}/users/alice/", 7)
    assert response.json()["friend_count"] == n + viewer_is_friend
    assert response.json()["is_friend"] is viewer_is_friend


@pytest.mark.parametrize("n", SIZES)
def test_me_queries_do_not_grow_with_friends(api_as, alice, n, get_within_queries):
    give_friends(alice, n)
    # token + user, me, friend count, friend-list setting
    response = get_within_queries(api_as(alice), f"{V1}/me/", 4)
    assert response.json()["friend_count"] == n


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("direction", ["incoming", "outgoing"])
def test_friend_request_list_queries_do_not_grow_with_requests(api_as, alice, n, direction, get_within_queries):
    others = make_users(n, "asker")
    pairs = [(o, alice) if direction == "incoming" else (alice, o) for o in others]
    FriendRequest.objects.bulk_create([FriendRequest(from_user=a, to_user=b) for a, b in pairs])
    # token + user, page count, page rows with both users joined in
    response = get_within_queries(api_as(alice), f"{V1}/friend-requests/", 3, direction=direction)
    assert response.json()["count"] == n
    assert len(response.json()["results"]) == min(n, 50)
