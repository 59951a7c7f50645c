"""Mutual friends and "people you may know": computed off the request, cached in Redis, never stale.

Keys (all derived, all rebuildable from the database by `graph_cache_rebuild`):

- ``friends:<u>``  set of friend ids (friends/cache.py), kept by `update_graph_cache`.
- ``fgen:<u>``     generation of u's friend set; bumped whenever u gains or loses a friend.
- ``sgen:<u>``     generation of u's suggestions; bumped whenever anything they depend on changes:
  u's friends, a friend's friends, a block, a pending request or a dismissal involving u.
- ``sugg:<u>``     hash {gen, computed_at, data}: u's top-K suggestions computed at generation ``gen``.
- ``mutual:<lo>:<hi>``  hash {gens, computed_at, data}: mutual friends of the pair, at "fgen(lo):fgen(hi)".
- ``dirty:sugg``   set of users whose suggestions must be recomputed; drained in batches by one actor.

Freshness: a reader takes a result as fresh only when its stamp equals the current generation(s), read in
the same round trip. A computation reads the generation *before* the data it uses, so a change that lands
while it runs leaves it stamped with the older generation, i.e. stale, and the change has already marked
the user dirty again. Writes are compare-and-set on the generation, so a slow old computation never
overwrites a newer result.

Coalescing: an event bumps generations and adds the affected users to ``dirty:sugg`` (one pipeline, one
message whatever the number of users); a single drain is scheduled (``SET NX``) and recomputes each dirty
user once, however many events touched them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dramatiq
import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Q
from dramatiq.errors import BrokerError

from socialsite.redis import get_redis

from . import cache, graph
from .models import Block, FriendRequest, Friendship, SuggestionDismissal

logger = logging.getLogger(__name__)
User = get_user_model()

TOP_K = 10
SAMPLE = 3
BATCH = 200
PENDING_TTL = 120  # seconds a "computing" marker lives if its task never finishes
DRAIN_FLAG = "drain:sugg"
DIRTY = "dirty:sugg"

# Write `data` under KEYS[1] unless what is there was computed at a newer generation.
_CAS = """
local cur = redis.call('HGET', KEYS[1], 'gen')
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'gen', ARGV[1], 'computed_at', ARGV[2], 'data', ARGV[3])
return 1
"""


def sgen_key(user_id: int) -> str:
    return f"sgen:{user_id}"


def fgen_key(user_id: int) -> str:
    return f"fgen:{user_id}"


def sugg_key(user_id: int) -> str:
    return f"sugg:{user_id}"


def mutual_key(a: int, b: int) -> str:
    lo, hi = sorted((a, b))
    return f"mutual:{lo}:{hi}"


@dataclass
class Cached:
    """What a page or endpoint shows: a fresh result, or "computing" with the task to poll."""

    status: str  # "ready" | "computing"
    task_id: str | None = None
    computed_at: datetime | None = None
    results: list = field(default_factory=list)
    count: int | None = None


# --- invalidation (called by the graph subscriber) ------------------------------------------------


def invalidate(*, users: Collection[int], friend_set_changed: Collection[int] = ()) -> None:
    """Bump generations and mark users dirty in one transaction; O(len(users)) Redis work, one message."""
    pipe = get_redis().pipeline(transaction=True)
    for user_id in users:
        pipe.incr(sgen_key(user_id))
    for user_id in friend_set_changed:
        pipe.incr(fgen_key(user_id))
    if users:
        pipe.sadd(DIRTY, *users)
    pipe.execute()


def affected_by_friendship(a: int, b: int) -> set[int]:
    """A new or removed edge a-b changes the suggestions of a, b and every friend of either."""
    return {a, b} | {int(x) for x in get_redis().sunion(cache.friend_set_key(a), cache.friend_set_key(b))}


def schedule_drain(actor: dramatiq.Actor) -> bool:
    """Enqueue one drain unless one is already waiting; True if this call enqueued it."""
    redis = get_redis()
    if not redis.set(DRAIN_FLAG, "1", nx=True, ex=PENDING_TTL):
        return False
    try:
        actor.send()
    except BrokerError:
        redis.delete(DRAIN_FLAG)
        raise
    return True


def drain_dirty(*, progress: Callable[[int], None] | None = None) -> int:
    """Recompute every dirty user once, in batches; returns how many were recomputed."""
    redis = get_redis()
    redis.delete(DRAIN_FLAG)  # from now on a new change schedules a new drain
    total = 0
    while batch := redis.spop(DIRTY, BATCH):
        total += suggestions_recompute([int(x) for x in batch])
        if progress:
            progress(total)
    return total


# --- computation -----------------------------------------------------------------------------------


def exclusions_for(user_ids: Iterable[int] | None) -> dict[int, set[int]]:
    """Who must never be suggested to each user: blocked either way, pending either way, dismissed.

    Three queries for any number of users (``None`` means everybody, for the full rebuild).
    """
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
    return excluded


def _two_hop_graph(user_ids: list[int]) -> graph.Graph:
    """The users' friends and their friends' friends, from the compact Redis lists, in two round trips."""
    lists = cache.friend_lists(user_ids)
    friends = np.setdiff1d(np.concatenate(lists), user_ids) if lists else np.empty(0, dtype=np.int64)
    friend_ids = friends.tolist()
    lists += cache.friend_lists(friend_ids)
    owners = np.repeat(np.array(user_ids + friend_ids, dtype=np.int64), [len(x) for x in lists])
    return graph.Graph.from_arrays(owners, np.concatenate(lists), nodes=user_ids)


def _encode(suggestions: list[graph.Suggestion]) -> str:
    return json.dumps([[s.user_id, s.mutual_count, list(s.mutual_sample)] for s in suggestions])


def _write(pipe: Any, user_id: int, gen: int, suggestions: list[graph.Suggestion], now: str) -> None:
    pipe.eval(_CAS, 1, sugg_key(user_id), gen, now, _encode(suggestions))


def suggestions_recompute(user_ids: list[int]) -> int:
    """Recompute and store these users' suggestions from the Redis friend sets (one batch)."""
    if not user_ids:
        return 0
    redis = get_redis()
    gens = [int(g or 0) for g in redis.mget([sgen_key(u) for u in user_ids])]  # before the data: see module doc
    g = _two_hop_graph(user_ids)
    excluded = exclusions_for(user_ids)
    now = datetime.now(UTC).isoformat()
    pipe = redis.pipeline(transaction=False)
    for user_id, gen in zip(user_ids, gens, strict=True):
        found = graph.suggestions_for(g, user_id, k=TOP_K, exclude=excluded.get(user_id, ()), sample=SAMPLE)
        _write(pipe, user_id, gen, found, now)
    pipe.execute()
    return len(user_ids)


