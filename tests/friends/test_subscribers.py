"""The graph subscribers are adapters over `graph_cache` services; selectors never enqueue; a reader's miss
enqueues one computation per generation, directly (not through the outbox).

Messages are counted on the unit tier's StubBroker: nothing here needs RabbitMQ.
"""

from __future__ import annotations

import dramatiq
import pytest

from friends import friend_sets, selectors, services
from friends.models import Friendship
from friends.subscribers import (
    update_graph_after_block,
    update_graph_after_dismissal,
    update_graph_after_friendship,
    update_graph_after_request,
)
from friends.suggestions import compute, enqueue, store
from friends.tasks import compute_mutual_friends, compute_suggestions, recompute_dirty_suggestions
from socialsite import queues
from socialsite.models import OutboxEvent
from socialsite.redis import get_redis


def graph_messages(stub_broker) -> list[str]:
    """Actor names of the messages waiting on the `graph` queue."""
    queue = stub_broker.queues.get(queues.GRAPH)
    return [] if queue is None else [dramatiq.Message.decode(data).actor_name for data in list(queue.queue)]


@pytest.fixture
def warm(alice, bob, carol):
    """alice - carol - bob: alice and bob are suggested to each other; everything is cached."""
    Friendship.objects.bulk_create(
        [Friendship(user=a, friend=b) for a, b in [(alice, carol), (carol, alice), (bob, carol), (carol, bob)]]
    )
    friend_sets.friend_sets_rebuild()
    compute.suggestions_recompute([alice.pk, bob.pk, carol.pk])
    assert store.suggestions_cached(alice.pk)[1][0][0] == bob.pk
    return alice, bob, carol


def _event(name: str):
    return OutboxEvent.objects.filter(name=name).latest("created_at").as_message()


@pytest.mark.parametrize(
    ("act", "event", "subscriber"),
    [
        (
            lambda a, b: services.friend_request_send(from_user=a, to_user=b),
            "friend_request.sent",
            update_graph_after_request,
        ),
        (lambda a, b: services.block_create(blocker=b, blocked=a), "block.created", update_graph_after_block),
        (
            lambda a, b: services.suggestion_dismiss(user=a, dismissed=b),
            "suggestion.dismissed",
            update_graph_after_dismissal,
        ),
    ],
    ids=["request", "block", "dismissal"],
)
def test_a_pair_event_makes_both_users_stale_and_schedules_one_drain(warm, stub_broker, act, event, subscriber):
    alice, bob, carol = warm
    act(alice, bob)
    message = _event(event)
    assert subscriber(message) == 2
    assert subscriber(message) == 2  # a redelivery: same effect, and no second drain while one waits
    assert store.suggestions_cached(alice.pk) is None and store.suggestions_cached(bob.pk) is None
    assert store.suggestions_cached(carol.pk) is not None  # nobody else's results went stale
    assert get_redis().smembers(store.DIRTY) == {str(alice.pk), str(bob.pk)}
    assert graph_messages(stub_broker) == [recompute_dirty_suggestions.actor_name]


def test_a_friendship_event_syncs_the_sets_refreshes_the_pair_and_drains_the_rest(warm, stub_broker):
    alice, bob, carol = warm
    services.friend_request_send(from_user=alice, to_user=bob)
    request = services.friend_request_send(from_user=bob, to_user=alice)  # crossing: accepted at once
    assert request.state == "accepted"
    assert update_graph_after_friendship(_event("friendship.created")) == 3  # alice, bob and carol
    assert friend_sets.friend_ids(alice.pk) == {bob.pk, carol.pk}
    # The pair is fresh at once; carol, their common friend, waits for the one drain.
    assert store.suggestions_cached(alice.pk) is not None and store.suggestions_cached(bob.pk) is not None
    assert store.suggestions_cached(carol.pk) is None
    assert graph_messages(stub_broker) == [recompute_dirty_suggestions.actor_name]


def test_selectors_on_a_cold_cache_answer_none_and_enqueue_nothing(alice, bob, stub_broker):
    assert selectors.suggestions_get(user=alice) is None
    assert selectors.mutual_friends_get(viewer=alice, other=bob) is None
    assert selectors.mutual_friend_count_get(viewer=alice, other=bob) is None
    assert graph_messages(stub_broker) == []


def test_many_readers_missing_at_once_enqueue_one_computation(alice, bob, stub_broker):
    first = enqueue.suggestions_request_computation_rollback_unsafe(user=alice)
    again = enqueue.suggestions_request_computation_rollback_unsafe(user=alice)
    pair = enqueue.mutual_friends_request_computation_rollback_unsafe(viewer=alice, other=bob)
    pair_again = enqueue.mutual_friends_request_computation_rollback_unsafe(viewer=alice, other=bob)
    assert first.status == "computing" and first.task_id and first.task_id == again.task_id
    assert pair.task_id and pair.task_id == pair_again.task_id
    assert sorted(graph_messages(stub_broker)) == sorted(
        [compute_suggestions.actor_name, compute_mutual_friends.actor_name]
    )


def test_a_miss_at_a_newer_generation_enqueues_a_new_computation(alice, bob, stub_broker):
    first = enqueue.suggestions_request_computation_rollback_unsafe(user=alice)
    services.suggestion_dismiss(user=alice, dismissed=bob)
    update_graph_after_dismissal(_event("suggestion.dismissed"))  # alice's generation moves
    second = enqueue.suggestions_request_computation_rollback_unsafe(user=alice)
    assert second.task_id and second.task_id != first.task_id
    assert graph_messages(stub_broker).count(compute_suggestions.actor_name) == 2
