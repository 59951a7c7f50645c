"""Drift repair: compare the derived graph in Redis with the friendship table, and repair what drifted.

Redis holds a rebuildable copy (friend sets and lists, generations, cached suggestions and mutual-friend
entries; see `friends.suggestions`). Events keep it in step, but a lost message, a subscriber bug, a user
deleted by cascade (no event), a Redis restart without persistence or a hand edit can leave it wrong, and
nothing would ever notice: a wrong entry whose generation matches is served as fresh. This check looks at
everything, repairs through the same idempotent operations the event path uses, and reports each repair.

Kinds of drift, in the order they are checked (the key of `ConsistencyReport.repairs`):

- ``suggestion_generation_lost`` / ``friend_generation_lost``: ``sgen:<u>`` / ``fgen:<u>`` is lower than
  a stamp on a cached entry (the key was deleted or rolled back). Generations must only grow: otherwise
  a later bump could make an old entry look fresh again. Repair: raise it above every stamp seen.
- ``friend_set_missing``: the user has friends in the database and no friend set at all (e.g. Redis
  flushed). Repair: rewrite the set (all sets at once when most are missing).
- ``friend_set_extra_member`` / ``friend_set_missing_member``: the set has an id the table does not, or
  lacks one it does. Repair: `friend_sets_sync_pair` for that pair (reads the table *now*, writes both
  sides in one step), then the affected users' suggestions and mutual entries are invalidated, exactly as
  after a friendship event.
- ``friend_list_mismatch``: the compact list ``flist:<u>`` (what computations read) disagrees with a
  correct set. Repair: rewrite the list from the set.
- ``exclusion_set_wrong``: a user's ``excl:<u>`` (blocked either way, pending either way, dismissed) differs
  from the tables. Repair: rewrite that user's set from the tables, then invalidate and recompute them.
  (Sets never built, or lost with ``excl:built``, are not drift: recomputes read the tables meanwhile.
  The check builds them, and says so in ``checked["exclusion_sets_built"]``.)
- ``suggestions_missing``, ``suggestions_stale``: an active user with friends has no cached suggestions,
  or stale ones that nothing is recomputing (not in the dirty set). Repair: mark dirty and recompute.
  (A user without friends and without an entry is not drift: a first read computes the empty list.)
- ``suggestions_wrong``: fresh-looking suggestions that differ from what the table gives (computed from a
  wrong set). Repair: invalidate and recompute; it counts only if the recompute changed the list.
- ``suggestions_orphan``: cached suggestions of a deleted user. Repair: delete.
- ``mutual_wrong``: a fresh-looking mutual-friends entry that differs from the table. Repair: recompute;
  it counts only if the recompute changed it.

Races with live traffic: the table is read once at the start, Redis later, so an event landing in between
looks like drift. Each candidate is confirmed before it is counted (the pair re-read from the table and
Redis; a recompute that changes nothing is not a repair), and every repair is an operation the live path
performs too, so running it concurrently with events converges to the table.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from django.contrib.auth import get_user_model

from socialsite.redis import get_redis

from . import exclusions, friend_sets, graph
from .live_graph import live_friendships
from .suggestions import compute, freshness, rebuild, store

logger = logging.getLogger(__name__)
T = TypeVar("T")

BATCH = 500  # users per Redis pipeline
FULL_REBUILD_SHARE = 0.5  # more than this share of users needing a rewrite: rebuild all at once instead
LOGGED_PER_KIND = 20  # repair lines logged individually per kind; the rest are summed up
SAMPLE_USERS = 50  # user ids listed per kind in the report

# Raise a generation to ARGV[1] unless it is already there or above: generations only ever grow.
_RAISE = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0
"""
_REWRITE_LIST = (
    friend_sets.LUA_PACK_IDS + "redis.call('SET', KEYS[2], pack_ids(redis.call('SMEMBERS', KEYS[1]))) return 1"
)

Progress = Callable[[int, int, str], None]
"""`progress(step, steps, what)`: called as each of the four phases starts."""


