"""The outbox: events survive a broker outage and a killed worker, and duplicates have one effect."""

import time
from collections import Counter

import dramatiq
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from friends import friend_sets, services
from friends.models import FriendRequest
from notifications.models import Notification
from socialsite.events import subscriber_message, subscribers_of
from socialsite.models import OutboxEvent
from socialsite.taskstatus import task_counters
from tests.support.waiting import wait_for


@pytest.fixture
def broker_down():
    """Point this process's publisher at a closed port, as if RabbitMQ were unreachable."""
    real = dramatiq.get_broker()
    dead = RabbitmqBroker(
        url="amqp://guest:guest@127.0.0.1:1/%2F?connection_attempts=1&socket_timeout=1",
        confirm_delivery=True,
        middleware=[],
    )
    dramatiq.set_broker(dead)
    yield
    dramatiq.set_broker(real)


def test_friendship_made_while_broker_is_down_succeeds_and_is_delivered_once_it_is_back(
    start_worker, broker_down, alice, bob
):
    started = time.monotonic()
    request = services.friend_request_send(from_user=alice, to_user=bob)
    services.friend_request_accept(request_id=request.pk, user=bob)
    assert time.monotonic() - started < 5, "the user must not wait for the broker"
    assert FriendRequest.objects.get().state == "accepted"
    pending = OutboxEvent.objects.filter(published_at__isnull=True)
    assert set(pending.values_list("name", flat=True)) == {
        "friend_request.sent",
        "friend_request.accepted",
        "friendship.created",
    }
    # The publisher thread tried, failed and noted why; the rows wait for the relay.
    wait_for(
        lambda: all(e.attempts >= 1 and e.last_error for e in OutboxEvent.objects.filter(published_at__isnull=True)),
        what="the failed attempts noted",
    )
    # The writer's own after-commit sync (read-your-writes) already put the friendship into Redis; the
    # rest (notifications, the drain) waits for the events.
    assert friend_sets.friend_ids(alice.pk) == {bob.pk}
    assert not Notification.objects.exists()

    # The broker is reachable again: the relay that runs with the workers hands everything over.
    start_worker()
    wait_for(
        lambda: friend_sets.friend_ids(alice.pk) == {bob.pk} and friend_sets.friend_ids(bob.pk) == {alice.pk},
        what="friend sets after the relay",
    )
    wait_for(lambda: not OutboxEvent.objects.filter(published_at__isnull=True).exists(), what="empty outbox")
    wait_for(
        lambda: Notification.objects.filter(recipient=alice, kind="friend_request.accepted").exists(),
        what="the accepted notification",
    )
    # The request was already accepted when its `sent` event was handled, so only the acceptance notifies.
    assert Notification.objects.count() == 1


def test_worker_killed_mid_work_loses_nothing_and_duplicates_nothing(start_worker, make_user):
    sender = make_user()
    receivers = [make_user() for _ in range(300)]
    for receiver in receivers:
        services.friend_request_send(from_user=sender, to_user=receiver)
    wait_for(lambda: not OutboxEvent.objects.filter(published_at__isnull=True).exists(), what="all published")

    first = start_worker(queue_names=("notifications",), threads=1)
    wait_for(lambda: Notification.objects.count() >= 20, what="the first notifications")
    first.kill()
    done_before_kill = Notification.objects.count()
    assert done_before_kill < 300, "the worker was meant to be killed mid-way"

    second = start_worker(queue_names=("notifications",), threads=2)
    wait_for(lambda: Notification.objects.count() == 300, timeout=60, what="every notification")
    # Nothing can arrive late: once the worker has stopped (finishing or requeueing what it held), every
    # message it did not ack is back in the queue, so an empty queue means every delivery has happened.
    second.stop()
    assert dramatiq.get_broker().get_queue_message_counts("notifications") == (0, 0, 0)
    assert Notification.objects.count() == 300
    assert set(Notification.objects.values_list("recipient_id", flat=True)) == {r.pk for r in receivers}


def test_the_same_event_delivered_twice_has_one_effect_for_every_subscriber(worker, alice, bob):
    request = services.friend_request_send(from_user=alice, to_user=bob)
    services.friend_request_accept(request_id=request.pk, user=bob)
    events = list(OutboxEvent.objects.all())
    messages = [subscriber_message(e, actor) for e in events for actor in subscribers_of(e.name)]
    assert len(messages) >= 3

    per_actor = Counter(message.actor_name for message in messages)

    def delivered(times: int) -> bool:
        """Every subscriber message processed `times` times (drains and other jobs are not counted)."""
        counters = task_counters()
        return all(counters.get(actor, {}).get("processed", 0) >= n * times for actor, n in per_actor.items())

    wait_for(lambda: delivered(1), what="first delivery")
    effects = (Notification.objects.count(), friend_sets.friend_ids(alice.pk), friend_sets.friend_ids(bob.pk))

    broker = dramatiq.get_broker()
    for message in messages:
        broker.enqueue(message)
    wait_for(lambda: delivered(2), what="redelivery")
    assert (Notification.objects.count(), friend_sets.friend_ids(alice.pk), friend_sets.friend_ids(bob.pk)) == effects
    # "accepted" always notifies; "sent" only if the worker handled it before the accept committed.
    assert Notification.objects.filter(kind="friend_request.accepted").count() == 1
