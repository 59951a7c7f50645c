"""Services keeping the graph cache in Redis in step with the database.

The graph cache is everything derived from the friendship table in Redis: the friend sets
(`friends.friend_sets`), the exclusion sets (`friends.exclusions`) and the cached results
(`friends.suggestions`). The event subscribers
(`friends.subscribers`) call the two `graph_after_*` services, one per kind of change;
`manage.py rebuild_graph_cache` and `load_graph` call `graph_cache_rebuild`.

Every service here is idempotent: it reads the current database state rather than trusting the event,
so a duplicated, late or reordered event has one, right, effect; a failed run is simply run again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Collection, Iterator

from django.contrib.auth import get_user_model
from dramatiq.errors import BrokerError
from redis.exceptions import LockError
from redis.lock import Lock

from socialsite.redis import get_redis

from . import exclusions, friend_sets, presence, tasks
from .suggestions import compute, freshness, rebuild, store

logger = logging.getLogger(__name__)

REBUILD_LOCK = "lock:graph:rebuild"
REBUILD_LOCK_TIMEOUT = 60  # seconds; renewed at every progress step, so only a dead rebuilder lets it lapse
REPAIR_PENDING = "graph:repair:pending"  # the message id of the repair enqueued (SET NX): one at a time
REPAIR_PENDING_TTL = 600  # seconds; then a repair that never ran (no worker, lost message) is asked again


class GraphStateLost(Exception):
    """Redis lost its data while the rebuild ran (its lock vanished with it): the rebuild must run again."""


def graph_after_friendship_changed(*, user_id: int, friend_id: int) -> int:
    """After a friendship between two users was created or removed; returns how many users went stale.

    The order matters, and each step says why:

    1. Sync both friend sets (and the pair's exclusions: an accepted request is no longer pending) with
       the database, before anything reads them: step 2 finds the affected users in them, and a
       computation that sees the new generation of step 2 must also see the new sets.
    2. Bump the generations of everyone whose suggestions depend on the edge (both users and every friend
       of either) and of both friend sets, and mark them dirty, in one Redis transaction: from now on their
       cached results read as stale, never as fresh.
    3. Recompute the two users' suggestions now, ahead of the drain: they are the ones looking.
    4. Schedule one drain for everybody else marked dirty: one message, however many users (a user with
       1,000 friends making a friend costs one message, not 1,002).

    Raises:
        BrokerError: the drain could not be enqueued; run again (the actor retries), nothing is lost.
    """
    graph_state_check()
    friend_sets.friend_sets_sync_pair(user_id, friend_id)
    with friend_sets.pair_lock(user_id, friend_id, "exclusions"):
        exclusions.exclusions_sync_pair(user_id, friend_id)
    affected = freshness.affected_by_friendship(user_id, friend_id)
    freshness.invalidate(users=affected, friend_set_changed=(user_id, friend_id))
    compute.suggestions_recompute([user_id, friend_id])
    freshness.schedule_drain(tasks.recompute_dirty_suggestions)
    return len(affected)


def graph_after_pair_changed(*, user_id: int, other_id: int) -> int:
    """After a request, block or dismissal between two users (anything but their friendship); returns 2.

    Only these two users' suggestions depend on it (each may now have to be left out of the other's
    list, or may be suggested again), and no friend set changes: a block's removed friendship comes with
    its own `friendship.removed`. So: sync the pair's exclusion sets with the tables (before the bump, so
    a computation that sees the new generation sees them), bump both generations and mark both dirty,
    then schedule the drain, in that order, so the drain cannot run before they are marked.

    Raises:
        BrokerError: the drain could not be enqueued; run again (the actor retries), nothing is lost.
    """
    users = {user_id, other_id}
    graph_state_check()
    with friend_sets.pair_lock(user_id, other_id, "exclusions"):
        exclusions.exclusions_sync_pair(user_id, other_id)
    freshness.invalidate(users=users)
    freshness.schedule_drain(tasks.recompute_dirty_suggestions)
    return len(users)


def graph_state_check() -> bool:
    """Whether the friend sets in Redis are built (`friend_sets.BUILT`); if not (Redis restarted empty or
    flushed, or never built), ask for the repair, once (`graph_cache_repair_request`).

    Called by the graph services and by the computations a reader asked for: whatever runs first after
    the loss notices it. Cheap: one EXISTS while all is well.
    """
    if friend_sets.friend_sets_built():
        return True
    graph_cache_repair_request()
    return False


def graph_cache_repair_request() -> str | None:
    """Enqueue the repair (`tasks.repair_graph_cache`: the full rebuild, tracked, with progress), unless
    one is already asked for; returns its task id (None when the broker refused: the next check asks again).
    """
    redis = get_redis()
    message = tasks.repair_graph_cache.message()
    if not redis.set(REPAIR_PENDING, message.message_id, nx=True, ex=REPAIR_PENDING_TTL):
        return redis.get(REPAIR_PENDING)
    logger.warning("graph cache lost (no %s): repair enqueued as task %s", friend_sets.BUILT, message.message_id)
    try:
        tasks.repair_graph_cache.broker.enqueue(message)
    except BrokerError:
        redis.delete(REPAIR_PENDING)
        logger.warning("could not enqueue the graph cache repair: broker unavailable")
        return None
    return message.message_id


def graph_cache_repair(*, progress: Callable[[int, int, str], None] | None = None) -> dict[str, int] | None:
    """The automatic repair after Redis lost its data: `graph_cache_rebuild`, unless the graph is built
    again by now (another repair, or a rebuild by hand, got there first: returns None).

    `progress(done, total, what)` as `socialsite.taskstatus.report_progress`.

    Raises:
        GraphStateLost: Redis lost its data again while it ran (the actor retries).
    """
    if friend_sets.friend_sets_built():
        get_redis().delete(REPAIR_PENDING)
        return None

    def suggestions(done: int, total: int) -> None:
        if progress:
            progress(done, total, "suggestions rebuilt")

    found = graph_cache_rebuild(suggestion_progress=suggestions, only_if_lost=True)
    get_redis().delete(REPAIR_PENDING)
    return found


@contextlib.contextmanager
def _rebuild_lock() -> Iterator[Lock]:
    """Hold the one rebuild lock, waiting for a rebuild already running (at most 30 minutes)."""
    lock = get_redis().lock(REBUILD_LOCK, timeout=REBUILD_LOCK_TIMEOUT, blocking_timeout=30 * 60, sleep=0.2)
    if not lock.acquire():
        raise LockError("the graph cache rebuild lock was not released within 30 minutes")
    try:
        yield lock
    finally:
        with contextlib.suppress(LockError):
            lock.release()


def _renew(lock: Lock) -> None:
    """Extend the rebuild lock; GraphStateLost if it is gone (Redis emptied meanwhile) or taken over."""
    try:
        lock.reacquire()
    except LockError as exc:
        raise GraphStateLost("the rebuild lock vanished: Redis lost its data during the rebuild") from exc


# Set the "built" marker only if the caller still holds the rebuild lock (KEYS[1] = lock, ARGV[1] its
# token): a Redis emptied during the rebuild took the lock with it, and half-written sets are not "built".
_MARK_BUILT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
"""


