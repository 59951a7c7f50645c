"""Notification fan-out: subscribers on the latency-sensitive `notifications` queue.

Each reads its event's payload and calls one service of `notifications.services`, which composes the
notification; delivery is at-least-once and the services are idempotent per (event, recipient).
"""

from friends import events as friend_events
from socialsite import queues
from socialsite.events import subscriber

from . import services


@subscriber(friend_events.friend_request_sent, queue_name=queues.NOTIFICATIONS, max_retries=5)
def notify_request_receiver(event: dict) -> bool:
    """Someone sent a friend request: tell its receiver."""
    payload = event["payload"]
    return services.notify_friend_request_received(
        event_id=event["id"], from_user_id=payload["from_user_id"], to_user_id=payload["to_user_id"]
    )


@subscriber(friend_events.friend_request_accepted, queue_name=queues.NOTIFICATIONS, max_retries=5)
def notify_request_sender(event: dict) -> bool:
    """A friend request was accepted: tell the one who sent it."""
    payload = event["payload"]
    return services.notify_friend_request_accepted(
        event_id=event["id"], from_user_id=payload["from_user_id"], to_user_id=payload["to_user_id"]
    )
