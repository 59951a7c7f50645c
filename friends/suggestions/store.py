"""The key scheme of the cached results and their storage: compare-and-set writes, fresh-or-nothing reads.

Nothing here reads the database or knows why a generation moves (`freshness`) or how a result is computed
(`compute`); readers (selectors) and writers (computations) meet here. Every read is O(1) round trips.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from socialsite.redis import get_redis

from .. import graph

DIRTY = "dirty:sugg"
DRAIN_FLAG = "drain:sugg"


def sgen_key(user_id: int) -> str:
    return f"sgen:{user_id}"


def fgen_key(user_id: int) -> str:
    return f"fgen:{user_id}"


def sugg_key(user_id: int) -> str:
    return f"sugg:{user_id}"


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

# Write `data` under KEYS[1] unless what is there was computed at a newer generation.
_CAS = """
local cur = redis.call('HGET', KEYS[1], 'gen')
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'gen', ARGV[1], 'computed_at', ARGV[2], 'data', ARGV[3])
return 1
"""


def encode(suggestions: list[graph.Suggestion]) -> str:
    """A user's list as stored: ``[[user_id, mutual_count, [sample ids]], ...]``, best first."""
    return json.dumps([[s.user_id, s.mutual_count, list(s.mutual_sample)] for s in suggestions])


def suggestions_write(pipe: Any, user_id: int, gen: int, suggestions: list[graph.Suggestion], now: str) -> None:
    """Queue on `pipe` a compare-and-set write of a user's list computed at generation `gen`."""
    pipe.eval(_CAS, 1, sugg_key(user_id), gen, now, encode(suggestions))


def mutual_write(a: int, b: int, *, gens: str, mutual: list[int]) -> None:
    """Store the pair's mutual friends (ascending ids) stamped with the generations read before them."""
    get_redis().hset(mutual_key(a, b), mapping={"gens": gens, "computed_at": now_stamp(), "data": json.dumps(mutual)})


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
    missing or stale."""
    pipe = get_redis().pipeline(transaction=False)
    pipe.hgetall(sugg_key(user_id)).get(sgen_key(user_id))
    entry, current = pipe.execute()
    if not entry or int(entry["gen"]) != _gen(current):
        return None
    return datetime.fromisoformat(entry["computed_at"]), json.loads(entry["data"])


def mutual_cached(a: int, b: int) -> tuple[datetime, list[int]] | None:
    """The fresh cached mutual friends of a pair ``(computed_at, ascending ids)``, or None."""
    lo, hi = sorted((a, b))
    pipe = get_redis().pipeline(transaction=False)
    pipe.hgetall(mutual_key(lo, hi)).mget([fgen_key(lo), fgen_key(hi)])
    entry, gens = pipe.execute()
    if not entry or entry["gens"] != ":".join(str(_gen(g)) for g in gens):
        return None
    return datetime.fromisoformat(entry["computed_at"]), json.loads(entry["data"])
