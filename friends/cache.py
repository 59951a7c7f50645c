"""The derived copy of the friend graph in Redis: one set of friend ids per user (`friends:<id>`).

The friendship table is the source of truth; everything here can be rebuilt from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from socialsite.redis import get_redis

from .models import Friendship

PREFIX = "friends:"


def friend_set_key(user_id: int) -> str:
    return f"{PREFIX}{user_id}"


def friend_ids(user_id: int) -> set[int]:
    return {int(x) for x in get_redis().smembers(friend_set_key(user_id))}


def friend_sets_sync_pair(a_id: int, b_id: int) -> bool:
    """Make both users' sets agree with the database about this pair.

    Reads the current state instead of trusting the event, so a redelivered, duplicated or reordered
    event has exactly one effect: the right one.
    """
    are_friends = Friendship.objects.filter(user_id=a_id, friend_id=b_id).exists()
    pipe = get_redis().pipeline()
    if are_friends:
        pipe.sadd(friend_set_key(a_id), b_id).sadd(friend_set_key(b_id), a_id)
    else:
        pipe.srem(friend_set_key(a_id), b_id).srem(friend_set_key(b_id), a_id)
    pipe.execute()
    return are_friends


def friend_sets_rebuild(*, batch_size: int = 20_000, progress: Callable[[int], None] | None = None) -> int:
    """Replace every friend set with what the database holds; returns the number of rows read."""
    redis = get_redis()
    stale = set(redis.scan_iter(match=f"{PREFIX}*", count=10_000))
    rows = Friendship.objects.order_by("user_id").values_list("user_id", "friend_id").iterator(chunk_size=batch_size)
    seen: set[str] = set()
    count = 0
    pipe = redis.pipeline(transaction=False)
    for chunk in _chunks(rows, batch_size):
        for user_id, friend_id in chunk:
            key = friend_set_key(user_id)
            if key not in seen:
                seen.add(key)
                pipe.delete(key)
            pipe.sadd(key, friend_id)
        pipe.execute()
        count += len(chunk)
        if progress:
            progress(len(chunk))
    if stale - seen:
        redis.delete(*(stale - seen))
    return count


def _chunks(rows: Iterable, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