def graph_cache_rebuild(
    *,
    friend_progress: Callable[[int], None] | None = None,
    suggestion_progress: Callable[[int, int], None] | None = None,
    only_if_lost: bool = False,
) -> dict[str, int] | None:
    """Rebuild everything derived from the database: friend sets, exclusion sets, every user's
    suggestions, and no mutual entries (they are recomputed on the next read). One at a time: under a
    Redis lock (a second caller waits for the first to finish).

    When the friend sets were not built (Redis lost its data), generations restarted from 0: they are
    raised above any old stamp (`freshness.generations_raise`) before the "built" marker is set again, so
    no result computed before the loss can read as fresh. With `only_if_lost`, returns None at once if
    the sets are built by the time the lock is held (a concurrent repair did it).

    Returns ``{"friendship_rows", "users", "mutual_entries_cleared"}``. `friend_progress(rows_step)` and
    `suggestion_progress(done, total)` report progress (the management commands draw bars with them).

    Raises:
        GraphStateLost: Redis lost its data during the rebuild; run it again.
    """
    redis = get_redis()
    with _rebuild_lock() as lock:
        lost = not friend_sets.friend_sets_built()
        if only_if_lost and not lost:
            return None

        def friends_step(rows: int) -> None:
            _renew(lock)
            if friend_progress:
                friend_progress(rows)

        def suggestions_step(done: int, total: int) -> None:
            _renew(lock)
            if suggestion_progress:
                suggestion_progress(done, total)

        rows = friend_sets.friend_sets_rebuild(progress=friends_step, mark_built=False)
        exclusions.exclusions_rebuild()
        if lost:
            active = get_user_model().objects.filter(is_active=True).values_list("pk", flat=True)
            freshness.generations_raise(list(active), freshness.generation_floor())
        # The friend sets may have differed from the database (that is why one rebuilds), and mutual entries
        # are stamped with friend-set generations that the rebuild does not move: drop them, and the markers
        # of computations asked for at those generations.
        cleared = store.mutual_entries_clear()
        store.pending_markers_clear()
        _renew(lock)
        if not redis.eval(_MARK_BUILT, 2, REBUILD_LOCK, friend_sets.BUILT, lock.local.token, friend_sets.store_stamp()):
            raise GraphStateLost("Redis lost its data during the rebuild")
        users = rebuild.suggestions_rebuild_all(progress=suggestions_step)
    if lost:
        # Redis cannot tell a first start from a loss of its data: the message names both.
        logger.warning(
            "graph cache built from the database, as Redis held none (a first start, or Redis lost its data): "
            "%d friendship rows, %d users",
            rows,
            users,
        )
    return {"friendship_rows": rows, "users": users, "mutual_entries_cleared": cleared}


