"""The friend graph after a user leaves or returns, and read-your-writes in the unit tier.

A deactivated or deleted user is gone from the derived graph (neither suggested, nor a mutual friend, nor
a bridge between its friends) as soon as the deleting or deactivating process has committed, and stays
gone through a rebuild and a consistency check; a reactivated one comes back. Reads check the cache
against the table, so even before any of that ran a count equals its list.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts import services
from friends import exclusions, friend_sets, selectors
from friends import services as friend_services
from friends.consistency import graph_consistency_repair
from friends.graph_cache import graph_cache_rebuild
from friends.suggestions import compute, store
from tests.support.factories import fill_mutual, fill_suggestions

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def bridge(make_graph):
    """a - m - b, and a - c: b is a's suggestion only through m; the pair a, b has one mutual friend, m.
    a's suggestions and the pair's mutual friends are cached and fresh."""
    people = make_graph(["am", "mb", "ac"], names="ambc")
    fill_suggestions(people["a"], people["b"])
    fill_mutual(people["a"], people["b"])
    return people


def suggested(user) -> list[tuple[str, int, list[str]]]:
    found = selectors.suggestions_get(user=user)
    assert found is not None, "nothing fresh cached"
    return [(s.user.username, s.mutual_count, [m.username for m in s.mutual_sample]) for s in found.results]


def mutual(viewer, other) -> tuple[int, list[str]]:
    found = selectors.mutual_friends_get(viewer=viewer, other=other)
    assert found is not None, "nothing fresh cached"
    return found.count, [u.username for u in found.results]


def test_the_bridge_fixture_is_what_it_says(bridge):
    a, b = bridge["a"], bridge["b"]
    assert suggested(a) == [("b", 1, ["m"])]
    assert mutual(a, b) == (1, ["m"])


@pytest.mark.parametrize("leave", ["deactivate", "delete"])
def test_once_the_leaving_write_committed_no_old_result_reads_as_fresh(
    bridge, leave, deliver_events, django_capture_on_commit_callbacks
):
    a, b, m = bridge["a"], bridge["b"], bridge["m"]
    with django_capture_on_commit_callbacks(execute=True):
        (services.user_deactivate if leave == "deactivate" else services.user_delete)(user=m)
    # The process that wrote has already moved the generations: old results read as stale.
    assert selectors.suggestions_get(user=a) is None
    assert selectors.mutual_friends_get(viewer=a, other=b) is None
    # ... and synced the friend sets, so whatever computes now computes the new state.
    assert friend_sets.friend_ids(a.pk) == {bridge["c"].pk} and friend_sets.friend_ids(b.pk) == set()
    compute.suggestions_recompute([a.pk, b.pk])
    assert suggested(a) == [] and suggested(b) == []
    assert compute.mutual_recompute(a.pk, b.pk) == []
    assert mutual(a, b) == (0, [])
    deliver_events()  # the worker's turn: the same state, nothing more to change
    assert suggested(a) == [] and friend_sets.friend_ids(a.pk) == {bridge["c"].pk}


def test_a_reactivated_user_comes_back_with_its_friendships(bridge, deliver_events, django_capture_on_commit_callbacks):
    a, b, m = bridge["a"], bridge["b"], bridge["m"]
    with django_capture_on_commit_callbacks(execute=True):
        services.user_deactivate(user=m)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_reactivate(user=m)
    assert selectors.suggestions_get(user=a) is None  # stale again
    deliver_events()
    assert suggested(a) == [("b", 1, ["m"])]
    assert compute.mutual_recompute(a.pk, b.pk) == [m.pk]
    assert friend_sets.friend_ids(m.pk) == {a.pk, b.pk}


def test_the_subscriber_alone_does_it_too(bridge, deliver_events):
    """No after-commit sync (a write whose Redis call failed, say): the event's subscriber converges."""
    a, m = bridge["a"], bridge["m"]
    services.user_deactivate(user=m)  # `db` tier: on-commit callbacks never run
    deliver_events()
    assert suggested(a) == []
    assert friend_sets.friend_ids(m.pk) == set() and m.pk not in friend_sets.friend_ids(a.pk)


def test_rebuild_and_consistency_check_keep_a_deactivated_user_out(bridge, deliver_events):
    a, b, m = bridge["a"], bridge["b"], bridge["m"]
    services.user_deactivate(user=m)
    deliver_events()
    assert graph_consistency_repair().as_dict()["repairs"] == {}  # what the events left is what it expects
    graph_cache_rebuild()
    assert suggested(a) == [] and friend_sets.friend_ids(a.pk) == {bridge["c"].pk}
    assert compute.mutual_recompute(a.pk, b.pk) == []


def test_a_deleted_user_leaves_every_exclusion_set(make_user, django_capture_on_commit_callbacks):
    d, dismisser, blocked, asked = (make_user(n) for n in ("d", "dismisser", "blocked", "asked"))
    friend_services.suggestion_dismiss(user=dismisser, dismissed=d)
    friend_services.block_create(blocker=d, blocked=blocked)
    friend_services.friend_request_send(from_user=d, to_user=asked)
    exclusions.exclusions_rebuild()
    assert d.pk in exclusions.excluded_for([dismisser.pk])[dismisser.pk]
    with django_capture_on_commit_callbacks(execute=True):
        services.user_delete(user=d)
    assert exclusions.excluded_for([dismisser.pk, blocked.pk, asked.pk, d.pk]) == {}
    assert graph_consistency_repair().as_dict()["repairs"] == {}


# --- reads check the cache against the table, before any event is handled ------------------------------


def test_unfriended_mutual_friend_leaves_the_sample_and_the_count_at_once(bridge):
    """The issue's case: m unfriends a; b, suggested through m alone, is no longer a suggestion, and the
    pair's mutual friends no longer list or count m, before anything recomputed (`db` tier: no
    after-commit sync, no event)."""
    a, b, m = bridge["a"], bridge["b"], bridge["m"]
    friend_services.friendship_remove(user=m, friend=a)
    assert store.suggestions_cached(a.pk) is not None  # the cache still says b, through m
    assert suggested(a) == []
    assert mutual(a, b) == (0, [])
    assert selectors.mutual_friend_count_get(viewer=a, other=b) == 0


def test_deleted_mutual_friend_is_neither_listed_nor_counted(bridge):
    """The issue's admin-delete case answered `count 1, results []`: a count now equals its list."""
    a, b, m = bridge["a"], bridge["b"], bridge["m"]
    User.objects.filter(pk=m.pk).delete()
    assert mutual(a, b) == (0, [])
    assert suggested(a) == []


def test_a_new_friend_is_never_suggested(bridge):
    a, b = bridge["a"], bridge["b"]
    request = friend_services.friend_request_send(from_user=b, to_user=a)
    friend_services.friend_request_accept(request_id=request.pk, user=a)
    assert [name for name, *_ in suggested(a)] == []


def test_a_mutual_friend_who_blocks_the_user_leaves_the_sample_and_the_count(make_graph):
    """A block ends the friendship: the blocker is no longer a mutual friend, whatever the cache says."""
    people = make_graph(["ax", "xb", "ay", "yb"], names="abxy")
    a, x = people["a"], people["x"]
    fill_suggestions(a)
    assert suggested(a) == [("b", 2, ["x", "y"])]
    friend_services.block_create(blocker=x, blocked=a)
    assert suggested(a) == [("b", 1, ["y"])]
