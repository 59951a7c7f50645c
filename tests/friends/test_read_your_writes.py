"""Read-your-writes in the unit tier: once a graph write has committed in this process, the involved
users' old results no longer read as fresh and the Redis sets already hold the new state, before any
worker handled the event (`friends.read_your_writes`); a Redis failure then never fails the write."""

from __future__ import annotations

import logging

import pytest

from friends import exclusions, friend_sets, selectors, services
from friends.suggestions import compute, store
from socialsite import redis as site_redis
from tests.support.factories import fill_mutual, fill_suggestions

pytestmark = pytest.mark.django_db


@pytest.fixture
def bridge(make_graph):
    """a - m - b and a - c; f - g. a's and f's suggestions and the pair a, b's mutual friends are fresh."""
    people = make_graph(["am", "mb", "ac", "fg"], names="ambcfg")
    fill_suggestions(*people.values())
    fill_mutual(people["a"], people["b"])
    return people


def fresh(user) -> bool:
    return store.suggestions_cached(user.pk) is not None


def test_an_unfriend_makes_both_users_and_their_friends_stale_at_commit(bridge, django_capture_on_commit_callbacks):
    a, b, m, c = bridge["a"], bridge["b"], bridge["m"], bridge["c"]
    with django_capture_on_commit_callbacks(execute=True):
        services.friendship_remove(user=m, friend=a)
    assert not any(fresh(u) for u in (a, m, b, c))  # both, and their friends (third parties)
    assert store.mutual_entry(a.pk, b.pk) is None
    assert a.pk not in friend_sets.friend_ids(m.pk)  # what a computation reads is already the new state
    compute.suggestions_recompute([a.pk])
    assert selectors.suggestions_get(user=a).results == []


def test_an_accept_makes_both_stale_and_the_new_friend_computable_at_commit(bridge, django_capture_on_commit_callbacks):
    a, f, g = bridge["a"], bridge["f"], bridge["g"]
    request = services.friend_request_send(from_user=f, to_user=a)
    with django_capture_on_commit_callbacks(execute=True):
        services.friend_request_accept(request_id=request.pk, user=a)
    assert not fresh(a) and not fresh(f)
    compute.suggestions_recompute([a.pk])
    assert [s.user.username for s in selectors.suggestions_get(user=a).results] == ["b", g.username]


@pytest.mark.parametrize("write", ["block", "request", "dismiss"])
def test_pair_writes_make_both_stale_and_sync_the_exclusions_at_commit(
    bridge, write, django_capture_on_commit_callbacks
):
    a, b = bridge["a"], bridge["b"]
    exclusions.exclusions_rebuild()
    with django_capture_on_commit_callbacks(execute=True):
        if write == "block":
            services.block_create(blocker=a, blocked=b)
        elif write == "request":
            services.friend_request_send(from_user=a, to_user=b)
        else:
            services.suggestion_dismiss(user=a, dismissed=b)
    assert not fresh(a)
    assert b.pk in exclusions.excluded_for([a.pk])[a.pk]
    compute.suggestions_recompute([a.pk])
    assert "b" not in [s.user.username for s in selectors.suggestions_get(user=a).results]


def test_without_the_after_commit_sync_the_cache_would_still_read_fresh(bridge):
    """What the sync prevents (`db` tier: on-commit callbacks never run): the cache still reads as fresh
    and names b; only the read-time check against the table keeps b from being shown."""
    a, m = bridge["a"], bridge["m"]
    services.friendship_remove(user=m, friend=a)
    assert fresh(a) and store.suggestions_cached(a.pk)[1][0][0] == bridge["b"].pk
    assert selectors.suggestions_get(user=a).results == []


@pytest.fixture
def redis_unreachable(settings):
    """Redis refusing connections (a closed port) for the graph's client; restored afterwards."""
    working = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    site_redis.get_redis.cache_clear()
    yield
    settings.REDIS_URL = working
    site_redis.get_redis.cache_clear()


def test_a_write_succeeds_when_redis_is_down_and_leaves_the_sync_to_the_subscriber(
    alice, bob, caplog, django_capture_on_commit_callbacks, redis_unreachable
):
    services.friendship_create(user=alice, friend=bob)  # a first event, before the outage is noticed
    with (
        caplog.at_level(logging.WARNING, logger="friends.read_your_writes"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.friendship_remove(user=alice, friend=bob)
    assert "left to its subscriber" in caplog.text
