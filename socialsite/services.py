"""Writes of the plumbing that are not events or task status: the site counters, pruning of task records."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from dramatiq.errors import BrokerError

from .models import SiteCounters, TaskRecord
from .redis import REDIS_DOWN, get_redis
from .taskstatus import task_record_forget_unsent

logger = logging.getLogger(__name__)

COUNTERS_PENDING_KEY = "stats:pending"
COUNTERS_PENDING_TTL = 120  # seconds: a lost task frees the way for a new request after this


def _active_user_count(since: datetime) -> int:
    """Distinct users who logged in to a page, or acted, since `since` (the definition is on SiteCounters).

    One UNION of small index-friendly selects, counted by the database; no id list comes back to Python.
    """
    from friends.models import Block, FriendRequest, Share
    from notifications.models import Notification

    user_model = get_user_model()
    # `order_by()` on every part: a model's default ordering would put an ORDER BY inside the compound
    # statement, which SQLite (the demo's database) refuses.
    ids = (
        user_model.objects.filter(is_active=True, last_login__gte=since)
        .order_by()
        .values("pk")
        .union(
            FriendRequest.objects.filter(created_at__gte=since).order_by().values("from_user_id"),
            FriendRequest.objects.filter(responded_at__gte=since).order_by().values("to_user_id"),
            Share.objects.filter(created_at__gte=since).order_by().values("owner_id"),
            Block.objects.filter(created_at__gte=since).order_by().values("blocker_id"),
            Notification.objects.filter(read_at__gte=since).order_by().values("recipient_id"),
        )
    )
    return ids.count()


def site_counters_record(*, now: datetime | None = None) -> SiteCounters:
    """Count users, friendships, shares and notifications, store them as one history row, and prune rows
    older than `SITE_COUNTERS_HISTORY_DAYS`.

    `now` (default: the current time) is the moment the counts describe; the "last 24 h" figures are taken
    over the 24 hours before it. Returns the new row. Safe to run twice: it only adds a row.
    """
    from accounts.selectors import inactive_user_ids
    from friends.models import Friendship, Share
    from notifications.models import Notification

    now = now or timezone.now()
    since = now - timedelta(hours=24)
    started = time.perf_counter()
    # One row per pair of the two stored, and only pairs of active users (as every list shows them): a
    # deactivated account's friendships stay in the table, to come back if it is reactivated.
    inactive = inactive_user_ids()
    pairs = (
        Friendship.objects.filter(user_id__lt=F("friend_id"))
        .exclude(user_id__in=inactive)
        .exclude(friend_id__in=inactive)
    )
    counts = {
        "users": get_user_model().objects.filter(is_active=True).count(),
        "friendships": pairs.count(),
        "shares": Share.objects.count(),
        "notifications": Notification.objects.count(),
        "friendships_last_24h": pairs.filter(is_friend_since__gte=since).count(),
        "active_users_last_24h": _active_user_count(since),
    }
    duration_ms = round((time.perf_counter() - started) * 1000)
    cutoff = now - timedelta(days=settings.SITE_COUNTERS_HISTORY_DAYS)
    with transaction.atomic():
        row = SiteCounters.objects.create(computed_at=now, duration_ms=duration_ms, **counts)
        pruned, _ = SiteCounters.objects.filter(computed_at__lt=cutoff).delete()
    try:
        get_redis().delete(COUNTERS_PENDING_KEY)  # an empty stats page asked for this run; the next may ask again
    except REDIS_DOWN as exc:  # the marker expires by itself; the counters are saved
        logger.warning("site counters: pending marker not cleared, Redis unavailable (%s)", type(exc).__name__)
    logger.info("site counters at %s: %s (%d ms, %d old rows pruned)", now.isoformat(), counts, duration_ms, pruned)
    return row


def site_counters_request(*, user: AbstractBaseUser) -> str | None:
    """Ask for the counters to be computed now, because none exist yet (a fresh site); returns the id of
    the task `user` may follow (`GET /api/v1/tasks/{id}/`, `/tasks/{id}/`), or None.

    Every reader of the empty stats page shares one task (``SET NX`` on a pending key holding the first
    asker's id and the message id). The first asker owns it, so its status is theirs to read; anyone else
    gets None, and their page reloads itself until the counters exist (a task id they could not read
    would answer 404). None too when Redis or the broker is down (the page says the counters are not
    computed yet either way).
    """
    import dramatiq

    from .tasks import update_site_counters

    redis = get_redis()
    # Owned and tracked: the asker polls its status (socialsite.taskstatus).
    message = update_site_counters.message_with_options(owner_id=user.pk, track=True)
    try:
        first = redis.set(COUNTERS_PENDING_KEY, f"{user.pk}:{message.message_id}", nx=True, ex=COUNTERS_PENDING_TTL)
        pending = None if first else redis.get(COUNTERS_PENDING_KEY)
    except REDIS_DOWN as exc:  # the page says "being computed" and asks again on its next load
        logger.warning("could not ask for the site counters: Redis unavailable (%s)", type(exc).__name__)
        return None
    if first:
        try:
            dramatiq.get_broker().enqueue(message)
        except BrokerError:
            task_record_forget_unsent(message)  # no "enqueued" record for a message never sent
            redis.delete(COUNTERS_PENDING_KEY)
            logger.warning("could not enqueue update_site_counters: broker unavailable")
            return None
        return message.message_id
    owner, _, task_id = (pending or "").partition(":")
    return task_id if owner == str(user.pk) else None


UNSENT_RECORD_AGE = timedelta(days=1)  # an "enqueued" task not started after this long was never sent


def task_records_prune(*, older_than_days: int = 7) -> int:
    """Delete the records of tasks that finished successfully more than `older_than_days` days ago: history
    nobody reads; and records still `enqueued`, never started, after `UNSENT_RECORD_AGE`: orphans of a
    message RabbitMQ never took (a process died between writing the record and publishing; the usual
    failure deletes its record at once, see `taskstatus.task_record_forget_unsent`), whose status page
    would say "enqueued" forever. Failed ones (dead letters) stay for admins to inspect and re-enqueue.
    Returns how many."""
    now = timezone.now()
    deleted, _ = TaskRecord.objects.filter(
        state=TaskRecord.State.DONE, finished_at__lt=now - timedelta(days=older_than_days)
    ).delete()
    orphans, _ = TaskRecord.objects.filter(
        state=TaskRecord.State.ENQUEUED, started_at__isnull=True, enqueued_at__lt=now - UNSENT_RECORD_AGE
    ).delete()
    return deleted + orphans
