"""Freshness: generations, the dirty set and its drain.

A change makes results stale by bumping generations (a reader then stops taking the old stamp as fresh)
and marks the users whose suggestions must be recomputed in one dirty set; one drain recomputes each of
them once, however many events touched them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

import dramatiq
from dramatiq.errors import BrokerError

from socialsite.redis import get_redis

from .. import friend_sets
from . import compute
from .store import DIRTY, DRAIN_FLAG, fgen_key, sgen_key

BATCH = 200  # users recomputed per round trip of the drain
DRAIN_FLAG_TTL = 120  # seconds: if a scheduled drain is lost, the next event schedules another after this


def invalidate(*, users: Collection[int], friend_set_changed: Collection[int] = ()) -> None:
    """Bump generations and mark users dirty in one Redis transaction; O(len(users)) Redis work.

    `users` get a new suggestions generation and join the dirty set; `friend_set_changed` get a new
    friend-set generation as well (their mutual-friend entries go stale).
    """
    pipe = get_redis().pipeline(transaction=True)
    for user_id in users:
        pipe.incr(sgen_key(user_id))
    for user_id in friend_set_changed:
        pipe.incr(fgen_key(user_id))
    if users:
        pipe.sadd(DIRTY, *users)
    pipe.execute()


# Raise each KEYS[i] to ARGV[1] unless it is already there or above (generations only ever grow).
_RAISE_ALL = """
local floor = tonumber(ARGV[1])
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') < floor then redis.call('SET', KEYS[i], ARGV[1]) end
end
return #KEYS
"""


def generation_floor() -> int:
    """A generation above any a lost Redis can have handed out: the current time in milliseconds.

    Generations are counters that start at 0 and move by one per change; a user's would need more than
    one change per millisecond, sustained since the previous floor, to catch up with it.
    """
    return time.time_ns() // 1_000_000


def generations_raise(user_ids: Collection[int], floor: int) -> None:
    """Raise the suggestion and friend-set generations of `user_ids` to at least `floor` (batches of 1,000).

    After Redis lost its data, generations restarted from 0, and a computation still in flight from before
    may write a result stamped with an old generation that a restarted counter reaches again: it would
    read as fresh. Above every old stamp, nothing from before can match.
    """
    redis = get_redis()
    script = redis.register_script(_RAISE_ALL)
    ids = list(user_ids)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        script(keys=[sgen_key(u) for u in chunk] + [fgen_key(u) for u in chunk], args=[floor])


def affected_by_friendship(a: int, b: int) -> set[int]:
    """A new or removed edge a-b changes the suggestions of a, b and every friend of either."""
    members = get_redis().sunion(friend_sets.friend_set_key(a), friend_sets.friend_set_key(b))
    return {a, b} | {int(x) for x in members}


def schedule_drain(drain: dramatiq.Actor) -> bool:
    """Enqueue one `drain` unless one is already waiting (``SET NX``); True if this call enqueued it.

    The actor is passed in by the service that schedules it (`friends.graph_cache`), so this module
    stays free of actors.

    Raises:
        BrokerError: RabbitMQ refused the message (the flag is released, so a retry schedules again).
    """
    redis = get_redis()
    if not redis.set(DRAIN_FLAG, "1", nx=True, ex=DRAIN_FLAG_TTL):
        return False
    try:
        drain.send()
    except BrokerError:
        redis.delete(DRAIN_FLAG)
        raise
    return True


def drain_dirty(*, progress: Callable[[int], None] | None = None) -> int:
    """Recompute every dirty user once, in batches of `BATCH`; returns how many were recomputed.

    Idempotent: an empty dirty set costs one SPOP. `progress(total_so_far)` is called after each batch.
    """
    redis = get_redis()
    redis.delete(DRAIN_FLAG)  # from now on a new change schedules a new drain
    total = 0
    while batch := redis.spop(DIRTY, BATCH):
        total += compute.suggestions_recompute([int(x) for x in batch])
        if progress:
            progress(total)
    return total
