"""Notification fan-out: subscribers on the latency-sensitive `notifications` queue."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from friends import events as friend_events
from socialsite import queues
from socialsite.events import subscriber

from .services import notification_create

User = get_user_model()


def _username(user_id: int) -> str | None:
    return User.objects.filter(pk=user_id).values_list("username", flat=True).first()


@subscriber(
    friend_events.friend_request_sent,
    friend_events.friend_request_accepted,
    queue_name=queues.NOTIFICATIONS,
    max_retries=5,
)
def notify_friend_request(event: dict) -> bool:
    """Tell the receiver of a request, or its sender once accepted. A vanished user is dropped quietly."""
    payload = event["payload"]
    if event["name"] == "friend_request.sent":
        recipient_id, actor_id, verb = payload["to_user_id"], payload["from_user_id"], "sent you a friend request"
    else:
        recipient_id, actor_id, verb = payload["from_user_id"], payload["to_user_id"], "accepted your friend request"
    name = _username(actor_id)
    if name is None or not User.objects.filter(pk=recipient_id).exists():
        return False
    return notification_create(
        recipient_id=recipient_id,
        actor_id=actor_id,
        event_id=event["id"],
        kind=event["name"],
        text=f"{name} {verb}",
        url=reverse("profile", args=[name]),
    )
