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
from socialsite.models import OutboxEvent

from . import events, graph_cache, presence

logger = logging.getLogger(__name__)


def _after_commit(sync: Callable[..., int], event: OutboxEvent, **kwargs: Any) -> None:
    def run() -> None:
        try:
            sync(**kwargs)
        except RedisError as exc:
            logger.warning("after-commit sync of %s %s skipped, left to its subscriber: %r", event.name, event.id, exc)

    transaction.on_commit(run, robust=True)


def friendship_changed(sender: Any, event: OutboxEvent, **kwargs: Any) -> None:
    p = event.payload
    _after_commit(graph_cache.graph_friendship_synced_now, event, user_id=p["user_id"], friend_id=p["friend_id"])


def request_changed(sender: Any, event: OutboxEvent, **kwargs: Any) -> None:
    p = event.payload
    _after_commit(graph_cache.graph_pair_synced_now, event, user_id=p["from_user_id"], other_id=p["to_user_id"])


def block_changed(sender: Any, event: OutboxEvent, **kwargs: Any) -> None:
    p = event.payload
    _after_commit(graph_cache.graph_pair_synced_now, event, user_id=p["blocker_id"], other_id=p["blocked_id"])


def suggestion_dismissed(sender: Any, event: OutboxEvent, **kwargs: Any) -> None:
    p = event.payload
    _after_commit(graph_cache.graph_pair_synced_now, event, user_id=p["user_id"], other_id=p["dismissed_id"])


def user_changed(sender: Any, event: OutboxEvent, **kwargs: Any) -> None:
    user_id = event.payload["user_id"]
    # `user.deleted` is emitted before the cascade (accounts.signals): the rows are still there to read.
    partners = presence.exclusion_partners(user_id) if event.name == account_events.user_deleted.name else set()
    _after_commit(graph_cache.graph_user_synced_now, event, user_id=user_id, exclusion_partners_before=partners)


# friend_request.accepted has none: its transaction always emits friendship.created too.
_RECEIVERS = {
    friendship_changed: (events.friendship_created, events.friendship_removed),
    request_changed: (events.friend_request_sent, events.friend_request_declined, events.friend_request_cancelled),
    block_changed: (events.block_created, events.block_removed),
    suggestion_dismissed: (events.suggestion_dismissed,),
    user_changed: (account_events.user_deactivated, account_events.user_reactivated, account_events.user_deleted),
}


def connect() -> None:
    """Called once from `FriendsConfig.ready()`."""
    for receiver, signals in _RECEIVERS.items():
        for signal in signals:
            signal.connect(receiver, dispatch_uid=f"read_your_writes.{receiver.__name__}.{signal.name}")
