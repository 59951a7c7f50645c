"""Mutual friends and suggestions through the real RabbitMQ, a real worker, Redis and PostgreSQL."""

import pytest

from friends import services
from friends.suggestions import compute, store
from socialsite.redis import get_redis
from tests.support.waiting import wait_for


def suggested(user) -> list[tuple[int, int]] | None:
    cached = store.suggestions_cached(user.pk)
    return None if cached is None else [(row[0], row[1]) for row in cached[1]]


@pytest.fixture
def chain(make_graph):
    """a - b - c and b - d, e alone; a's suggestions: c and d (1 mutual: b)."""
    return make_graph(["ab", "bc", "bd"], names="abcde", through="services")


def test_cold_read_answers_computing_then_ready_with_the_right_data(worker, chain, api_as):
    a, b = chain["a"], chain["b"]
    client = api_as(a)
    wait_for(lambda: suggested(a) is not None, what="suggestions warmed by the events")
    redis = get_redis()
    # Every event handled and the drain done (nothing dirty, no drain scheduled): nothing rewrites the entry
    # deleted below. Waiting for the drain alone once let a later friendship's event refill it (CI, 13:14).
    worker.wait_idle()
    wait_for(lambda: not redis.scard(store.DIRTY) and not redis.exists(store.DRAIN_FLAG), what="the drain done")
    redis.delete(store.sugg_key(a.pk))  # a cold cache

    cold = client.get("/api/v1/suggestions/").json()
    assert cold["status"] == "computing" and cold["task_id"] and cold["results"] == []
    wait_for(lambda: client.get(f"/api/v1/tasks/{cold['task_id']}/").json()["state"] == "done", what="the task")
    ready = client.get("/api/v1/suggestions/").json()
    assert ready["status"] == "ready" and ready["task_id"] is None and ready["computed_at"]
    assert [(r["user"]["username"], r["mutual_count"]) for r in ready["results"]] == [("c", 1), ("d", 1)]
    assert ready["results"][0]["mutual_sample"] == [{"id": b.pk, "username": "b"}]

    cold = client.get("/api/v1/users/c/mutual-friends/").json()
    assert cold["status"] == "computing" and cold["task_id"]
    body = wait_for(
        lambda: (r := client.get("/api/v1/users/c/mutual-friends/").json())["status"] == "ready" and r,
        what="mutual friends",
    )
    assert body["count"] == 1 and body["results"] == [{"id": b.pk, "username": "b"}]


def test_accepting_a_request_updates_both_users_their_friends_and_the_pairs_mutual_friends(worker, chain):
    a, b, c, d, e = (chain[n] for n in "abcde")
    wait_for(lambda: suggested(a) == [(c.pk, 1), (d.pk, 1)], what="initial suggestions")
    services.friendship_create(user=c, friend=e)
    wait_for(lambda: suggested(e) == [(b.pk, 1)], what="e's suggestions")
    compute.mutual_recompute(a.pk, c.pk)

    request = services.friend_request_send(from_user=a, to_user=c)
    wait_for(lambda: suggested(a) == [(d.pk, 1)], what="a pending request hides c from a")
    services.friend_request_accept(request_id=request.pk, user=c)

    wait_for(lambda: suggested(a) == [(d.pk, 1), (e.pk, 1)], what="a now reaches e through c")
    wait_for(lambda: suggested(c) == [(d.pk, 1)], what="c's suggestions")
    wait_for(lambda: suggested(e) == [(a.pk, 1), (b.pk, 1)], what="c's friend e sees a")
    wait_for(lambda: suggested(b) == [(e.pk, 1)], what="b's suggestions")
    assert store.mutual_entry(a.pk, c.pk) is None  # the pair's entry went stale with the change
    assert compute.mutual_recompute(a.pk, c.pk) == [b.pk]
    assert compute.mutual_recompute(b.pk, c.pk) == [a.pk]


def test_unfriending_and_blocking_update_suggestions(worker, chain):
    a, b, c, d = (chain[n] for n in "abcd")
    wait_for(lambda: suggested(c) == [(a.pk, 1), (d.pk, 1)], what="initial")
    services.friendship_remove(user=b, friend=d)
    wait_for(lambda: suggested(c) == [(a.pk, 1)] and suggested(d) == [], what="after unfriending")
    services.block_create(blocker=a, blocked=c)
    wait_for(lambda: suggested(c) == [] and suggested(a) == [], what="after blocking")
    services.block_remove(blocker=a, blocked=c)
    wait_for(lambda: suggested(c) == [(a.pk, 1)], what="after unblocking")
