"""The friend sets: the derived copy of the friend graph in Redis, per user a set of friend ids
(`friends:<id>`, for SINTER / SUNION) and the same ids as a packed list (`flist:<id>`: little-endian int32,
4 bytes per friend, for bulk reads). The computations of `friends.suggestions` read them.

The friendship table is the source of truth; everything here can be rebuilt from it (`friend_sets_rebuild`)
and is kept in step by `friends.graph_cache.graph_after_friendship_changed`.

``graph:built`` (`BUILT`) says the sets were built from the database and have been kept since. An empty
set is no key at all, so a Redis restarted empty or flushed looks like a graph where nobody has friends;
the missing marker tells the two apart: until it is back, no result computed from the sets is served
(`friends.suggestions.store`) and the graph services ask for the repair (`friends.graph_cache`). Its name
carries the format of the lists (``:2``, packed since the comma-separated text): a Redis written by an
older release has no such marker, so its lists are rebuilt before anything reads them as fresh.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter

import numpy as np
from redis.exceptions import LockError

from socialsite.redis import get_redis, key_of

from .live_graph import live_friendships

PREFIX = "friends:"
LIST_PREFIX = "flist:"


BUILT = "graph:built:2"  # not under PREFIX: `friend_sets_rebuild` deletes every `friends:` key it did not write
PAIR_LOCK_TIMEOUT = 10  # seconds a pair's lock outlives a worker killed while holding it

friend_set_key = key_of(PREFIX)
friend_list_key = key_of(LIST_PREFIX)

# The `flist:` encoding: user ids are the `integer` (int4) primary keys of the user table, so 4 bytes each.
LIST_DTYPE = np.dtype("<i4")

# Lua: `pack_ids(ids)`, a list of id strings (SMEMBERS) as a `flist:` value; prepended to every script
# that writes one, so they all write the format `parse_friend_list` reads. unpack() in slices: Lua's C
# stack takes a few thousand arguments at most, and one struct.pack per slice is ~10x faster than per id.
LUA_PACK_IDS = """
local function pack_ids(ids)
  local out = {}
  for i = 1, #ids, 200 do
    local j = math.min(i + 199, #ids)
    out[#out + 1] = struct.pack('<' .. string.rep('i4', j - i + 1), unpack(ids, i, j))
  end
  return table.concat(out)
end
"""


def friend_ids(user_id: int) -> set[int]:
    return {int(x) for x in get_redis().smembers(friend_set_key(user_id))}


def common_friend_ids(a_id: int, b_id: int) -> set[int]:
    """Friends the two users share (SINTER of their sets)."""
    return {int(x) for x in get_redis().sinter(friend_set_key(a_id), friend_set_key(b_id))}


# Apply the pair's state to both sets and refresh both compact lists in one atomic step, so a list never
# lags its set (two workers syncing pairs of one user at once cannot interleave).
_SYNC_PAIR = (
    LUA_PACK_IDS
    + """
for i = 1, 2 do
  if ARGV[1] == '1' then redis.call('SADD', KEYS[i], ARGV[i + 1]) else redis.call('SREM', KEYS[i], ARGV[i + 1]) end
  redis.call('SET', KEYS[i + 2], pack_ids(redis.call('SMEMBERS', KEYS[i])))
end
return 1
"""
)


@contextlib.contextmanager
def pair_lock(a_id: int, b_id: int, what: str = "friends") -> Iterator[None]:
    """Hold the Redis lock of one unordered pair (per `what` is kept of it) while reading the database and
    writing Redis, so two threads or workers syncing the same pair run one after the other.

    Without it, a sync that read "friends" before an unfriend committed can write after the unfriend's
    own sync, and leave Redis saying "friends" for good. Held, the later sync reads the database after
    the earlier one wrote. A worker killed while holding it frees it after `PAIR_LOCK_TIMEOUT` seconds.

    Raises:
        redis.exceptions.LockError: not acquired within `PAIR_LOCK_TIMEOUT` seconds (the caller's task
            is retried), or Redis unavailable.
    """
    lo, hi = sorted((a_id, b_id))
    lock = get_redis().lock(
        f"lock:pair:{what}:{lo}:{hi}", timeout=PAIR_LOCK_TIMEOUT, blocking_timeout=PAIR_LOCK_TIMEOUT, sleep=0.005
    )
    if not lock.acquire():
        raise LockError(f"pair {lo}-{hi} ({what}) is locked by someone else")
    try:
        yield
    finally:
        # Lost only if it outlived its timeout (or Redis was emptied): the write is done either way.
        with contextlib.suppress(LockError):
            lock.release()


def are_friends_in_table(a_id: int, b_id: int) -> bool:
    """Whether the friendship table holds the pair now, both users active (one indexed look-up)."""
    return live_friendships().filter(user_id=a_id, friend_id=b_id).exists()


def friend_sets_sync_pair(a_id: int, b_id: int) -> bool:
    """Make both users' sets agree with the database about this pair; returns whether they are friends.

    Reads the current state instead of trusting the event, so a redelivered, duplicated or reordered
    event has exactly one effect: the right one. The read and the write happen under the pair's lock
    (`pair_lock`): a friend and an unfriend of one pair handled at once end with Redis equal to the table.

    Raises:
        redis.exceptions.RedisError: Redis unavailable or the pair's lock not acquired (retry).
    """
    keys = [friend_set_key(a_id), friend_set_key(b_id), friend_list_key(a_id), friend_list_key(b_id)]
    with pair_lock(a_id, b_id):
        are_friends = are_friends_in_table(a_id, b_id)
        get_redis().eval(_SYNC_PAIR, 4, *keys, "1" if are_friends else "0", b_id, a_id)
    return are_friends


def friend_sets_built() -> bool:
    """Whether the friend sets were built from the database (`BUILT`); False after Redis lost its data."""
    return bool(get_redis().exists(BUILT))


def friend_lists(user_ids: Sequence[int]) -> list[np.ndarray]:
    """Each user's friend ids as an array (int64, in no particular order), in one round trip: the packed
    form the computations read (no parsing: numpy reads the bytes as they come)."""
    return [parse_friend_list(v) for v in friend_list_values(user_ids)]


def friend_list_values(user_ids: Sequence[int]) -> list[bytes | None]:
    """The users' `flist:` values as stored (bytes, never decoded; None for no key), in one round trip."""
    if not user_ids:
        return []
    return get_redis().execute_command("MGET", *(friend_list_key(u) for u in user_ids), NEVER_DECODE=True)


def pack_friend_list(ids: Iterable[int] | np.ndarray) -> bytes:
    """Friend ids as a `flist:` value (`LIST_DTYPE`, in the given order).

    Raises:
        OverflowError: an id does not fit an int4 (the user table's key cannot hold one).
    """
    values = ids if isinstance(ids, np.ndarray) else np.fromiter(ids, dtype=np.int64)
    if values.size and (values.min() < 0 or values.max() > np.iinfo(LIST_DTYPE).max):
        raise OverflowError("friend ids must fit an int4")
    return values.astype(LIST_DTYPE).tobytes()


def parse_friend_list(value: bytes | None) -> np.ndarray:
    """A `flist:` value (bytes, as an undecoded GET or MGET returns it) as an int64 array of ids; a missing
    key is no friends."""
    return np.frombuffer(value, dtype=LIST_DTYPE).astype(np.int64) if value else np.empty(0, dtype=np.int64)


def friend_sets_rebuild(
    *, batch_size: int = 20_000, progress: Callable[[int], None] | None = None, mark_built: bool = True
) -> int:
    """Replace every friend set and list with what the database holds; returns the number of rows read.

    Sets `BUILT` at the end unless `mark_built` is False: the repair after a loss of Redis's data
    (`friends.graph_cache.graph_cache_rebuild`) sets it itself, once the generations are raised too.
    """
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
        pipe.set(friend_list_key(user_id), pack_friend_list(friends))
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
    if mark_built:
        redis.set(BUILT, store_stamp())
    return count


def store_stamp() -> str:
    """What `BUILT` holds: when the sets were built (UTC, ISO 8601), for operators."""
    return datetime.now(UTC).isoformat()
