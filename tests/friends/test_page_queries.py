"""Pages cost a bounded number of SQL queries, whatever the number of friends (the lecture's point)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.services import profile_settings_update
from friends import services
from friends.models import Block, FriendCount
from tests.support.factories import give_friends
from tests.support.pages import browser

# The session's user, with the header's unread badge (1; the session itself comes from the cache,
# the badge's count with the user: `socialsite.backends`) on every page. Another user's profile:
# user_profile (visible user, relationship, friend-list setting and friend count in one query: 1), the
# newest friends (1: the count is the profile's own) and, on a cold mutual-friends cache, the enqueued
# computation's task record (1): 4. The own profile: the user, user_profile, the newest friends, the
# viewer's friend-list setting: 4. A user's whole friend list (`profile-friends`): the user,
# user_profile, a page of friends: 3.
# A friend's (or the own) profile with shares: one more, the page of shares (their count comes with
# user_profile; no shares, no query).
# Friends page: the user, the four lists' counts in one query, a page of each non-empty list (4): 6.
# None of it depends on the number of friends (friends/pages_queries.py).
PROFILE_MAX_QUERIES = 4
OWN_PROFILE_MAX_QUERIES = 4
FRIENDS_PAGE_MAX_QUERIES = 6
FRIEND_LIST_MAX_QUERIES = 3


@pytest.fixture
def busy_alice(alice, bob, carol, make_user):
    """Alice with a request of every kind and a block, so every list on the pages has rows."""
    services.friend_request_send(from_user=bob, to_user=alice)
    services.friend_request_send(from_user=alice, to_user=carol)
    services.block_create(blocker=alice, blocked=make_user("mallory"))
    return alice


@pytest.mark.django_db
@pytest.mark.parametrize("shares", [1, 30])
def test_a_friends_profile_with_shares_costs_one_query_more_whatever_their_number(
    busy_alice, bob, get_within_queries, shares
):
    from friends.shares import services as share_services

    services.friendship_create(user=busy_alice, friend=bob)
    for i in range(shares):
        share_services.share_create(owner=busy_alice, url=f"https://example.com/{i}")
    response = get_within_queries(browser(bob), reverse("profile", args=["alice"]), PROFILE_MAX_QUERIES + 1)
    assert len(response.context["shares"].object_list) == min(shares, 10)


@pytest.mark.django_db
@pytest.mark.parametrize("friends", [5, 500])
def test_profile_page_queries_do_not_grow_with_the_number_of_friends(busy_alice, bob, get_within_queries, friends):
    from friends.views import PROFILE_PREVIEW

    give_friends(busy_alice, friends)
    profile_settings_update(user=busy_alice, friend_list_visibility="everyone")
    response = get_within_queries(browser(bob), reverse("profile", args=["alice"]), PROFILE_MAX_QUERIES)
    assert len(response.context["friend_rows"]) == min(friends, PROFILE_PREVIEW)
    assert response.content.decode().count("since <time") == min(friends, PROFILE_PREVIEW)


@pytest.mark.django_db
@pytest.mark.parametrize("friends", [5, 500])
def test_own_profile_page_queries_do_not_grow_with_the_number_of_friends(busy_alice, get_within_queries, friends):
    from friends.views import PROFILE_PREVIEW

    give_friends(busy_alice, friends)
    response = get_within_queries(browser(busy_alice), reverse("profile", args=["alice"]), OWN_PROFILE_MAX_QUERIES)
    assert len(response.context["friend_rows"]) == min(friends, PROFILE_PREVIEW)


@pytest.mark.django_db
@pytest.mark.parametrize("friends", [5, 500])
@pytest.mark.parametrize("viewer", ["alice", "bob"])
def test_a_users_friend_list_page_queries_do_not_grow_with_the_number_of_friends(
    busy_alice, bob, get_within_queries, friends, viewer
):
    give_friends(busy_alice, friends)
    profile_settings_update(user=busy_alice, friend_list_visibility="everyone")
    client = browser(busy_alice if viewer == "alice" else bob)
    url = reverse("profile-friends", args=["alice"])
    response = get_within_queries(client, url, FRIEND_LIST_MAX_QUERIES, page=2)
    assert response.context["friends"].number == (2 if friends > 50 else 1)
    assert response.content.decode().count("since <time") == min(friends, 50)


@pytest.mark.django_db
@pytest.mark.parametrize("friends", [5, 500])
def test_friends_page_queries_do_not_grow_with_the_number_of_friends(busy_alice, get_within_queries, friends):
    give_friends(busy_alice, friends)
    response = get_within_queries(browser(busy_alice), reverse("friends"), FRIENDS_PAGE_MAX_QUERIES)
    html = response.content.decode()
    assert html.count("since <time") == min(friends, 50)
    assert "Decline" in html and "Cancel" in html and "Unblock" in html
    assert f'Your friends <span class="muted">({friends})</span>' in html


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.django_db
def test_a_friend_count_reads_no_user_or_block_row_per_friend(busy_alice, bob, make_user):
    """The counts of a friend list (`/friends/`, home, a profile) must not probe the user table for
    `is_active`, nor the blocks, once per friend: a user with 3,000 friends cost 3,000 probes a page.
    The inactive ids and the viewer's blocks are each read once (loops = 1), whatever the degree."""
    from django.db import connection

    from friends import pages_queries

    give_friends(busy_alice, 200)
    gone = make_user("gone")
    services.friendship_create(user=busy_alice, friend=gone)
    gone.is_active = False
    gone.save()
    sql, params = pages_queries.FRIENDS.count_sql(bob.pk, busy_alice.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert cursor.fetchone()[0] == 200  # the inactive friend is not counted
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()[0]
    per_friend = [
        (node["Node Type"], node["Relation Name"], node["Actual Loops"])
        for node in _nodes(plan["Plan"])
        if node.get("Relation Name") in {"auth_user", "friends_block"} and node["Actual Loops"] > 1
    ]
    assert per_friend == []


def _generic_plan(sql: str, params: list) -> dict:
    """The plan PostgreSQL runs for a prepared statement once it settles on a generic plan (the pages'
    statements are prepared: DJANGO_DB_PREPARE_THRESHOLD), executed with `params`, as JSON."""
    from django.db import connection
    from psycopg import sql as pgsql

    parts = sql.split("%s")
    numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
    connection.ensure_connection()
    literals = ", ".join(pgsql.Literal(value).as_string(connection.connection) for value in params)
    with connection.cursor() as cursor:
        cursor.execute(f"PREPARE plan_probe AS {numbered}")
        try:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE plan_probe({literals})")
            (plan,) = cursor.fetchone()[0]
        finally:
            cursor.execute("RESET plan_cache_mode")
            cursor.execute("DEALLOCATE plan_probe")
    return plan["Plan"]


@pytest.mark.django_db
def test_the_suggestions_friend_flag_probes_each_person_not_the_whole_friend_list(alice, make_user):
    """`_PEOPLE_WITH_FRIEND_FLAG` says, for the dozen people a suggestions page names, whether each is the
    viewer's friend. Its generic plan once hashed all of the viewer's friends for that (fb0's 1,602 on the
    40k-user graph): each person must be one index probe, whatever the viewer's degree."""
    from django.db import connection

    from friends import selectors

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    give_friends(alice, 300)
    shown = [make_user(f"shown-{i}") for i in range(3)]
    services.friendship_create(user=alice, friend=shown[0])
    ids = [u.pk for u in shown]
    assert sorted((pk, flag) for pk, *_, flag in selectors._PEOPLE_WITH_FRIEND_FLAG.rows(alice.pk, ids)) == [
        (shown[0].pk, True),
        (shown[1].pk, False),
        (shown[2].pk, False),
    ]
    sql, params, positions = selectors._PEOPLE_WITH_FRIEND_FLAG._compile()
    params = list(params)
    for i, which in positions:
        params[i] = [alice.pk, ids][which]
    friendship_rows = [
        node["Actual Rows"] * node["Actual Loops"]
        for node in _nodes(_generic_plan(sql, params))
        if node.get("Relation Name") == "friends_friendship"
    ]
    assert friendship_rows and sum(friendship_rows) <= len(ids)


@pytest.mark.django_db
def test_a_friend_count_reads_the_stored_count_and_one_probe_per_block_not_the_friendships(busy_alice, bob, make_user):
    """A friend list's count (`selectors.listed_friend_count`: `/friends/`, home, a profile, the API) is
    the owner's stored count of active friends less their friends blocked either way with the viewer:
    equal to the list's length, whatever the blocks' directions, and reading no friendship row per friend
    (a hub's 3,083 were counted on every profile of the 40k-user graph)."""
    from django.db import connection

    from friends import pages_queries, selectors

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    friends = give_friends(busy_alice, 200)
    gone = make_user("gone")
    services.friendship_create(user=busy_alice, friend=gone)
    User = type(gone)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    blocked_by_bob, blocking_bob, both_ways = friends[:3]
    Block.objects.bulk_create(
        [
            Block(blocker=bob, blocked=blocked_by_bob),
            Block(blocker=blocking_bob, blocked=bob),
            Block(blocker=bob, blocked=both_ways),
            Block(blocker=both_ways, blocked=bob),
        ]
    )
    profile_settings_update(user=busy_alice, friend_list_visibility="everyone")

    sql, params = pages_queries.FRIENDS.sql(bob.pk, busy_alice.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        listed = len(cursor.fetchall())
    count_sql, count_params = pages_queries.FRIENDS.count_sql(bob.pk, busy_alice.pk)
    with connection.cursor() as cursor:
        cursor.execute(count_sql, count_params)
        counted = cursor.fetchone()[0]
    assert listed == counted == 197  # 200, less three blocked either way; the inactive friend is not one
    assert selectors.user_profile(viewer=bob, username="alice").friend_count == 197
    assert FriendCount.objects.get(user=busy_alice).friends == 200

    plan = _generic_plan(count_sql, count_params)
    friendship_rows = [
        node["Actual Rows"] * node["Actual Loops"]
        for node in _nodes(plan)
        if node.get("Relation Name") == "friends_friendship"
    ]
    assert sum(friendship_rows) <= 4, plan  # one probe per block row (both ways: two), none per friend