@dataclass
class ConsistencyReport:
    """What the check looked at and what it repaired.

    ``repairs`` maps a kind of drift (module doc) to the users whose derived data it repaired, ``counts``
    to the number of repairs (pairs, entries or users).
    """

    checked: dict[str, int] = field(default_factory=dict)
    repairs: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    recomputed: int = 0
    duration_ms: int = 0

    def add(self, kind: str, users: Iterable[int], detail: str = "", count: int = 1) -> None:
        users = set(users)
        self.repairs[kind] |= users
        self.counts[kind] += count
        if self.counts[kind] <= LOGGED_PER_KIND:
            logger.warning("graph drift repaired: %s users=%s %s", kind, sorted(users)[:10], detail)

    @property
    def users_touched(self) -> set[int]:
        return set().union(*self.repairs.values()) if self.repairs else set()

    def as_dict(self) -> dict[str, Any]:
        """JSON for the task result: ``{"drift": bool, "repairs": {kind: {"count", "users", "user_ids"}},
        "users_touched": int, "checked": {...}, "recomputed": int, "duration_ms": int}`` (``user_ids`` is a
        sample of at most 50, ascending)."""
        return {
            "drift": bool(self.repairs),
            "repairs": {
                kind: {"count": self.counts[kind], "users": len(users), "user_ids": sorted(users)[:SAMPLE_USERS]}
                for kind, users in sorted(self.repairs.items())
            },
            "users_touched": len(self.users_touched),
            "checked": dict(self.checked),
            "recomputed": self.recomputed,
            "duration_ms": self.duration_ms,
        }


def _chunks(items: list[T], size: int = BATCH) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids_of_keys(prefix: str) -> set[int]:
    found = set()
    for key in get_redis().scan_iter(match=f"{prefix}*", count=10_000):
        suffix = key[len(prefix) :]
        if suffix.isdigit():
            found.add(int(suffix))
    return found


def _table_friends() -> dict[int, set[int]]:
    """The live friendship rows (both users active: `friends.live_graph`) as ``{user: friend ids}``, one pass."""
    rows = live_friendships().order_by("user_id").values_list("user_id", "friend_id").iterator(chunk_size=20_000)
    return {user: {friend for _, friend in group} for user, group in groupby(rows, key=itemgetter(0))}


def _decode(raw: str | None) -> Any:
    return json.loads(raw) if raw else None


# --- phase 1: generations --------------------------------------------------------------------------------


def _repair_generations(report: ConsistencyReport) -> None:
    redis = get_redis()
    sugg_users = sorted(_ids_of_keys("sugg:"))
    lost: list[int] = []
    for chunk in _chunks(sugg_users):
        pipe = redis.pipeline(transaction=False)
        for user_id in chunk:
            pipe.hget(store.sugg_key(user_id), "gen").get(store.sgen_key(user_id))
        values = pipe.execute()
        for user_id, stamp, current in zip(chunk, values[::2], values[1::2], strict=True):
            if stamp is not None and int(stamp) > int(current or 0):
                redis.eval(_RAISE, 1, store.sgen_key(user_id), int(stamp))
                lost.append(user_id)
                report.add("suggestion_generation_lost", [user_id], f"sgen {current or 0} < stamp {stamp}")
    # Raised to the stamp, then bumped past it: the old entry is stale, and the user is recomputed.
    freshness.invalidate(users=lost)

    highest: dict[int, int] = {}
    mutual_keys = list(redis.scan_iter(match="mutual:*", count=10_000))
    report.checked["mutual_entries"] = len(mutual_keys)
    for chunk in _chunks(mutual_keys):
        pipe = redis.pipeline(transaction=False)
        for key in chunk:
            pipe.hget(key, "gens")
        for key, gens in zip(chunk, pipe.execute(), strict=True):
            if not gens:
                continue
            _, lo, hi = key.split(":")
            for user_id, stamp in zip((int(lo), int(hi)), gens.split(":"), strict=True):
                highest[user_id] = max(highest.get(user_id, 0), int(stamp))
    users = sorted(highest)
    for chunk in _chunks(users):
        currents = redis.mget([store.fgen_key(u) for u in chunk])
        for user_id, current in zip(chunk, currents, strict=True):
            if highest[user_id] > int(current or 0):
                redis.eval(_RAISE, 1, store.fgen_key(user_id), highest[user_id] + 1)
                report.add("friend_generation_lost", [user_id], f"fgen {current or 0} < stamp {highest[user_id]}")


# --- phase 2: friend sets and lists ----------------------------------------------------------------------


