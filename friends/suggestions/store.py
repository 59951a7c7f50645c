"""The key scheme of the cached results and their storage: compare-and-set writes, fresh-or-nothing reads.

Nothing here reads the database or knows why a generation moves (`freshness`) or how a result is computed
(`compute`); readers (selectors) and writers (computations) meet here. Every read is O(1) round trips.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from socialsite.redis import get_redis, key_of

from .. import graph
from ..friend_sets import BUILT

DIRTY = "dirty:sugg"
DRAIN_FLAG = "drain:sugg"

sgen_key = key_of("sgen:")
fgen_key = key_of("fgen:")
sugg_key = key_of("sugg:")


def mutual_key(a: int, b: int) -> str:
    lo, hi = sorted((a, b))
    return f"mutual:{lo}:{hi}"


def pending_suggestions_key(user_id: int, gen: int) -> str:
    """Marks "the computation of u's suggestions at generation `gen` is enqueued" (`enqueue`)."""
    return f"pending:sugg:{user_id}:{gen}"


def pending_mutual_key(a: int, b: int, *, viewer_id: int, gens: str) -> str:
    """Marks "the mutual friends of the pair at `gens` are being computed for `viewer_id`" (`enqueue`)."""
    lo, hi = sorted((a, b))
    return f"pending:mutual:{lo}:{hi}:{viewer_id}:{gens}"


def _gen(value: str | None) -> int:
    return int(value or 0)


def suggestion_generations(user_ids: Sequence[int]) -> list[int]:
    """The current suggestion generation of each user, in order (one MGET)."""
    return [_gen(g) for g in get_redis().mget([sgen_key(u) for u in user_ids])] if user_ids else []


def mutual_generations(a: int, b: int) -> str:
    """The pair's stamp: both friend-set generations, lowest id first ("fgen(lo):fgen(hi)")."""
    lo, hi = sorted((a, b))
    return ":".join(str(_gen(g)) for g in get_redis().mget([fgen_key(lo), fgen_key(hi)]))


def now_stamp() -> str:
    return datetime.now(UTC).isoformat()


# --- writes ------------------------------------------------------------------------------------------

# Write `data` under KEYS[1] (`sugg:<u>`) unless what is there was computed at a newer generation, and
# only while the friend sets are built (KEYS[3], `graph:built:2`): a computation that read sets Redis has
# since lost, or sets not rebuilt yet, must not store its result. An entry newer than the generation itself
# (KEYS[2], `sgen:<u>`) means that key was lost: raise it past the entry, so the entry reads as stale and
# the next reader asks again (at a generation nobody computed yet) instead of waiting on "computing" for good.
_CAS = """
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
local cur = redis.call('HGET', KEYS[1], 'gen')
if cur and tonumber(cur) > tonumber(ARGV[1]) then
  if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(cur) then
    redis.call('SET', KEYS[2], string.format('%d', tonumber(cur) + 1))
  end
  return 0
end
redis.call('HSET', KEYS[1], 'gen', ARGV[1], 'computed_at', ARGV[2], 'data', ARGV[3])
return 1
"""


def encode(suggestions: list[graph.Suggestion]) -> str:
    """A user's list as stored: ``[[user_id, mutual_count, [sample ids]], ...]``, best first."""
    return json.dumps([[s.user_id, s.mutual_count, list(s.mutual_sample)] for s in suggestions])


def suggestions_write(pipe: Any, user_id: int, gen: int, suggestions: list[graph.Suggestion], now: str) -> None:
    """Queue on `pipe` a compare-and-set write of a user's list computed at generation `gen`."""
    pipe.eval(_CAS, 3, sugg_key(user_id), sgen_key(user_id), BUILT, gen, now, encode(suggestions))


def mutual_write(a: int, b: int, *, gens: str, mutual: list[int]) -> None:
    """Store the pair's mutual friends (ascending ids) stamped with the generations read before them."""
    get_redis().hset(mutual_key(a, b), mapping={"gens": gens, "computed_at": now_stamp(), "data": json.dumps(mutual)})


# Keep, beside a pair's mutual friends (KEYS[1]), the ids the database still confirms (ARGV[3], see
# `MutualEntry.checked`), only if the entry is still the one they were checked against (its generations
# ARGV[1] and time ARGV[2]): a recomputation or a full rebuild in between makes the write a no-op, and a
# deleted entry is not recreated with nothing but this field.
_CHECKED_CAS = """
if redis.call('HGET', KEYS[1], 'gens') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'computed_at') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'checked', ARGV[3])
return 1
"""


