"""Actors of the friend graph. Thin: they read the event's ids and call the graph cache functions."""

import dramatiq
from dramatiq_crontab import cron

from socialsite import queues
from socialsite.events import subscriber
from socialsite.taskstatus import report_progress

from . import cache, events, suggestions

GRAPH_EVENTS = (
    events.friendship_created,
    events.friendship_removed,
    events.friend_request_sent,
    # not friend_request_accepted: its transaction always emits friendship_created too
    events.friend_request_declined,
    events.friend_request_cancelled,
    events.block_created,
    events.block_removed,
    events.suggestion_dismissed,
)
_PAIR_FIELDS = {
    "friend_request": ("from_user_id", "to_user_id"),
    "block": ("blocker_id", "blocked_id"),
    "suggestion": ("user_id", "dismissed_id"),
}


@subscriber(*GRAPH_EVENTS, queue_name=queues.GRAPH, max_retries=8)
def update_graph_cache(event: dict) -> int:
    """Keep the Redis graph copy in step and mark exactly the affected users' results stale.

    One actor, in this order (sync the friend sets, then bump generations), so a recompute that sees a
    new generation also sees the new sets. Reads the current database state rather than trusting the
    event, so a duplicated or reordered event has one, right, effect.
    """
    payload = event["payload"]
    kind = event["name"].split(".")[0]
    if kind == "friendship":
        a, b = payload["user_id"], payload["friend_id"]
        cache.friend_sets_sync_pair(a, b)
        affected = suggestions.affected_by_friendship(a, b)
        suggestions.invalidate(users=affected, friend_set_changed=(a, b))
        # The two people who just (un)friended are the ones looking: refresh them first, before the drain.
        suggestions.suggestions_recompute([a, b])
    else:
        left, right = _PAIR_FIELDS[kind]
        affected = {payload[left], payload[right]}
        suggestions.invalidate(users=affected)
    suggestions.schedule_drain(recompute_dirty_suggestions)
    return len(affected)


@dramatiq.actor(queue_name=queues.GRAPH, max_retries=8, time_limit=300_000)
def recompute_dirty_suggestions() -> int:
    """Drain the dirty set: each user marked by any number of events is recomputed once."""
    return suggestions.drain_dirty()


@dramatiq.actor(queue_name=queues.GRAPH, max_retries=3, store_results=True)
def compute_suggestions(user_id: int) -> int:
    """A reader found no fresh suggestions for this user (cold cache): compute them now."""
    count = suggestions.suggestions_recompute([user_id])
    suggestions.clear_pending()
    return count


@dramatiq.actor(queue_name=queues.GRAPH, max_retries=3, store_results=True)
def compute_mutual_friends(a: int, b: int) -> int:
    mutual = suggestions.mutual_recompute(a, b)
    suggestions.clear_pending()
    return len(mutual)


@cron("40 4 * * *")
@dramatiq.actor(queue_name=queues.GRAPH, max_retries=2, time_limit=1_800_000, store_results=True, track=True)
def refresh_all_suggestions() -> int:
    """The periodic full refresh: every user's suggestions from the friendship table, with progress."""
    from django.contrib.auth import get_user_model

    total = get_user_model().objects.filter(is_active=True).count()
    done = 0

    def progress(step: int) -> None:
        nonlocal done
        done += step
        report_progress(done, total, "suggestions refreshed")

    return suggestions.suggestions_rebuild_all(progress=progress)
