"""Actors of the friend graph. Thin: they read the event's ids and call a service."""

from socialsite import queues
from socialsite.events import subscriber

from . import cache


@subscriber("friendship.created", "friendship.removed", queue_name=queues.GRAPH, max_retries=5)
def sync_friend_sets(event: dict) -> bool:
    """Keep the Redis copy of both users' friend sets in step with the friendship table."""
    payload = event["payload"]
    return cache.friend_sets_sync_pair(payload["user_id"], payload["friend_id"])
