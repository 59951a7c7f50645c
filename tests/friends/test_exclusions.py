"""The exclusion sets in Redis: kept in step with blocks, requests and dismissals by the graph events,
read by the recompute instead of the tables, rebuilt, checked, and never trusted once Redis lost them."""

from __future__ import annotations

import pytest

from friends import exclusions, graph_cache, services
from friends.consistency import graph_consistency_repair
from friends.models import FriendRequest
from friends.suggestions import compute, store
from socialsite.redis import get_redis
from tests.support.factories import act


@pytest.fixture
def built(db):
    """Exclusion sets built (empty): from here on a recompute reads them, not the tables."""
    exclusions.exclusions_rebuild()


@pytest.fixture
def fan(make_graph, built, deliver_events):
    """a-b, b-c, b-d: c and d are a's friends of friends."""
    users = make_graph(["ab", "bc", "bd"], through="services")
    deliver_events()
    return users


def suggested(user) -> list[int]:
    return [row[0] for row in store.suggestions_cached(user.pk)[1]]


@pytest.mark.parametrize(
    ("verb", "both_ways"),
    [("block", True), ("request", True), ("dismiss", False)],
)
def test_each_kind_of_exclusion_reaches_the_sets_and_the_suggestions(fan, deliver_events, verb, both_ways):
    a, c = fan["a"], fan["c"]
    assert suggested(a) == [c.pk, fan["d"].pk]
    act(verb, a, c)
    deliver_events()
    assert exclusions.excluded_for([a.pk, c.pk]) == ({a.pk: {c.pk}, c.pk: {a.pk}} if both_ways else {a.pk: {c.pk}})
    assert suggested(a) == [fan["d"].pk]


@pytest.mark.parametrize("undo", ["unblock", "cancel", "decline", "accept"])
def test_an_ended_block_or_request_leaves_the_sets(fan, deliver_events, undo):
    a, c = fan["a"], fan["c"]
    act("block" if undo == "unblock" else "request", a, c)
    deliver_events()
    if undo == "unblock":
        act("unblock", a, c)
    else:
        request = FriendRequest.objects.get(from_user=a, to_user=c, state="pending")
        user = a if undo == "cancel" else c
        getattr(services, f"friend_request_{undo}")(request_id=request.pk, user=user)
    deliver_events()
    assert exclusions.excluded_for([a.pk, c.pk]) == {}


def test_the_recompute_reads_the_sets_not_the_tables(fan, django_assert_num_queries):
    a, c = fan["a"], fan["c"]
    get_redis().sadd(exclusions.exclusion_key(a.pk), c.pk)  # only Redis says so: the tables do not
    with django_assert_num_queries(0):
        compute.suggestions_recompute([a.pk])
    assert suggested(a) == [fan["d"].pk]


def test_without_built_sets_the_recompute_reads_the_tables(make_graph, deliver_events):
    users = make_graph(["ab", "bc"], through="services")
    act("block", users["a"], users["c"])
    deliver_events()
    get_redis().flushdb()  # Redis lost everything, the "built" mark included
    graph_cache.friend_sets.friend_sets_rebuild()
    compute.suggestions_recompute([users["a"].pk])
    assert suggested(users["a"]) == []  # c is still left out: the block is read from the table


def test_the_rebuild_replaces_every_set_with_the_tables(fan, deliver_events):
    a, c, d = fan["a"], fan["c"], fan["d"]
    act("dismiss", a, c)
    deliver_events()
    redis = get_redis()
    redis.sadd(exclusions.exclusion_key(d.pk), a.pk)  # wrong: nothing in the tables
    redis.delete(exclusions.exclusion_key(a.pk))  # lost
    graph_cache.graph_cache_rebuild()
    assert exclusions.excluded_for([a.pk, c.pk, d.pk]) == {a.pk: {c.pk}}


def test_the_consistency_check_repairs_a_wrong_set_and_the_suggestions_it_skewed(fan, deliver_events):
    a, c, d = fan["a"], fan["c"], fan["d"]
    get_redis().sadd(exclusions.exclusion_key(a.pk), c.pk)
    compute.suggestions_recompute([a.pk])
    assert suggested(a) == [d.pk]  # skewed by the wrong set
    report = graph_consistency_repair().as_dict()
    assert report["repairs"]["exclusion_set_wrong"]["user_ids"] == [a.pk]
    assert exclusions.excluded_for([a.pk]) == {}
    assert suggested(a) == [c.pk, d.pk]
    assert graph_consistency_repair().as_dict()["drift"] is False


def test_the_consistency_check_builds_missing_sets_without_calling_it_drift(make_graph, deliver_events):
    users = make_graph(["ab", "bc"], through="services")
    act("block", users["a"], users["c"])
    deliver_events()
    get_redis().delete(exclusions.BUILT)
    report = graph_consistency_repair().as_dict()
    assert "exclusion_set_wrong" not in report["repairs"]
    assert report["checked"]["exclusion_sets_built"] == 2
    assert get_redis().exists(exclusions.BUILT)
    assert exclusions.excluded_for([users["a"].pk]) == {users["a"].pk: {users["c"].pk}}
