"""A user leaving or returning the derived friend graph in Redis (deactivated, reactivated or deleted).

The friend sets hold the live graph only (`friends.live_graph`): a user who is inactive or deleted has
no set, and is in nobody's. `user_graph_sync` makes Redis agree with the database about one user, in one
atomic script: it sets the user's membership to its live friends (none when it left), rewrites the
compact lists it changed, and bumps the generations of everyone whose results depended on it — the
friend-set generation of the user and of each friend gained or lost (their mutual-friend entries go
stale), and the suggestions generation of the user, those friends and their friends (the user was a
bridge between its friends and a suggestion to their friends) — and marks them dirty. A reader
therefore never takes an old result as fresh once the script ran, and a computation that reads the new
generation reads the new sets (the same ordering rule as `friends.graph_cache`).

Idempotent: it reads the current state, so a second run (the web process's after-commit call, then the
worker's event) finds nothing to change and only bumps the user's own generation.
"""

from __future__ import annotations

from collections.abc import Collection

from django.contrib.auth import get_user_model
from django.db.models import Q

from socialsite.redis import get_redis

from . import exclusions, friend_sets
from .live_graph import live_friendships
from .models import Block, FriendRequest, SuggestionDismissal
from .suggestions import store

User = get_user_model()

# ARGV: friend-set prefix, list prefix, sgen prefix, fgen prefix, dirty set, suggestions prefix, the user,
# "1" if the user is deleted (its own results go, and it is not recomputed), then its live friends. Reads
# keys derived from ARGV, like the computations' script (one Redis server, not a Cluster).
_SET_MEMBERSHIP = (
    friend_sets.LUA_PACK_IDS
    + """
local fset, flist, sgen, fgen, dirty, sugg, d = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local deleted = ARGV[8] == '1'
local want, old = {}, {}
for i = 9, #ARGV do want[ARGV[i]] = true end
for _, f in ipairs(redis.call('SMEMBERS', fset .. d)) do old[f] = true end
local affected, changed = {[d] = true}, {}
for f in pairs(old) do if not want[f] then redis.call('SREM', fset .. f, d); changed[#changed + 1] = f end end
for f in pairs(want) do if not old[f] then redis.call('SADD', fset .. f, d); changed[#changed + 1] = f end end
for _, f in ipairs(changed) do
  local members = redis.call('SMEMBERS', fset .. f)
  redis.call('SET', flist .. f, pack_ids(members))
  redis.call('INCR', fgen .. f)
  affected[f] = true
  for _, g in ipairs(members) do affected[g] = true end
end
redis.call('DEL', fset .. d)
local mine = {}
for f in pairs(want) do redis.call('SADD', fset .. d, f); mine[#mine + 1] = f end
redis.call('SET', flist .. d, pack_ids(mine))
if #changed > 0 then redis.call('INCR', fgen .. d) end
local n = 0
for u in pairs(affected) do
  redis.call('INCR', sgen .. u)
  if not (deleted and u == d) then redis.call('SADD', dirty, u) end
  n = n + 1
end
if deleted then
  redis.call('SREM', dirty, d)
  redis.call('DEL', sugg .. d, fset .. d, flist .. d)
end
return n
"""
)


def user_graph_sync(user_id: int, *, exclusion_partners_before: Collection[int] = ()) -> int:
    """Make the Redis friend graph agree with the database about `user_id`; returns how many users'
    suggestions went stale (the user, the friends it gained or lost, and their friends).

    A deleted user also leaves the exclusion sets of the people it was excluded with (the cascade took
    the blocks, pending requests and dismissals; `exclusions_sync_pair` reads the tables, so it converges
    however often it runs): those its own set names, plus `exclusion_partners_before` (the deleting
    process passes `exclusion_partners` read before the delete: someone who dismissed the user is in no
    set of the user's). A deactivated user's exclusions stay: the rows they mirror stay too.
    Cost: two queries, one script call (O(size of the user's two-hop neighbourhood) in Redis), and for
    a deleted user four queries per exclusion it had.
    """
    exists, active = _presence(user_id)
    friends = list(live_friendships().filter(user_id=user_id).values_list("friend_id", flat=True)) if active else []
    prefixes = [friend_sets.PREFIX, friend_sets.LIST_PREFIX, store.sgen_key(""), store.fgen_key(""), store.DIRTY]
    script_args = [*prefixes, store.sugg_key(""), user_id, "0" if exists else "1", *friends]
    affected = get_redis().eval(_SET_MEMBERSHIP, 0, *script_args)
    if not exists:
        partners = {int(x) for x in get_redis().smembers(exclusions.exclusion_key(user_id))}
        for other in sorted(partners | set(exclusion_partners_before)):
            with friend_sets.pair_lock(user_id, other, "exclusions"):
                exclusions.exclusions_sync_pair(user_id, other)
    return int(affected)


def _presence(user_id: int) -> tuple[bool, bool]:
    """(exists, is active) of a user, in one query."""
    row = User.objects.filter(pk=user_id).values_list("is_active", flat=True).first()
    return row is not None, bool(row)


def exclusion_partners(user_id: int) -> set[int]:
    """Everyone a user has a block, a pending request or a dismissal with, either way: whose exclusion
    sets name the user, or are named in the user's. Three small queries."""
    found: set[int] = set()
    for a, b in Block.objects.filter(Q(blocker_id=user_id) | Q(blocked_id=user_id)).values_list(
        "blocker_id", "blocked_id"
    ):
        found |= {a, b}
    pending = FriendRequest.objects.filter(
        Q(from_user_id=user_id) | Q(to_user_id=user_id), state=FriendRequest.State.PENDING
    )
    for a, b in pending.values_list("from_user_id", "to_user_id"):
        found |= {a, b}
    for a, b in SuggestionDismissal.objects.filter(Q(user_id=user_id) | Q(dismissed_id=user_id)).values_list(
        "user_id", "dismissed_id"
    ):
        found |= {a, b}
    found.discard(user_id)
    return found
