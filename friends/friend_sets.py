"""The friend sets: the derived copy of the friend graph in Redis, per user a set of friend ids
(`friends:<id>`, for SINTER / SUNION) and the same ids as a compact comma-separated list (`flist:<id>`,
for bulk reads). The computations of `friends.suggestions` read them.

The friendship table is the source of truth; everything here can be rebuilt from it (`friend_sets_rebuild`)
and is kept in step by `friends.graph_cache.graph_after_friendship_changed`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby
from operator import itemgetter

import numpy as np

from socialsite.redis import get_redis

from .live_graph import live_friendships

PREFIX = "friends:"
LIST_PREFIX = "flist:"


def friend_set_key(user_id: int) -> str:
    return f"{PREFIX}{user_id}"


def friend_list_key(user_id: int) -> str:
    return f"{LIST_PREFIX}{user_id}"


def friend_ids(user_id: int) -> set[int]:
    return {int(x) for x in get_redis().smembers(friend_set_key(user_id))}


def common_friend_ids(a_id: int, b_id: int) -> set[int]:
    """Friends the two users share (SINTER of their sets)."""
    return {int(x) for x in get_redis().sinter(friend_set_key(a_id), friend_set_key(b_id))}


# Apply the pair's state to both sets and refresh both compact lists in one atomic step, so a list never
# lags its set (two workers syncing pairs of one user at once cannot interleave).
_SYNC_PAIR = """
for i = 1, 2 do
  if ARGV[1] == '1' then redis.call('SADD', KEYS[i], ARGV[i + 1]) else redis.call('SREM', KEYS[i], ARGV[i + 1]) end
  redis.call('SET', KEYS[i + 2], table.concat(redis.call('SMEMBERS', KEYS[i]), ','))
end
return 1
"""


def friend_sets_sync_pair(a_id: int, b_id: int) -> bool:
    """Make both users' sets agree with the database about this pair.

    Reads the current state instead of trusting the event, so a redelivered, duplicated or reordered
    event has exactly one effect: the right one.
    """
    are_friends = live_friendships().filter(user_id=a_id, friend_id=b_id).exists()  # both active
    keys = [friend_set_key(a_id), friend_set_key(b_id), friend_list_key(a_id), friend_list_key(b_id)]
    get_redis().eval(_SYNC_PAIR, 4, *keys, "1" if are_friends else "0", b_id, a_id)
    return are_friends


def friend_lists(user_ids: Sequence[int]) -> list[np.ndarray]:
    """Each user's friend ids as an array, in one round trip: the compact form the computations read
    (parsing a comma-separated string is ~25x faster than a Redis set reply for a hub)."""
    return [parse_friend_list(v) for v in friend_list_values(user_ids)]


def friend_list_values(user_ids: Sequence[int]) -> list[str | None]:
    """The users' `flist:` values as stored (None for no friends), in one round trip."""
    return get_redis().mget([friend_list_key(u) for u in user_ids]) if user_ids else []


def parse_friend_list(value: str | None) -> np.ndarray:
    """A `flist:` value (as GET or MGET returns it) as an array of ids; a missing key is no friends."""
    return np.fromstring(value, dtype=np.int64, sep=",") if value else np.empty(0, dtype=np.int64)


def friend_sets_rebuild(*, batch_size: int = 20_000, progress: Callable[[int], None] | None = None) -> int:
    """Replace every friend set and list with what the database holds; returns the number of rows read."""
    redis = get_redis()
    stale = set(redis.scan_iter(match=f"{PREFIX}*", count=10_000)) | set(
        redis.scan_iter(match=f"{LIST_PREFIX}*", count=10_000)
    )
    rows = live_friendships().order_by("user_id").values_list("user_id", "friend_id").iterator(chunk_size=batch_size)
    written: set[str] = set()
    count = reported = 0
    pipe = redis.pipeline(transaction=False)
    for user_id, group in groupby(rows, key=itemgetter(0)):
        friends = [friend for _, friend in group]
        pipe.delete(friend_set_key(user_id)).sadd(friend_set_key(user_id), *friends)
        pipe.set(friend_list_key(user_id), ",".join(map(str, friends)))
        written.update((friend_set_key(user_id), friend_list_key(user_id)))
        count += len(friends)
        if len(pipe) >= 3_000:
            pipe.execute()
            if progress:
                progress(count - reported)
            reported = count
    pipe.execute()
    if progress:
        progress(count - reported)
    leftover = list(stale - written)
    for start in range(0, len(leftover), 1000):
        redis.delete(*leftover[start : start + 1000])
    return count
