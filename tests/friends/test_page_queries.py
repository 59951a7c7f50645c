"""Pages cost a bounded number of SQL queries, whatever the number of friends (the lecture's point)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.services import profile_settings_update
from friends import services
from tests.support.factories import give_friends
from tests.support.pages import browser

# Session + user (2); profile: user_profile (user, relationship: 3, friend-list setting, friend count) + page
# count and slice = 10;
# friends page: four lists, each a count and a slice = 10, + the header's unread badge (1) = 11.
# Profile: 10 for the page, 2 for the cached mutual friends, and on a cold cache 4 more to record the
# enqueued computation's TaskRecord. None of it depends on the number of friends.
PROFILE_MAX_QUERIES = 16
FRIENDS_PAGE_MAX_QUERIES = 11


@pytest.fixture
def busy_alice(alice, bob, carol, make_user):
    """Alice with a request of every kind and a block, so every list on the pages has rows."""
    services.friend_request_send(from_user=bob, to_user=alice)
    services.friend_request_send(from_user=alice, to_user=carol)
    services.block_create(blocker=alice, blocked=make_user("mallory"))
    return alice


@pytest.mark.django_db
@pytest.mark.parametrize("friends", [5, 500])
def test_profile_page_queries_do_not_grow_with_the_number_of_friends(busy_alice, bob, get_within_queries, friends):
    give_friends(busy_alice, friends)
    profile_settings_update(user=busy_alice, friend_list_visibility="everyone")
    response = get_within_queries(browser(bob), reverse("profile", args=["alice"]), PROFILE_MAX_QUERIES)
    assert len(response.context["friends"].object_list) == min(friends, 50)
    assert response.content.decode().count("since <time") == min(friends, 50)


@pytest.mark.django_db
@pytest.mark.parametrize("friends", [5, 500])
def test_own_profile_page_queries_do_not_grow_with_the_number_of_friends(busy_alice, get_within_queries, friends):
    give_friends(busy_alice, friends)
    url = reverse("profile", args=["alice"])
    response = get_within_queries(browser(busy_alice), url, PROFILE_MAX_QUERIES, page=2)
    assert response.context["friends"].number == (2 if friends > 50 else 1)


@pytest.mark.django_db
@pytest.mark.parametrize("friends", [5, 500])
def test_friends_page_queries_do_not_grow_with_the_number_of_friends(busy_alice, get_within_queries, friends):
    give_friends(busy_alice, friends)
    response = get_within_queries(browser(busy_alice), reverse("friends"), FRIENDS_PAGE_MAX_QUERIES)
    html = response.content.decode()
    assert html.count("since <time") == min(friends, 50)
    assert "Decline" in html and "Cancel" in html and "Unblock" in html
    assert f'Your friends <span class="muted">({friends})</span>' in html
