"""The worker's recompute talks to Redis in two round trips on a pooled connection used directly: a failed
command never leaves replies behind for the next caller, and the results are the ones the tables give."""

from __future__ import annotations

import pytest
import redis

from friends import friend_sets
from friends.suggestions import compute, store
from socialsite.redis import get_redis
from tests.support.factories import fill_suggestions


def test_a_failed_command_drops_the_connection_and_the_next_round_trip_reads_its_own_replies():
    r = get_redis()
    r.set("worker-test:str", "x")
    r.set("worker-test:other", "y")
    with pytest.raises(redis.exceptions.ResponseError):
        # The error reply comes first: the later replies are never read on that connection.
        compute._round_trip([("SORT", "worker-test:str"), ("GET", "worker-test:str"), ("GET", "worker-test:str")])
    for _ in range(5):  # the pool hands back the last connection released first
        assert compute._round_trip([("GET", "worker-test:other")]) == ["y"]


def test_recompute_reads_friends_and_their_lists_in_one_round_trip(make_graph, monkeypatch):
    users = make_graph(["ab", "ac", "bd", "cd", "de"])
    fill_suggestions(*users.values())
    trips = []
    real = compute._round_trip
    monkeypatch.setattr(
        compute, "_round_trip", lambda commands, **options: trips.append(len(commands)) or real(commands, **options)
    )
    a, d = users["a"], users["d"]
    compute.suggestions_recompute([a.pk, d.pk])
    assert len(trips) == 2  # the read, then the writes
    _, rows = store.suggestions_cached(a.pk)
    assert rows == [[d.pk, 2, sorted([users["b"].pk, users["c"].pk])]]


def test_a_friend_whose_list_is_missing_adds_no_paths(make_graph):
    users = make_graph(["ab", "bc"])
    fill_suggestions(*users.values())
    get_redis().delete(friend_sets.friend_list_key(users["b"].pk))
    compute.suggestions_recompute([users["a"].pk])
    _, rows = store.suggestions_cached(users["a"].pk)
    assert rows == []
