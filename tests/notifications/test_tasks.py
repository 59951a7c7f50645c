"""Notification actors, called directly (one notification per event and recipient), and their routing."""

from datetime import timedelta

from dramatiq import Message

from friends import services
from notifications.models import Notification
from notifications.tasks import (
    notify_friends_of_share,
    notify_request_receiver,
    notify_request_sender,
    prune_read_notifications,
)
from socialsite import queues
from socialsite.models import OutboxEvent

from .conftest import befriend, note, share_and_announce


def decode(raw: bytes) -> Message:
    return Message.decode(raw)


def test_request_notification_is_created_once_for_a_duplicated_event(db, alice, bob):
    services.friend_request_send(from_user=alice, to_user=bob)
    sent = OutboxEvent.objects.get(name="friend_request.sent").as_message()
    assert notify_request_receiver(sent) is True
    assert notify_request_receiver(sent) is False
    notification = Notification.objects.get()
    assert notification.recipient == bob and notification.text == "alice sent you a friend request"
    assert notification.url == "/u/alice/"


def test_accepted_notification_goes_to_the_sender(db, alice, bob):
    request = services.friend_request_send(from_user=alice, to_user=bob)
    services.friend_request_accept(request_id=request.pk, user=bob)
    accepted = OutboxEvent.objects.get(name="friend_request.accepted").as_message()
    notify_request_sender(accepted)
    notify_request_sender(accepted)
    assert list(Notification.objects.values_list("recipient__username", "text")) == [
        ("alice", "bob accepted your friend request")
    ]


def test_event_about_a_vanished_user_is_dropped_quietly(db, alice, bob):
    services.friend_request_send(from_user=alice, to_user=bob)
    sent = OutboxEvent.objects.get(name="friend_request.sent").as_message()
    bob.delete()
    assert notify_request_receiver(sent) is False
    assert not Notification.objects.exists()


def test_a_request_cancelled_before_its_event_is_handled_notifies_nobody(db, alice, bob):
    request = services.friend_request_send(from_user=alice, to_user=bob)
    sent = OutboxEvent.objects.get(name="friend_request.sent").as_message()
    services.friend_request_cancel(request_id=request.pk, user=alice)
    assert notify_request_receiver(sent) is False
    assert not Notification.objects.exists()


def test_a_committed_share_is_published_to_the_fan_out_actor_on_the_notifications_queue(
    db, alice, stub_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        share, _event = share_and_announce(alice)
    messages = stub_broker.queues[queues.NOTIFICATIONS].queue
    assert [(m.actor_name, m.args[0]["payload"]) for m in map(decode, messages)] == [
        ("notify_friends_of_share", {"share_id": share.pk, "owner_id": alice.pk})
    ]


def test_share_fan_out_actor_notifies_friends_once_per_event(db, alice, bob, carol):
    befriend(alice, bob, carol)
    share, event = share_and_announce(alice)
    assert notify_friends_of_share(event) == 2
    notify_friends_of_share(event)
    assert sorted(Notification.objects.filter(share=share).values_list("recipient__username", flat=True)) == [
        "bob",
        "carol",
    ]


def test_prune_actor_runs_on_the_maintenance_queue_with_the_configured_retention(db, alice, bob, settings):
    settings.NOTIFICATIONS_RETENTION_DAYS = 1
    old = note(alice, bob, ago=timedelta(days=2), read=True)
    kept = note(alice, bob, ago=timedelta(days=2))
    assert prune_read_notifications.queue_name == queues.MAINTENANCE
    assert prune_read_notifications() == 1
    assert list(Notification.objects.values_list("id", flat=True)) == [kept.pk]
    assert not Notification.objects.filter(pk=old.pk).exists()
