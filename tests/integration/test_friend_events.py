"""Friendship events go through the outbox, the real RabbitMQ and a real worker into Redis."""

import pytest
from django.core.management import call_command
from django.db import transaction

from friends import cache, services
from friends.models import Friendship
from socialsite.models import OutboxEvent, TaskRecord
from tests.support.waiting import wait_for


def test_accepted_request_updates_both_redis_friend_sets_through_the_worker(worker, alice, bob):
    request = services.friend_request_send(from_user=alice, to_user=bob)
    services.friend_request_accept(request_id=request.pk, user=bob)

    wait_for(
        lambda: cache.friend_ids(alice.pk) == {bob.pk} and cache.friend_ids(bob.pk) == {alice.pk},
        what="both friend sets in Redis",
    )
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()
    # Every message the events caused is tracked to its end: none is left looking "enqueued".
    wait_for(
        lambda: TaskRecord.objects.exists() and not TaskRecord.objects.exclude(state="done").exists(),
        what="every task record done",
    )


def test_unfriend_removes_the_pair_from_both_sets(worker, alice, bob):
    services.friendship_create(user=alice, friend=bob)
    wait_for(lambda: cache.friend_ids(alice.pk) == {bob.pk}, what="friendship in Redis")
    services.friendship_remove(user=bob, friend=alice)
    wait_for(lambda: not cache.friend_ids(alice.pk) and not cache.friend_ids(bob.pk), what="sets emptied")


def test_rolled_back_friendship_sends_nothing(worker, alice, bob, carol):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.friendship_create(user=alice, friend=bob)
        raise RuntimeError("the surrounding change fails after the event was emitted")
    assert not OutboxEvent.objects.exists()
    assert not Friendship.objects.exists()
    # A later, committed event is processed; the rolled-back one never shows up before or after it.
    services.friendship_create(user=alice, friend=carol)
    wait_for(lambda: cache.friend_ids(carol.pk) == {alice.pk}, what="the committed friendship")
    assert cache.friend_ids(alice.pk) == {carol.pk}
    assert cache.friend_ids(bob.pk) == set()


def test_rebuild_command_reproduces_the_worker_maintained_sets(worker, make_graph):
    graph = make_graph(["ab", "ac", "bc", "de", "ef", "af"], through="services")
    services.friendship_remove(user=graph["a"], friend=graph["f"])
    users = list(graph.values())

    def snapshot():
        return {u.pk: cache.friend_ids(u.pk) for u in users}

    expected = {u.pk: set(Friendship.objects.filter(user=u).values_list("friend_id", flat=True)) for u in users}
    wait_for(lambda: snapshot() == expected, what="worker-maintained sets")
    from socialsite.redis import get_redis

    get_redis().flushdb()
    call_command("rebuild_graph_cache", "--no-progress")
    assert snapshot() == expected