def mutual_checked_write(entry: MutualEntry, *, version: str, checked: list[int]) -> bool:
    """Keep on `entry`'s pair the `checked` ids (ascending) that the database confirmed at `version`
    (`friends.selectors`: the two users' friend-count row versions read before the check). Returns
    whether it was kept (not when the entry was recomputed or deleted since it was read).

    Raises:
        redis.exceptions.RedisError, OSError: Redis unavailable.
    """
    blob = json.dumps({"of": entry.stamp, "version": version, "ids": checked})
    lo, hi = entry.pair
    return bool(get_redis().eval(_CHECKED_CAS, 1, mutual_key(lo, hi), entry.gens, entry.computed_at_raw, blob))


def mutual_entries_clear() -> int:
    """Delete every mutual-friends entry (the full rebuild); returns how many there were."""
    return _delete_matching("mutual:*")


def pending_markers_clear() -> int:
    """Forget every "computation enqueued" marker of `enqueue` (the full rebuild clears results without
    moving generations, so a marker of the current generation would otherwise point at a finished task)."""
    return _delete_matching("pending:*")


def _delete_matching(pattern: str) -> int:
    redis = get_redis()
    keys = list(redis.scan_iter(match=pattern, count=10_000))
    for start in range(0, len(keys), 1000):
        redis.delete(*keys[start : start + 1000])
    return len(keys)


# --- reads (pages and API): fresh or nothing, one round trip --------------------------------------


def suggestions_cached(user_id: int) -> tuple[datetime, list[list]] | None:
    """The fresh cached suggestions ``(computed_at, rows)`` (rows as `encode` writes them), or None when
    missing, stale, or while the friend sets are not built (Redis lost its data: nothing is fresh).

    Raises:
        redis.exceptions.RedisError, OSError: Redis unavailable.
    """
    pipe = get_redis().pipeline(transaction=False)
    pipe.hgetall(sugg_key(user_id)).get(sgen_key(user_id)).exists(BUILT)
    entry, current, built = pipe.execute()
    if not built or not entry or int(entry["gen"]) != _gen(current):
        return None
    return datetime.fromisoformat(entry["computed_at"]), json.loads(entry["data"])


@dataclass(frozen=True, slots=True)
class MutualEntry:
    """A pair's fresh cached mutual friends: `ids` ascending, computed at `computed_at` from the friend
    sets at generations `gens`. `checked` is what a reader kept beside them (`mutual_checked_write`): the
    ids the database confirmed, and at which version of the two users' friendships, as stored."""

    pair: tuple[int, int]  # (lowest id, highest id)
    gens: str
    computed_at_raw: str
    ids: list[int]
    checked: str | None

    @property
    def computed_at(self) -> datetime:
        return datetime.fromisoformat(self.computed_at_raw)

    @property
    def stamp(self) -> str:
        """This computation of the pair's list: its generations and time."""
        return f"{self.gens}@{self.computed_at_raw}"

    def checked_at(self, version: str) -> list[int] | None:
        """The ids the database confirmed at `version` (ascending) for this very computation, or None
        when none were kept, or they were checked at another version or against an earlier list (a
        recomputation rewrites the list, not what was kept beside it)."""
        if self.checked is None:
            return None
        kept = json.loads(self.checked)
        return kept["ids"] if kept["of"] == self.stamp and kept["version"] == version else None


def mutual_entry(a: int, b: int) -> MutualEntry | None:
    """The fresh cached mutual friends of a pair, or None (also while the friend sets are not built):
    one round trip.

    Raises:
        redis.exceptions.RedisError, OSError: Redis unavailable.
    """
    lo, hi = sorted((a, b))
    pipe = get_redis().pipeline(transaction=False)
    pipe.hgetall(mutual_key(lo, hi)).mget([fgen_key(lo), fgen_key(hi)]).exists(BUILT)
    entry, gens, built = pipe.execute()
    if not built or not entry.get("data") or entry.get("gens") != ":".join(str(_gen(g)) for g in gens):
        return None
    return MutualEntry((lo, hi), entry["gens"], entry["computed_at"], json.loads(entry["data"]), entry.get("checked"))
