"""Subscribers of the friend graph's domain events: thin adapters on the `graph` queue.

Each one reads the pair out of its event's payload and calls one service of `friends.graph_cache`, which
holds the order that matters and its reasons. One subscriber per payload shape, so none needs to look at
the event's name. Delivery is at-least-once; the services are idempotent.
"""

from django.conf import settings

from accounts import events as account_events
from socialsite import queues
from socialsite.events import subscriber

from . import events
from .graph_cache import graph_after_friendship_changed, graph_after_pair_changed, graph_after_user_changed

# Retries of the graph subscribers: everything they do is in Redis, so a Redis outage fails every attempt,
# and an event that dead-letters leaves the derived graph wrong until a repair. Backoff doubles from 1 s and
# is capped at GRAPH_EVENT_MAX_BACKOFF (30 s): with GRAPH_EVENT_RETRIES (40) attempts an event rides out an
# outage of at least 9 minutes (typically ~14; dramatiq's jitter puts each capped wait between 15 and 30 s),
# and is handled at most 30 s after Redis is back. Each wait is far below RabbitMQ's 30-minute consumer
# timeout (the worker holds a delayed message unacknowledged until it is due).
GRAPH_RETRY_OPTIONS = {
    "max_retries": settings.GRAPH_EVENT_RETRIES,
    "min_backoff": 1_000,
    "max_backoff": settings.GRAPH_EVENT_MAX_BACKOFF,
}


@subscriber(events.friendship_created, events.friendship_removed, queue_name=queues.GRAPH, **GRAPH_RETRY_OPTIONS)
def update_graph_after_friendship(event: dict) -> int:
    """Two users became friends, or stopped being friends."""
    payload = event["payload"]
    return graph_after_friendship_changed(user_id=payload["user_id"], friend_id=payload["friend_id"])


# Not friend_request.accepted: its transaction always emits friendship.created too.
@subscriber(
    events.friend_request_sent,
    events.friend_request_declined,
    events.friend_request_cancelled,
    queue_name=queues.GRAPH,
    **GRAPH_RETRY_OPTIONS,
)
def update_graph_after_request(event: dict) -> int:
    """A request became pending (the two are no longer suggested to each other) or stopped being pending."""
    payload = event["payload"]
    return graph_after_pair_changed(user_id=payload["from_user_id"], other_id=payload["to_user_id"])


@subscriber(events.block_created, events.block_removed, queue_name=queues.GRAPH, **GRAPH_RETRY_OPTIONS)
def update_graph_after_block(event: dict) -> int:
    """A block was made or lifted: the two are left out of, or back in, each other's suggestions."""
    payload = event["payload"]
    return graph_after_pair_changed(user_id=payload["blocker_id"], other_id=payload["blocked_id"])


@subscriber(events.suggestion_dismissed, queue_name=queues.GRAPH, **GRAPH_RETRY_OPTIONS)
def update_graph_after_dismissal(event: dict) -> int:
    """A user dismissed a suggestion: never suggest that person to them again."""
    payload = event["payload"]
    return graph_after_pair_changed(user_id=payload["user_id"], other_id=payload["dismissed_id"])


@subscriber(
    account_events.user_deactivated,
    account_events.user_reactivated,
    account_events.user_deleted,
    queue_name=queues.GRAPH,
    **GRAPH_RETRY_OPTIONS,
)
def update_graph_after_user(event: dict) -> int:
    """A user left (deactivated, deleted) or rejoined the graph: everyone it linked is updated."""
    return graph_after_user_changed(user_id=event["payload"]["user_id"])
