"""Asking for a computation when a reader found nothing fresh: a direct enqueue, not through the outbox.

Views and API views call these only after a selector (`friends.selectors.suggestions_get`,
`mutual_friends_get`) answered None. The names end in ``_rollback_unsafe`` (Zulip's convention) because
they publish at once, not through the transactional outbox, so the message would go out even if a
surrounding transaction rolled back. That is safe here, and cheaper than an outbox row per page view:

- the work is derived and rebuildable: the task reads the current state when it runs and writes a
  result stamped with the generation it read, so a message about nothing new recomputes the same value;
- no domain fact depends on it: losing it (broker down) costs a "computing" answer without a task id,
  and the next read asks again;
- it is guarded by a pending marker per generation (``SET NX``): however many readers miss at once, one
  message is sent and they all poll the same task; a newer generation gets its own marker, and an
  abandoned marker expires after `PENDING_TTL` seconds.

A reader never waits long for RabbitMQ nor fails because of it (issue 10): the broker's enqueue is bounded
(`socialsite.broker.RabbitmqBroker`, a few seconds at most), a failure answers "computing" without a task
id, deletes the task record written for the message and the pending marker, and for `BROKER_PAUSE` seconds
this process sends no more, so the readers in the meantime answer at once instead of each waiting for the
same timeout. Redis unreachable: "computing" without a task id too, and nothing sent, since without the
marker every reader would send its own message.
"""

from __future__ import annotations

import contextlib
import logging
import time

import dramatiq
from django.contrib.auth.models import AbstractBaseUser
from dramatiq.errors import BrokerError
from redis.exceptions import RedisError

from socialsite.redis import get_redis
from socialsite.taskstatus import task_record_forget_unsent

from .. import tasks
from ..selectors import Cached
from . import store

logger = logging.getLogger(__name__)

PENDING_TTL = 120  # seconds a marker outlives a task that never finishes (then a reader asks again)
BROKER_PAUSE = 5.0  # seconds this process sends nothing after RabbitMQ failed a send

_paused_until = 0.0  # time.monotonic() before which this process does not try RabbitMQ


def suggestions_request_computation_rollback_unsafe(*, user: AbstractBaseUser) -> Cached:
    """Enqueue the computation of `user`'s suggestions, once per generation; the task is `user`'s.

    Returns `Cached(status="computing", task_id=...)` for the page or endpoint to show; `task_id` is None
    when nothing could be sent: RabbitMQ or Redis unavailable (logged; a later read tries again).
    """
    try:
        gen = store.suggestion_generations([user.pk])[0]
    except RedisError:
        return Cached(status="computing", task_id=None)
    pending_key = store.pending_suggestions_key(user.pk, gen)
    task_id = _enqueue_once(pending_key, tasks.compute_suggestions, user.pk, owner_id=user.pk)
    return Cached(status="computing", task_id=task_id)


def mutual_friends_request_computation_rollback_unsafe(*, viewer: AbstractBaseUser, other: AbstractBaseUser) -> Cached:
    """Enqueue the computation of the mutual friends of `viewer` and `other`, once per generation.

    The task belongs to `viewer` (only its owner may read a task), so each viewer of a pair has its own
    marker. Returns `Cached(status="computing", task_id=...)` as `suggestions_request_computation_rollback_unsafe`.
    """
    lo, hi = sorted((viewer.pk, other.pk))
    try:
        gens = store.mutual_generations(lo, hi)
    except RedisError:
        return Cached(status="computing", task_id=None)
    pending_key = store.pending_mutual_key(lo, hi, viewer_id=viewer.pk, gens=gens)
    task_id = _enqueue_once(pending_key, tasks.compute_mutual_friends, lo, hi, owner_id=viewer.pk)
    return Cached(status="computing", task_id=task_id)


def _enqueue_once(pending_key: str, actor: dramatiq.Actor, *args: int, owner_id: int) -> str | None:
    """Enqueue `actor(*args)` unless `pending_key` says it already is; returns the task id to poll, or None
    when nothing could be sent (RabbitMQ or Redis unavailable; see the module doc).

    The first reader sets the marker (``SET NX``) to its message id and sends; the others read the id.
    """
    global _paused_until
    if time.monotonic() < _paused_until:
        return None
    message = actor.message_with_options(args=args, owner_id=owner_id)
    redis = get_redis()
    try:
        if not redis.set(pending_key, message.message_id, nx=True, ex=PENDING_TTL):
            return redis.get(pending_key)
    except RedisError:
        logger.warning("could not enqueue %s%r: Redis unavailable", actor.actor_name, args)
        return None
    try:
        actor.broker.enqueue(message)
    except BrokerError as exc:
        _paused_until = time.monotonic() + BROKER_PAUSE
        task_record_forget_unsent(message)
        with contextlib.suppress(RedisError):  # else it expires after PENDING_TTL
            redis.delete(pending_key)
        logger.warning("could not enqueue %s%r: broker unavailable (%r)", actor.actor_name, args, exc)
        return None
    return message.message_id