def _read_friend_sets(user_ids: list[int]) -> tuple[dict[int, set[int]], dict[int, bytes | None]]:
    redis = get_redis()
    sets: dict[int, set[int]] = {}
    lists: dict[int, bytes | None] = {}
    for chunk in _chunks(user_ids):
        pipe = redis.pipeline(transaction=False)
        for user_id in chunk:
            pipe.smembers(friend_sets.friend_set_key(user_id))
            pipe.execute_command("GET", friend_sets.friend_list_key(user_id), NEVER_DECODE=True)  # packed bytes
        values = pipe.execute()
        for user_id, members, compact in zip(chunk, values[::2], values[1::2], strict=True):
            sets[user_id] = {int(m) for m in members}
            lists[user_id] = compact
    return sets, lists


def _pair_still_drifted(a: int, b: int) -> bool:
    """Re-read one pair from the table and both sets: an event may have brought them together meanwhile."""
    are_friends = live_friendships().filter(user_id=a, friend_id=b).exists()
    pipe = get_redis().pipeline(transaction=False)
    pipe.sismember(friend_sets.friend_set_key(a), b).sismember(friend_sets.friend_set_key(b), a)
    in_a, in_b = pipe.execute()
    return bool(in_a) != are_friends or bool(in_b) != are_friends


def _repair_friend_sets(report: ConsistencyReport, table: dict[int, set[int]]) -> set[int]:
    """Returns the users whose friend set changed (their own and their friends' results are now stale)."""
    in_redis = _ids_of_keys(friend_sets.PREFIX) | _ids_of_keys(friend_sets.LIST_PREFIX)
    users = sorted(in_redis | set(table))
    report.checked["friend_sets"] = len(users)
    sets, lists = _read_friend_sets(users)

    absent = [u for u in users if table.get(u) and not sets[u]]
    if absent and len(absent) >= max(100, FULL_REBUILD_SHARE * len(table)):
        # Most sets are gone (Redis flushed or restarted empty): one bulk rewrite beats a sync per pair.
        friend_sets.friend_sets_rebuild()
        report.add("friend_set_missing", absent, f"{len(absent)} sets, rebuilt all", count=len(absent))
        # Every mutual entry goes stale; suggestions are checked against the table in the next phase
        # (marking everyone dirty here would compute them all twice).
        freshness.invalidate(users=[], friend_set_changed=users)
        return set(users)

    changed: set[int] = set()
    pairs: dict[tuple[int, int], list[tuple[str, int]]] = defaultdict(list)
    for user_id in users:
        want, have = table.get(user_id, set()), sets[user_id]
        if want == have:
            continue
        kind_missing = "friend_set_missing" if not have else "friend_set_missing_member"
        for other in have - want:
            pairs[tuple(sorted((user_id, other)))].append(("friend_set_extra_member", user_id))
        for other in want - have:
            pairs[tuple(sorted((user_id, other)))].append((kind_missing, user_id))
    for (a, b), findings in pairs.items():
        if not _pair_still_drifted(a, b):
            continue
        friend_sets.friend_sets_sync_pair(a, b)
        changed |= {a, b}
        for kind, user_id in findings:
            report.add(kind, [user_id], f"pair {a}-{b}")

    for user_id in users:
        if user_id in changed:
            continue  # the sync rewrote its list
        compact = lists[user_id]
        listed = friend_sets.parse_friend_list(compact).tolist() if len(compact or b"") % 4 == 0 else None
        if listed is None or len(listed) != len(sets[user_id]) or set(listed) != sets[user_id]:
            get_redis().eval(
                _REWRITE_LIST, 2, friend_sets.friend_set_key(user_id), friend_sets.friend_list_key(user_id)
            )
            report.add("friend_list_mismatch", [user_id])
            changed.add(user_id)

    if changed:
        # As after a friendship event: the changed users' friend generations move (mutual entries go
        # stale) and everyone whose two-hop neighbourhood includes them is recomputed.
        affected = set(changed)
        for user_id in changed:
            affected |= table.get(user_id, set()) | sets.get(user_id, set())
        freshness.invalidate(users=affected, friend_set_changed=changed)
    return changed


# --- phase 2b: exclusion sets ---------------------------------------------------------------------------


