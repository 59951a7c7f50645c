"""Read-your-writes: the writing process brings the derived graph up to date right after its commit.

Without this, a change's results move only when a worker handles its event: between the commit and
then, the people it involved were served their old suggestions and mutual friends marked "ready" (an
unfriended mutual friend still in a sample, a new friend still suggested). So every graph event also
has an in-process receiver (the event is a Django signal, `socialsite.events.DomainEvent`) that
registers, for after the commit, the first half of what its subscriber will do: sync the pair's (or the
user's) Redis sets from the tables, then bump the generations of everyone affected and mark them
dirty (`friends.graph_cache.graph_*_synced_now`). When the write answers, none of their old results
reads as fresh: a reader gets "computing", and the computation it asks for reads the synced sets.

Cheap (a few indexed queries and one or two Redis round trips) and never in the way: nothing here
waits on RabbitMQ, and a Redis failure is logged and left to the event's subscriber, which does the
same work again anyway (idempotent) plus the recomputation and the drain.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from redis.exceptions import RedisError

from accounts import events as account_events
from socialsite.events import EVENTS
from socialsite.models import OutboxEvent

from . import events, graph_cache, presence

logger = logging.getLogger(__name__)


def _after_commit(sync: Callable[[], int], event: OutboxEvent) -> None:
    def run() -> None:
        try:
            sync()
        except RedisError as exc:
            logger.warning("after-commit sync of %s %s skipped, left to its subscriber: %r", event.name, event.id, exc)

    transaction.on_commit(run, robust=True)


def _friendship_created(a: int, b: int) -> int:
    return graph_cache.graph_friendship_synced_now(user_id=a, friend_id=b)  # an accept closed a request


def _friendship_removed(a: int, b: int) -> int:
    return graph_cache.graph_friendship_synced_now(user_id=a, friend_id=b, exclusions_changed=False)


def _pair(a: int, b: int) -> int:
    return graph_cache.graph_pair_synced_now(user_id=a, other_id=b)


# Each pair event: its sync and the payload fields naming the pair. friend_request.accepted has none: its
# transaction always emits friendship.created too.
_PAIR_EVENTS = {
    events.friendship_created: (_friendship_created, "user_id", "friend_id"),
    events.friendship_removed: (_friendship_removed, "user_id", "friend_id"),
    events.friend_request_sent: (_pair, "from_user_id", "to_user_id"),
    events.friend_request_declined: (_pair, "from_user_id", "to_user_id"),
    events.friend_request_cancelled: (_pair, "from_user_id", "to_user_id"),
    events.block_created: (_pair, "blocker_id", "blocked_id"),
    events.block_removed: (_pair, "blocker_id", "blocked_id"),
    events.suggestion_dismissed: (_pair, "user_id", "dismissed_id"),
}
_USER_EVENTS = (account_events.user_deactivated, account_events.user_reactivated, account_events.user_deleted)


def pair_changed(sender: Any, event: OutboxEvent, **kwargs: Any) -> None:
    """Receiver of every pair event: sync that pair after the commit."""
    sync, left, right = _PAIR_EVENTS[EVENTS[event.name]]
    a, b = event.payload[left], event.payload[right]
    _after_commit(lambda: sync(a, b), event)


def user_changed(sender: Any, event: OutboxEvent, **kwargs: Any) -> None:
    """Receiver of the user events: that user's presence in the graph, after the commit."""
    user_id = event.payload["user_id"]
    # `user.deleted` is emitted before the cascade (accounts.signals): the rows are still there to read.
    partners = presence.exclusion_partners(user_id) if event.name == account_events.user_deleted.name else set()
    _after_commit(lambda: graph_cache.graph_user_synced_now(user_id=user_id, exclusion_partners_before=partners), event)


def connect() -> None:
    """Called once from `FriendsConfig.ready()`."""
    for signal in _PAIR_EVENTS:
        signal.connect(pair_changed, dispatch_uid=f"read_your_writes.{signal.name}")
    for signal in _USER_EVENTS:
        signal.connect(user_changed, dispatch_uid=f"read_your_writes.{signal.name}")
