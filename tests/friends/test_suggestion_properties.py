"""Property-based: after any sequence of graph operations, once events are delivered and drained,
every cached result equals a fresh computation from the database."""

import contextlib
import itertools

from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from friends import exclusions, friend_sets
from friends.models import Block, FriendRequest, Friendship, SuggestionDismissal
from friends.suggestions import compute, store
from socialsite.errors import ServiceError
from socialsite.redis import get_redis
from tests.support.events import EventDelivery
from tests.support.factories import ACTIONS, act

User = get_user_model()
N = 7
OPS = list(ACTIONS)
operations = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, N - 1), st.integers(0, N - 1)), max_size=30)
_run = itertools.count()


def apply(op: str, a, b) -> None:
    if op == "accept":  # a accepts whichever request is waiting for them, if any
        pending = FriendRequest.objects.filter(to_user=a, state="pending").first()
        if pending is None:
            return
        b = pending.from_user
    # Refused operations are part of the sequence too: they must change nothing.
    with contextlib.suppress(ServiceError):
        act(op, a, b)


def fresh(users) -> dict[int, list]:
    """Independent reference: plain sets over the friendship table and the exclusion tables."""
    adj = {u.pk: set() for u in users}
    for x, y in Friendship.objects.values_list("user_id", "friend_id"):
        adj[x].add(y)
    excluded = {u.pk: set() for u in users}
    for x, y in Block.objects.values_list("blocker_id", "blocked_id"):
        excluded[x].add(y)
        excluded[y].add(x)
    for x, y in FriendRequest.objects.filter(state="pending").values_list("from_user_id", "to_user_id"):
        excluded[x].add(y)
        excluded[y].add(x)
    for x, y in SuggestionDismissal.objects.values_list("user_id", "dismissed_id"):
        excluded[x].add(y)
    result = {}
    for u in adj:
        counts: dict[int, list[int]] = {}
        for f in adj[u]:
            for c in adj[f]:
                if c != u and c not in adj[u] and c not in excluded[u]:
                    counts.setdefault(c, []).append(f)
        ranked = sorted(counts.items(), key=lambda kv: (-len(kv[1]), kv[0]))[: compute.TOP_K]
        result[u] = [[c, len(m), sorted(m)[: compute.SAMPLE]] for c, m in ranked]
    return result, adj, excluded


# Each example builds users and runs every operation through services and subscribers: a sixth of the
# profile's examples (25 in the test command's profile, tests/conftest.py).
@settings(
    max_examples=settings.default.max_examples // 6,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=operations, data=st.data())
def test_cached_results_equal_a_fresh_computation_after_any_operations(db, ops, data):
    get_redis().flushdb()
    friend_sets.friend_sets_rebuild()  # built (and empty): results computed from the sets may be served
    exclusions.exclusions_rebuild()  # built (and empty): recomputes read the Redis exclusion sets
    with transaction.atomic():
        run = next(_run)
        users = [User.objects.create(username=f"p{run}_{i}") for i in range(N)]
        compute.suggestions_recompute([u.pk for u in users])  # a warm cache before anything happens
        deliver_events = EventDelivery()  # one per example: each example is its own history
        for op, i, j in ops:
            apply(op, users[i], users[j])
            deliver_events()  # every new event to every subscriber, then drain: "the queue is drained"

        expected, adj, excluded = fresh(users)
        # The Redis exclusion sets the recomputes read agree with the tables after any history.
        assert exclusions.excluded_for([u.pk for u in users]) == {u: e for u, e in excluded.items() if e}, ops
        for u in users:
            cached = store.suggestions_cached(u.pk)
            assert cached is not None, (u.username, "left stale after the drain", ops)
            assert cached[1] == expected[u.pk], (u.username, ops)
            for uid, _, _ in cached[1]:
                assert uid != u.pk and uid not in adj[u.pk] and uid not in excluded[u.pk]

        a, b = data.draw(st.sampled_from(users)), data.draw(st.sampled_from(users))
        assert compute.mutual_recompute(a.pk, b.pk) == compute.mutual_recompute(b.pk, a.pk)
        assert store.mutual_entry(a.pk, b.pk).ids == sorted(adj[a.pk] & adj[b.pk] - {a.pk, b.pk})
        transaction.set_rollback(True)
