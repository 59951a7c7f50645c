"""Share fan-out and friend-request notifications through the outbox, the real RabbitMQ and a real worker."""

from __future__ import annotations

import dramatiq
import pytest

from friends import events as friend_events
from friends import services as friend_services
from notifications.models import Notification
from notifications.tasks import notify_friends_of_share, notify_request_receiver
from socialsite.events import subscriber_message
from socialsite.models import OutboxEvent
from socialsite.taskstatus import task_counters
from tests.integration.conftest import wait_for
from tests.notifications.conftest import befriend, share_and_announce

pytestmark = pytest.mark.integration
COUNT_URL = "/api/v1/notifications/unread-count/"


def processed(actor: dramatiq.Actor) -> int:
    """Messages the worker finished for this actor (fire-and-forget subscribers keep counters, not records)."""
    return task_counters().get(actor.actor_name, {}).get("processed", 0)


def unread_of(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, read_at__isnull=True))


def test_each_friend_gets_exactly_one_notification_and_the_badge_endpoint_shows_it(worker, make_user, api_as):
    owner = make_user("ana")
    friends = [make_user() for _ in range(3)]
    stranger = make_user("stranger")
    befriend(owner, *friends)
    poll = api_as(friends[0])
    before = poll.get(COUNT_URL)
    assert before.json() == {"unread_count": 0}

    share, _ = share_and_announce(owner, url="https://example.com/holiday", caption="holiday")

    wait_for(lambda: processed(notify_friends_of_share) == 1, what="the fan-out task")
    for friend in friends:
        [n] = unread_of(friend)
        assert (n.kind, n.actor_id, n.share_id, n.text) == ("share.created", owner.pk, share.pk, "ana shared a link")
    assert not Notification.objects.filter(recipient__in=[stranger, owner]).exists()

    after = poll.get(COUNT_URL, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after.json() == {"unread_count": 1}
    assert poll.get(COUNT_URL, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_redelivery_of_the_same_share_event_creates_no_second_notification(worker, make_user):
    owner = make_user()
    friends = [make_user() for _ in range(3)]
    befriend(owner, *friends)
    share_and_announce(owner)
    wait_for(lambda: processed(notify_friends_of_share) == 1, what="first delivery")
    assert Notification.objects.count() == 3

    event = OutboxEvent.objects.get(name=friend_events.share_created.name)
    dramatiq.get_broker().enqueue(subscriber_message(event, notify_friends_of_share))  # as RabbitMQ would redeliver
    wait_for(lambda: processed(notify_friends_of_share) == 2, what="the redelivered message")
    assert Notification.objects.count() == 3
    assert all(len(unread_of(f)) == 1 for f in friends)


def test_a_blocked_user_is_never_notified_about_the_blocker(start_worker, make_user):
    """Blocks made before the share, and after its commit but before the worker handles it."""
    owner, blocked_before, blocked_after, blocker_friend, friend = (make_user() for _ in range(5))
    befriend(owner, blocked_before, blocked_after, blocker_friend, friend)
    friend_services.block_create(blocker=owner, blocked=blocked_before)
    share_and_announce(owner)  # published now; no worker is consuming yet
    friend_services.block_create(blocker=owner, blocked=blocked_after)
    friend_services.block_create(blocker=blocker_friend, blocked=owner)

    start_worker(queue_names=("notifications",))
    wait_for(lambda: processed(notify_friends_of_share) == 1, what="the fan-out task")
    assert list(Notification.objects.filter(kind="share.created").values_list("recipient_id", flat=True)) == [friend.pk]


def test_a_request_cancelled_before_its_event_is_handled_notifies_nobody(start_worker, alice, bob):
    request = friend_services.friend_request_send(from_user=alice, to_user=bob)
    friend_services.friend_request_cancel(request_id=request.pk, user=alice)
    start_worker(queue_names=("notifications",))
    wait_for(lambda: processed(notify_request_receiver) == 1, what="the request notification task")
    assert not Notification.objects.exists()
