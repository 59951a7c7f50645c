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

from collections.abc import Callable, Collection

from . import exclusions, friend_sets, presence, tasks
from .suggestions import compute, freshness, rebuild, store


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
    friend_sets.friend_sets_sync_pair(user_id, friend_id)
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
    exclusions.exclusions_sync_pair(user_id, other_id)
    freshness.invalidate(users=users)
    freshness.schedule_drain(tasks.recompute_dirty_suggestions)
    return len(users)


def graph_cache_rebuild(
    *,
    friend_progress: Callable[[int], None] | None = None,
    suggestion_progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Rebuild everything derived from the database: friend sets, exclusion sets, every user's
    suggestions, and no mutual entries (they are recomputed on the next read).

    Returns ``{"friendship_rows", "users", "mutual_entries_cleared"}``. `friend_progress(rows_step)` and
    `suggestion_progress(done, total)` report progress (the management commands draw bars with them).
    """
    rows = friend_sets.friend_sets_rebuild(progress=friend_progress)
    exclusions.exclusions_rebuild()
    # The friend sets may have differed from the database (that is why one rebuilds), and mutual entries
    # are stamped with friend-set generations that the rebuild does not move: drop them, and the markers
    # of computations asked for at those generations.
    cleared = store.mutual_entries_clear()
    store.pending_markers_clear()
    users = rebuild.suggestions_rebuild_all(progress=suggestion_progress)
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
        exclusions.exclusions_sync_pair(user_id, friend_id)
    affected = freshness.affected_by_friendship(user_id, friend_id)
    freshness.invalidate(users=affected, friend_set_changed=(user_id, friend_id))
    return len(affected)


def graph_pair_synced_now(*, user_id: int, other_id: int) -> int:
    """`graph_after_pair_changed` without the drain, run by the writing process after its commit (see
    `graph_friendship_synced_now`); returns 2."""
    exclusions.exclusions_sync_pair(user_id, other_id)
    freshness.invalidate(users={user_id, other_id})
    return 2


def graph_user_synced_now(*, user_id: int, exclusion_partners_before: Collection[int] = ()) -> int:
    """`graph_after_user_changed` without the drain, run by the writing process after its commit; a
    deleting process passes the user's exclusion partners read before the delete (`presence`)."""
    return presence.user_graph_sync(user_id, exclusion_partners_before=exclusion_partners_before)