def _repair_exclusions(report: ConsistencyReport) -> None:
    """Every user's exclusion set against the tables; a difference is confirmed (the user re-read from
    both) before it is repaired, since an event may land between the two reads."""
    if not get_redis().exists(exclusions.BUILT):
        report.checked["exclusion_sets_built"] = exclusions.exclusions_rebuild()
        logger.info("graph consistency: exclusion sets were not built; built them")
        return
    table = exclusions.exclusions_in_table(None)
    users = sorted(exclusions.exclusion_ids_in_redis() | table.keys())
    report.checked["exclusion_sets"] = len(users)
    suspects = []
    for chunk in _chunks(users):
        cached = exclusions.excluded_for(chunk)
        suspects += [u for u in chunk if cached.get(u, set()) != table.get(u, set())]
    wrong = []
    for user_id in suspects:
        now_cached = exclusions.excluded_for([user_id]).get(user_id, set())
        if now_cached == exclusions.exclusions_in_table([user_id]).get(user_id, set()):
            continue  # an event brought them together meanwhile
        exclusions.exclusions_sync_user(user_id)
        wrong.append(user_id)
        report.add("exclusion_set_wrong", [user_id])
    freshness.invalidate(users=wrong)  # recomputed by the suggestions phase's drain


# --- phase 3: suggestions ----------------------------------------------------------------------------


def _expected_suggestions(table: dict[int, set[int]], active: list[int]) -> Iterator[tuple[int, list]]:
    """Every active user's suggestions as the table gives them, in the cached JSON shape."""
    src = [u for u, friends in table.items() for _ in friends]
    dst = [f for friends in table.values() for f in friends]
    g = graph.Graph.from_arrays(src, dst, nodes=active)
    excluded = exclusions.exclusions_in_table(None)
    wanted = set(active)
    for user_id, found in graph.suggestions_all(g, k=compute.TOP_K, exclude=excluded, sample=compute.SAMPLE):
        if user_id in wanted:
            yield user_id, [[s.user_id, s.mutual_count, list(s.mutual_sample)] for s in found]


def _read_cached(user_ids: list[int]) -> dict[int, tuple[int | None, int, Any]]:
    """``{user: (stamp or None when absent, current generation, data)}``"""
    redis = get_redis()
    pipe = redis.pipeline(transaction=False)
    for user_id in user_ids:
        pipe.hmget(store.sugg_key(user_id), ["gen", "data"]).get(store.sgen_key(user_id))
    values = pipe.execute()
    return {
        user_id: (None if entry[0] is None else int(entry[0]), int(current or 0), _decode(entry[1]))
        for user_id, entry, current in zip(user_ids, values[::2], values[1::2], strict=True)
    }


def _still_stale(user_ids: list[int]) -> list[int]:
    """Of these stale entries, those still stale with no recompute queued: a drain pops a user from the
    dirty set before it writes, so a first look can catch a recompute in flight."""
    if not user_ids:
        return []
    cached = _read_cached(user_ids)
    dirty = get_redis().smismember(store.DIRTY, user_ids)
    return [
        u
        for u, is_dirty in zip(user_ids, dirty, strict=True)
        if not is_dirty and cached[u][0] not in (None, cached[u][1])
    ]


