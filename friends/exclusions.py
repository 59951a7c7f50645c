"""The exclusion sets: who must never be suggested to each user, kept in Redis like the friend sets.

A user is never suggested to u when blocked either way, with a request pending either way, or dismissed
by u. The tables (`Block`, `FriendRequest`, `SuggestionDismissal`) are the truth; ``excl:<u>`` is a
derived set of those ids, so a recompute reads them in the same pipeline as the rest of its Redis data
instead of three SQL queries (the queries cost ~10x the computation itself for a median user).

Kept in step exactly like the friend sets: the graph services (`friends.graph_cache`) call
`exclusions_sync_pair` for the pair of every request, block, dismissal and friendship event, before they
bump generations, reading the pair's *current* state from the tables (so a duplicated or reordered event
has one, right, effect); `exclusions_rebuild` rewrites everything (`graph_cache_rebuild`); the
consistency check compares them with the tables (`friends.consistency`, kinds ``exclusions_unbuilt``
and ``exclusion_set_wrong``).

An empty set is no key at all in Redis, so "no exclusions" and "lost" look alike. ``excl:built`` tells
them apart: it is written by `exclusions_rebuild` only, and while it is missing (a Redis flushed or
restarted empty, a deployment that never rebuilt) `excluded_for` reads the tables instead: never a
blocked person suggested because Redis forgot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Q

from socialsite.redis import get_redis

from .models import Block, FriendRequest, SuggestionDismissal

PREFIX = "excl:"
BUILT = "excl:built"  # not a user id: `exclusions_rebuild` sets it, a flush removes it


def exclusion_key(user_id: int) -> str:
    return f"{PREFIX}{user_id}"


def exclusions_in_table(user_ids: Iterable[int] | None) -> dict[int, set[int]]:
    """The exclusions the tables give: ``{user: ids never to suggest to them}``, for these users (or, with
    ``None``, everybody: the full rebuild). Three queries for any number of users."""
    ids = None if user_ids is None else list(user_ids)
    excluded: dict[int, set[int]] = {}

    def add(a: int, b: int) -> None:
        excluded.setdefault(a, set()).add(b)

    def involving(qs, left: str, right: str):
        if ids is not None:
            qs = qs.filter(Q(**{f"{left}__in": ids}) | Q(**{f"{right}__in": ids}))
        return qs.values_list(left, right)

    for x, y in involving(Block.objects.all(), "blocker_id", "blocked_id"):
        add(x, y)
        add(y, x)
    pending = FriendRequest.objects.filter(state=FriendRequest.State.PENDING)
    for x, y in involving(pending, "from_user_id", "to_user_id"):
        add(x, y)
        add(y, x)
    dismissals = SuggestionDismissal.objects.all()
    if ids is not None:
        dismissals = dismissals.filter(user_id__in=ids)
    for x, y in dismissals.values_list("user_id", "dismissed_id"):
        add(x, y)
    if ids is not None:  # only the users asked for (a block involving them also names the other side)
        wanted = set(ids)
        excluded = {u: found for u, found in excluded.items() if u in wanted}
    return excluded


def excluded_for(user_ids: Sequence[int]) -> dict[int, set[int]]:
    """Each user's exclusions from Redis, in one round trip (the tables while ``excl:built`` is missing)."""
    if not user_ids:
        return {}
    pipe = get_redis().pipeline(transaction=False)
    queue_excluded_for(pipe, user_ids)
    return excluded_from_replies(user_ids, pipe.execute())


def queue_excluded_for(pipe: Any, user_ids: Sequence[int]) -> None:
    """Queue on `pipe` the reads of `excluded_for` (``len(user_ids) + 1`` replies), so a computation can
    fetch them in the same round trip as its other Redis data; `excluded_from_replies` parses them."""
    pipe.exists(BUILT)
    for user_id in user_ids:
        pipe.smembers(exclusion_key(user_id))


def excluded_from_replies(user_ids: Sequence[int], replies: Sequence[Any]) -> dict[int, set[int]]:
    built, *sets = replies
    if not built:
        return exclusions_in_table(user_ids)
    return {u: {int(x) for x in members} for u, members in zip(user_ids, sets, strict=True) if members}


# Both directions of one pair in one atomic step: ARGV = a, b, "a excludes b" (1/0), "b excludes a" (1/0).
_SYNC_PAIR = """
if ARGV[3] == '1' then redis.call('SADD', KEYS[1], ARGV[2]) else redis.call('SREM', KEYS[1], ARGV[2]) end
if ARGV[4] == '1' then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
"""


def exclusions_sync_pair(a_id: int, b_id: int) -> tuple[bool, bool]:
    """Make both users' exclusion sets agree with the tables about this pair; returns (a excludes b,
    b excludes a). Reads the current state (three indexed look-ups), never the event's claim."""
    blocked = Block.objects.filter(Q(blocker_id=a_id, blocked_id=b_id) | Q(blocker_id=b_id, blocked_id=a_id))
    pending = FriendRequest.objects.filter(
        Q(from_user_id=a_id, to_user_id=b_id) | Q(from_user_id=b_id, to_user_id=a_id),
        state=FriendRequest.State.PENDING,
    )
    both = blocked.exists() or pending.exists()
    dismissed_by = set(
        SuggestionDismissal.objects.filter(
            Q(user_id=a_id, dismissed_id=b_id) | Q(user_id=b_id, dismissed_id=a_id)
        ).values_list("user_id", flat=True)
    )
    a_excludes, b_excludes = both or a_id in dismissed_by, both or b_id in dismissed_by
    keys = [exclusion_key(a_id), exclusion_key(b_id)]
    get_redis().eval(_SYNC_PAIR, 2, *keys, a_id, b_id, int(a_excludes), int(b_excludes))
    return a_excludes, b_excludes


def exclusions_sync_user(user_id: int) -> set[int]:
    """Rewrite one user's set from the tables (the consistency repair); returns it."""
    found = exclusions_in_table([user_id]).get(user_id, set())
    pipe = get_redis().pipeline(transaction=True)
    pipe.delete(exclusion_key(user_id))
    if found:
        pipe.sadd(exclusion_key(user_id), *found)
    pipe.execute()
    return found


def exclusion_ids_in_redis() -> set[int]:
    """The users that have an exclusion set in Redis."""
    found = set()
    for key in get_redis().scan_iter(match=f"{PREFIX}*", count=10_000):
        suffix = key[len(PREFIX) :]
        if suffix.isdigit():
            found.add(int(suffix))
    return found


def exclusions_rebuild() -> int:
    """Replace every exclusion set with what the tables hold and mark them built; returns how many users
    have exclusions."""
    redis = get_redis()
    stale = exclusion_ids_in_redis()
    table = exclusions_in_table(None)
    pipe = redis.pipeline(transaction=False)
    for n, (user_id, found) in enumerate(table.items(), 1):
        pipe.delete(exclusion_key(user_id)).sadd(exclusion_key(user_id), *found)
        if n % 1000 == 0:
            pipe.execute()
    leftover = sorted(stale - table.keys())
    for start in range(0, len(leftover), 1000):
        pipe.delete(*[exclusion_key(u) for u in leftover[start : start + 1000]])
    pipe.set(BUILT, "1")
    pipe.execute()
    return len(table)
