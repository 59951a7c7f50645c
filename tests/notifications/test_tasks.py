"""Notification fan-out, called directly: one notification per event and recipient."""

from friends import services
from notifications.models import Notification
from notifications.tasks import notify_request_receiver, notify_request_sender
from socialsite.models import OutboxEvent


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