# --- a user's presence, and read-your-writes (the writing process's own after-commit sync) -------------


def graph_after_user_changed(*, user_id: int) -> int:
    """After a user was deactivated, reactivated or deleted; returns how many users went stale.

    The user leaves (or rejoins) the friend sets, the generations of everyone whose results depended on
    it move and they are marked dirty, in one atomic step (`friends.presence.user_graph_sync`: the user,
    the friends it lost or regained and their friends); then one drain is scheduled, as after a
    friendship.

    Raises:
        BrokerError: the drain could not be enqueued; run again (the actor retries), nothing is lost.
    """
    graph_state_check()
    affected = presence.user_graph_sync(user_id)
    freshness.schedule_drain(tasks.recompute_dirty_suggestions)
    return affected


def graph_friendship_synced_now(*, user_id: int, friend_id: int, exclusions_changed: bool = True) -> int:
    """Steps 1 and 2 of `graph_after_friendship_changed`, run by the writing process right after its
    commit (`friends.read_your_writes`): sync the pair's sets, then bump and mark everyone affected.

    No recompute and no drain (nothing waits on RabbitMQ in a request): the event's subscriber does
    both. Once this ran, none of the affected users' old results reads as fresh, and a computation that
    reads the new generations reads the synced sets. `exclusions_changed=False` skips the pair's
    exclusion sync (three queries) when the caller knows the write cannot have changed them: an unfriend
    closes no request (a block's own event syncs its exclusions). Returns how many users went stale.
    """
    friend_sets.friend_sets_sync_pair(user_id, friend_id)
    if exclusions_changed:
        with friend_sets.pair_lock(user_id, friend_id, "exclusions"):
            exclusions.exclusions_sync_pair(user_id, friend_id)
    affected = freshness.affected_by_friendship(user_id, friend_id)
    freshness.invalidate(users=affected, friend_set_changed=(user_id, friend_id))
    return len(affected)


def graph_pair_synced_now(*, user_id: int, other_id: int) -> int:
    """`graph_after_pair_changed` without the drain, run by the writing process after its commit (see
    `graph_friendship_synced_now`); returns 2."""
    with friend_sets.pair_lock(user_id, other_id, "exclusions"):
        exclusions.exclusions_sync_pair(user_id, other_id)
    freshness.invalidate(users={user_id, other_id})
    return 2


def graph_user_synced_now(*, user_id: int, exclusion_partners_before: Collection[int] = ()) -> int:
    """`graph_after_user_changed` without the drain, run by the writing process after its commit; a
    deleting process passes the user's exclusion partners read before the delete (`presence`)."""
    return presence.user_graph_sync(user_id, exclusion_partners_before=exclusion_partners_before)