def suggestions_rebuild_all(*, progress: Callable[[int], None] | None = None) -> int:
    """Every user's suggestions from the friendship table (the periodic full refresh), in bounded memory."""
    redis = get_redis()
    user_ids = list(User.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    gens: dict[int, int] = {}
    for start in range(0, len(user_ids), 10_000):
        chunk = user_ids[start : start + 10_000]
        gens.update(zip(chunk, (int(g or 0) for g in redis.mget([sgen_key(u) for u in chunk])), strict=True))
    rows = Friendship.objects.values_list("user_id", "friend_id")
    pairs = np.fromiter(rows.iterator(chunk_size=50_000), dtype=np.dtype((np.int64, 2)))
    g = graph.Graph.from_arrays(pairs[:, 0], pairs[:, 1], nodes=user_ids)
    excluded = exclusions_for(None)
    now = datetime.now(UTC).isoformat()
    count = 0
    pipe = redis.pipeline(transaction=False)
    for user_id, found in graph.suggestions_all(g, k=TOP_K, exclude=excluded, sample=SAMPLE):
        if user_id not in gens:  # a friendship of an inactive user: nobody reads it
            continue
        _write(pipe, user_id, gens[user_id], found, now)
        count += 1
        if count % 1000 == 0:
            pipe.execute()
            if progress:
                progress(1000)
    pipe.execute()
    if progress:
        progress(count % 1000)
    return count


def mutual_recompute(a: int, b: int) -> list[int]:
    """Compute and store the mutual friends of a pair, stamped with both friend-set generations."""
    redis = get_redis()
    lo, hi = sorted((a, b))
    gens = ":".join(str(int(g or 0)) for g in redis.mget([fgen_key(lo), fgen_key(hi)]))
    mutual = sorted(int(x) for x in redis.sinter(cache.friend_set_key(lo), cache.friend_set_key(hi)))
    redis.hset(
        mutual_key(lo, hi),
        mapping={"gens": gens, "computed_at": datetime.now(UTC).isoformat(), "data": json.dumps(mutual)},
    )
    return mutual


def clear_mutual_entries() -> int:
    redis = get_redis()
    keys = list(redis.scan_iter(match="mutual:*", count=10_000))
    for start in range(0, len(keys), 1000):
        redis.delete(*keys[start : start + 1000])
    return len(keys)


# --- reading (pages and API): cache only, O(1) round trips ----------------------------------------


def suggestions_cached(user_id: int) -> tuple[datetime, list[list]] | None:
    """The fresh cached suggestions, or None when missing or stale."""
    pipe = get_redis().pipeline(transaction=False)
    pipe.hgetall(sugg_key(user_id)).get(sgen_key(user_id))
    entry, current = pipe.execute()
    if not entry or int(entry["gen"]) != int(current or 0):
        return None
    return datetime.fromisoformat(entry["computed_at"]), json.loads(entry["data"])


def mutual_cached(a: int, b: int) -> tuple[datetime, list[int]] | None:
    lo, hi = sorted((a, b))
    pipe = get_redis().pipeline(transaction=False)
    pipe.hgetall(mutual_key(lo, hi)).mget([fgen_key(lo), fgen_key(hi)])
    entry, gens = pipe.execute()
    if not entry or entry["gens"] != ":".join(str(int(g or 0)) for g in gens):
        return None
    return datetime.fromisoformat(entry["computed_at"]), json.loads(entry["data"])


def request_computation(pending_key: str, actor: dramatiq.Actor, *args: Any, owner_id: int) -> str | None:
    """Enqueue `actor(*args)` for its owner unless one is already pending; returns the task id to poll.

    Many readers of the same missing entry share one task: the first sets the pending marker (SET NX)
    with its message id, the others read it.
    """
    redis = get_redis()
    message = actor.message_with_options(args=args, owner_id=owner_id, pending_key=pending_key)
    if redis.set(pending_key, message.message_id, nx=True, ex=PENDING_TTL):
        try:
            dramatiq.get_broker().enqueue(message)
        except BrokerError:
            redis.delete(pending_key)
            logger.warning("could not enqueue %s%r: broker unavailable", actor.actor_name, args)
            return None
        return message.message_id
    return redis.get(pending_key)


def clear_pending() -> None:
    """Called at the end of a reader-requested task: the next miss may enqueue a new one."""
    from dramatiq.middleware import CurrentMessage

    message = CurrentMessage.get_current_message()
    key = message.options.get("pending_key") if message else None
    if key and get_redis().get(key) == message.message_id:
        get_redis().delete(key)


def graph_cache_rebuild(
    *, friend_progress: Callable[[int], None] | None = None, suggestion_progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Rebuild every derived structure from the database: friend sets, suggestions, mutual entries."""
    rows = cache.friend_sets_rebuild(progress=friend_progress)
    cleared = clear_mutual_entries()
    users = suggestions_rebuild_all(progress=suggestion_progress)
    return {"friendship_rows": rows, "users": users, "mutual_entries_cleared": cleared}