def _repair_suggestions(report: ConsistencyReport, table: dict[int, set[int]], active: list[int]) -> None:
    redis = get_redis()
    report.checked["suggestions"] = len(active)
    missing: list[int] = []
    stale: list[int] = []
    suspect: dict[int, Any] = {}
    expected = _expected_suggestions(table, active)
    for chunk in _chunks(active):
        wanted = dict(next(expected) for _ in chunk)
        cached = _read_cached(chunk)
        dirty = redis.smismember(store.DIRTY, chunk)
        for user_id, is_dirty in zip(chunk, dirty, strict=True):
            stamp, current, data = cached[user_id]
            if stamp is None:
                # Someone with friends always has an entry (events compute it). Without friends there is
                # nothing to lose: a first read computes the empty list, so that is not drift.
                if table.get(user_id):
                    missing.append(user_id)
            elif stamp != current:
                if not is_dirty:
                    stale.append(user_id)
            elif data != wanted[user_id]:
                suspect[user_id] = data
    stale = _still_stale(stale)

    with_friends = sum(1 for u in active if table.get(u))
    if len(missing) >= 100 and len(missing) > FULL_REBUILD_SHARE * with_friends:
        # Redis lost nearly everything: the batched full rebuild is the fast way back.
        report.recomputed += rebuild.suggestions_rebuild_all()
        report.add("suggestions_missing", missing, f"{len(missing)} users, rebuilt all", count=len(missing))
        missing = []
    for kind, users in (("suggestions_missing", missing), ("suggestions_stale", stale)):
        if users:
            report.add(kind, users, count=len(users))
    freshness.invalidate(users=[*missing, *stale, *suspect])
    report.recomputed += freshness.drain_dirty()

    for chunk in _chunks(sorted(suspect)):
        after = _read_cached(chunk)
        for user_id in chunk:
            if after[user_id][2] != suspect[user_id]:
                report.add("suggestions_wrong", [user_id], "recompute changed the cached list")

    # Entries of deleted accounts (a deactivated user's entry is kept: events still recompute it).
    cached_users = _ids_of_keys("sugg:")
    existing: set[int] = set()
    for chunk in _chunks(sorted(cached_users), 5_000):
        existing.update(get_user_model().objects.filter(pk__in=chunk).values_list("pk", flat=True))
    orphans = sorted(cached_users - existing)
    if orphans:
        for chunk in _chunks(orphans):
            redis.delete(*[store.sugg_key(u) for u in chunk])
        report.add("suggestions_orphan", orphans, count=len(orphans))


# --- phase 4: mutual-friend entries ------------------------------------------------------------------


def _repair_mutual_entries(report: ConsistencyReport, table: dict[int, set[int]]) -> None:
    redis = get_redis()
    keys = list(redis.scan_iter(match="mutual:*", count=10_000))
    for chunk in _chunks(keys):
        pipe = redis.pipeline(transaction=False)
        pairs = []
        for key in chunk:
            _, lo, hi = key.split(":")
            pairs.append((int(lo), int(hi)))
            pipe.hmget(key, ["gens", "data"]).mget([store.fgen_key(int(lo)), store.fgen_key(int(hi))])
        values = pipe.execute()
        for (lo, hi), (gens, data), current in zip(pairs, values[::2], values[1::2], strict=True):
            if gens != ":".join(str(int(g or 0)) for g in current):
                continue  # stale: no reader takes it, the next read recomputes it
            cached = _decode(data)
            if cached == sorted(table.get(lo, set()) & table.get(hi, set())):
                continue
            if compute.mutual_recompute(lo, hi) != cached:
                report.add("mutual_wrong", [lo, hi], f"pair {lo}-{hi}")


# --- the service ---------------------------------------------------------------------------------------


def graph_consistency_repair(*, progress: Progress | None = None) -> ConsistencyReport:
    """Compare every derived structure in Redis with the friendship table and repair what drifted.

    Safe to run at any time, also while events flow (see the module doc). Cost: one pass over the
    friendship table and one full suggestions computation (like `suggestions_rebuild_all`), plus one
    Redis read per user and per cached entry, in pipelines. Returns the report; each repair is also
    logged (a WARNING per repair, up to 20 per kind).
    """
    started = time.perf_counter()
    report = ConsistencyReport()
    step = progress or (lambda *_: None)

    from .graph_cache import graph_state_check  # graph_cache's actors import this module

    if not graph_state_check():
        # Redis lost everything (no "built" marker): nothing to compare; the repair, a full rebuild under
        # the rebuild lock, is asked for instead of repairing user by user.
        report.checked["graph_lost"] = 1
        report.duration_ms = round((time.perf_counter() - started) * 1000)
        logger.warning("graph consistency: the graph cache is not built; its repair is asked for")
        return report

    step(0, 4, "generations")
    _repair_generations(report)
    step(1, 4, "friend sets")
    table = _table_friends()
    active = list(get_user_model().objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    report.checked["users"] = len(active)
    _repair_friend_sets(report, table)
    _repair_exclusions(report)
    step(2, 4, "suggestions")
    _repair_suggestions(report, table, active)
    step(3, 4, "mutual friends")
    _repair_mutual_entries(report, table)
    step(4, 4, "done")

    report.duration_ms = round((time.perf_counter() - started) * 1000)
    summary = {kind: len(users) for kind, users in report.repairs.items()}
    if summary:
        logger.warning("graph consistency: repaired %s (users touched: %d)", summary, len(report.users_touched))
    else:
        logger.info("graph consistency: no drift in %s", report.checked)
    return report
