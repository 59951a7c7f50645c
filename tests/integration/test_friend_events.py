"""Friendship events go through the outbox, the real RabbitMQ and a real worker into Redis."""

import pytest
from django.core.management import call_command
from django.db import transaction

from friends import friend_sets, services
from friends.models import Friendship
from socialsite.models import OutboxEvent, TaskRecord
from socialsite.taskstatus import task_counters
from tests.support.waiting import wait_for


def test_accepted_request_updates_both_redis_friend_sets_through_the_worker(worker, alice, bob):
    request = services.friend_request_send(from_user=alice, to_user=bob)
    services.friend_request_accept(request_id=request.pk, user=bob)

    wait_for(
        lambda: friend_sets.friend_ids(alice.pk) == {bob.pk} and friend_sets.friend_ids(bob.pk) == {alice.pk},
        what="both friend sets in Redis",
    )
    wait_for(lambda: not OutboxEvent.objects.filter(published_at__isnull=True).exists(), what="all published")

    # Fire-and-forget subscriber messages are counted, not recorded: nothing failed, so no task record.
    def processed(actor: str) -> int:
        return task_counters().get(actor, {}).get("processed", 0)

    # friend_request.sent and friendship.created reach the graph; sent and accepted notify.
    graph_and_notifications = ("update_graph_after_request", "update_graph_after_friendship")
    graph_and_notifications += ("notify_request_receiver", "notify_request_sender")
    wait_for(lambda: all(processed(actor) == 1 for actor in graph_and_notifications), what="counters")
    assert not TaskRecord.objects.exists()


def test_unfriend_removes_the_pair_from_both_sets(worker, alice, bob):
    services.friendship_create(user=alice, friend=bob)
    wait_for(lambda: friend_sets.friend_ids(alice.pk) == {bob.pk}, what="friendship in Redis")
    services.friendship_remove(user=bob, friend=alice)
    wait_for(lambda: not friend_sets.friend_ids(alice.pk) and not friend_sets.friend_ids(bob.pk), what="sets emptied")


def test_rolled_back_friendship_sends_nothing(worker, alice, bob, carol):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.friendship_create(user=alice, friend=bob)
        raise RuntimeError("the surrounding change fails after the event was emitted")
    assert not OutboxEvent.objects.exists()
    assert not Friendship.objects.exists()
    # A later, committed event is processed; the rolled-back one never shows up before or after it.
    services.friendship_create(user=alice, friend=carol)
    wait_for(lambda: friend_sets.friend_ids(carol.pk) == {alice.pk}, what="the committed friendship")
    assert friend_sets.friend_ids(alice.pk) == {carol.pk}
    assert friend_sets.friend_ids(bob.pk) == set()


def test_rebuild_command_reproduces_the_worker_maintained_sets(worker, make_graph):
    graph = make_graph(["ab", "ac", "bc", "de", "ef", "af"], through="services")
    services.friendship_remove(user=graph["a"], friend=graph["f"])
    users = list(graph.values())

    def snapshot():
        return {u.pk: friend_sets.friend_ids(u.pk) for u in users}

    expected = {u.pk: set(Friendship.objects.filter(user=u).values_list("friend_id", flat=True)) for u in users}
    wait_for(lambda: snapshot() == expected, what="worker-maintained sets")
    from socialsite.redis import get_redis

    get_redis().flushdb()
    call_command("rebuild_graph_cache", "--no-progress")
    assert snapshot() == expected
