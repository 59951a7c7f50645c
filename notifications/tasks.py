"""Notification actors: subscribers on the latency-sensitive `notifications` queue, and pruning.

Each actor is an adapter: it takes the event (or nothing), calls one service and returns its result.
"""

import dramatiq

from friends import events as friend_events
from socialsite import queues
from socialsite.events import subscriber

from . import services
from .models import Notification

Kind = Notification.Kind

# A notification is made once, from its event; a dead letter is a notification lost. What fails them is the
# database (or a worker), so they retry long enough to ride out a realistic outage: 19 retries with the
# broker's backoff (from 1 s, doubling, capped at 5 min: socialsite.broker) wait 32 to 63 minutes in all
# (`retry_window(19)`) before dead-lettering; each single wait stays far below RabbitMQ's consumer timeout.
RETRIES = 19


@subscriber(friend_events.friend_request_sent, queue_name=queues.NOTIFICATIONS, max_retries=RETRIES)
def notify_request_receiver(event: dict) -> bool:
    """Someone sent a friend request: tell its receiver, if the request is still pending (see the service)."""
    return services.notifications_create_for_friend_request(
        request_id=event["payload"]["request_id"], kind=Kind.FRIEND_REQUEST_RECEIVED, event_id=event["id"]
    )


@subscriber(friend_events.friend_request_accepted, queue_name=queues.NOTIFICATIONS, max_retries=RETRIES)
def notify_request_sender(event: dict) -> bool:
    """A friend request was accepted: tell the one who sent it (see the service)."""
    return services.notifications_create_for_friend_request(
        request_id=event["payload"]["request_id"], kind=Kind.FRIEND_REQUEST_ACCEPTED, event_id=event["id"]
    )


@subscriber(friend_events.share_created, queue_name=queues.NOTIFICATIONS, max_retries=RETRIES)
def notify_friends_of_share(event: dict) -> int:
    """Fan a new share out to the owner's current friends, in bulk (see the service)."""
    return services.notifications_create_for_share(share_id=event["payload"]["share_id"], event_id=event["id"])


# No @cron here: the regular-jobs schedule is wired in settings.
@dramatiq.actor(queue_name=queues.MAINTENANCE, max_retries=3)
def prune_read_notifications() -> int:
    """Delete read notifications older than NOTIFICATIONS_RETENTION_DAYS; returns how many."""
    return services.notifications_prune_read()
