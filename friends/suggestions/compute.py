"""The computations: suggestions and mutual friends from the Redis friend and exclusion sets.

Each one reads the generation *before* the data it uses and writes compare-and-set through `store`, so a
result computed while the graph changed is stored as stale, never as fresh (see the package docstring).
Idempotent: computing twice writes the same value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.contrib.auth import get_user_model

from socialsite.redis import get_redis

from .. import exclusions, friend_sets, graph
from . import store

User = get_user_model()

TOP_K = 10  # suggestions kept per user
SAMPLE = 3  # mutual friends shown with each suggestion


# One round trip for a small neighbourhood: the batch's generations, own lists and exclusions and, when the
# users have at most ARGV[6] friends in all, their friends' lists too (the ids from the friend sets). For
# more, moving every list through Lua costs more than a second round trip (a 1,000-friend hub: 7 ms against
# 1 ms), so the script leaves them out and says so. ARGV: key prefixes (sgen, friend set, friend list,
# exclusion set), the "exclusions built" key, the limit, then the users. It reads keys it derives from
# ARGV: fine on the one Redis server the site runs (a Redis Cluster would need them declared).
_READ_SMALL_TWO_HOP = """
local sgen, fset, flist, excl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local built = redis.call('EXISTS', ARGV[5])
local gens, own, excluded, batch, total = {}, {}, {}, {}, 0
for i = 7, #ARGV do
  local u = ARGV[i]
  batch[u] = true
  gens[#gens + 1] = redis.call('GET', sgen .. u) or '0'
  own[#own + 1] = redis.call('GET', flist .. u) or ''
  excluded[#excluded + 1] = redis.call('SMEMBERS', excl .. u)
  total = total + redis.call('SCARD', fset .. u)
end
if total > tonumber(ARGV[6]) then return {built, gens, own, excluded, 0, {}, {}} end
local others, seen, keys = {}, {}, {}
for i = 7, #ARGV do
  for _, f in ipairs(redis.call('SMEMBERS', fset .. ARGV[i])) do
    if not batch[f] and not seen[f] then
      seen[f] = true
      others[#others + 1] = f
      keys[#keys + 1] = flist .. f
    end
  end
end
local lists = {}
if #keys > 0 then lists = redis.call('MGET', unpack(keys)) end
return {built, gens, own, excluded, 1, others, lists}
"""
SMALL_TWO_HOP = 300  # friends in all, up to which one script reads everything


def _read_two_hop(user_ids: list[int]) -> tuple[list[int], dict[int, set[int]], Any]:
    """The batch's generations (read first: see the package docstring), exclusions and friend lists: one
    round trip for up to `SMALL_TWO_HOP` friends in all (the median user has 25), else two.

    The lists come as one CSR-shaped store ``(ids, indptr, hits)``: row ``r`` holds the friends of
    ``ids[r]``, the batch users first, then their friends. All of a round trip's lists are joined and
    parsed at once (a 1,000-friend hub: 1 ms, against 2 ms one by one).
    """
    prefixes = [store.sgen_key(""), friend_sets.PREFIX, friend_sets.LIST_PREFIX, exclusions.PREFIX]
    built, gens, own, excl, complete, others, lists = get_redis().eval(
        _READ_SMALL_TWO_HOP, 0, *prefixes, exclusions.BUILT, SMALL_TWO_HOP, *user_ids
    )
    excluded = exclusions.excluded_from_replies(user_ids, [built, *excl])
    own_lengths, own_hits = _joined_lists(own)
    if complete:
        other_ids = np.array(others, dtype=np.int64)
    else:
        other_ids = np.setdiff1d(own_hits, user_ids)  # ascending, distinct
        lists = friend_sets.friend_list_values(other_ids.tolist())
    other_lengths, other_hits = _joined_lists(lists)
    ids = np.concatenate([np.array(user_ids, dtype=np.int64), other_ids])
    indptr = np.concatenate([[0], np.cumsum(own_lengths + other_lengths)])
    return [int(g) for g in gens], excluded, (ids, indptr, np.concatenate([own_hits, other_hits]))


def _joined_lists(values: list[str | None]) -> tuple[list[int], np.ndarray]:
    """Several `flist:` values as (their lengths, all their ids in order), parsed in one go."""
    lengths = [v.count(",") + 1 if v else 0 for v in values]
    return lengths, friend_sets.parse_friend_list(",".join(v for v in values if v))


def suggestions_recompute(user_ids: list[int]) -> int:
    """Recompute and store these users' suggestions from the Redis friend and exclusion sets (one batch);
    returns how many.

    Three round trips whatever the batch: two reads (`_read_two_hop`), then the compare-and-set writes.
    No SQL, and no graph built: each user's list comes from the two-hop paths
    (`graph.suggestions_from_pairs`). While the exclusion sets are not built, the tables are read instead.
    """
    if not user_ids:
        return 0
    gens, excluded, (ids, indptr, hits) = _read_two_hop(list(user_ids))
    by_id = np.argsort(ids, kind="stable")
    sorted_ids = ids[by_id]
    now = store.now_stamp()
    pipe = get_redis().pipeline(transaction=False)
    for row, (user_id, gen) in enumerate(zip(user_ids, gens, strict=True)):
        friends = np.sort(hits[indptr[row] : indptr[row + 1]])
        at = np.minimum(np.searchsorted(sorted_ids, friends), sorted_ids.size - 1)
        known = sorted_ids[at] == friends  # a list that drifted from its set: the check repairs it
        owner_pos, two_hop = graph.gather_rows(indptr, hits, by_id[at[known]])
        found = graph.suggestions_from_pairs(
            user_id,
            friends,
            friends[known][owner_pos],
            two_hop,
            k=TOP_K,
            exclude=excluded.get(user_id, ()),
            sample=SAMPLE,
        )
        store.suggestions_write(pipe, user_id, gen, found, now)
    pipe.execute()
    return len(user_ids)


def mutual_recompute(a: int, b: int) -> list[int]:
    """Compute and store the mutual friends of a pair (ascending ids), stamped with both friend-set
    generations read before the sets."""
    gens = store.mutual_generations(a, b)
    mutual = sorted(friend_sets.common_friend_ids(a, b))
    store.mutual_write(a, b, gens=gens, mutual=mutual)
    return mutual
