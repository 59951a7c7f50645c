"""The computations: suggestions and mutual friends from the Redis friend and exclusion sets.

Each one reads the generation *before* the data it uses and writes compare-and-set through `store`, so a
result computed while the graph changed is stored as stale, never as fresh (see the package docstring).
Idempotent: computing twice writes the same value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model

from socialsite.redis import get_redis

from .. import exclusions, friend_sets, graph
from . import store

User = get_user_model()

TOP_K = 10  # suggestions kept per user
SAMPLE = 3  # mutual friends shown with each suggestion


class _Commands(list):
    """Commands queued by a `store` helper written for a pipeline (it calls ``pipe.eval(...)``), to be sent
    by `_round_trip`."""

    def eval(self, *args: Any) -> _Commands:
        self.append(("EVAL", *args))
        return self


@contextlib.contextmanager
def _connection() -> Iterator[Any]:
    """One connection of the shared pool, used directly (see `_round_trip`); dropped, not returned, when
    anything fails half-way, so no other caller ever reads a reply meant for this one."""
    pool = get_redis().connection_pool
    conn = pool.get_connection()
    try:
        yield conn
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def _round_trip(commands: Sequence[tuple], *, undecoded_from: int | None = None) -> list[Any]:
    """Send `commands` at once and read their replies: one round trip, like a pipeline without its
    bookkeeping (redis-py's pipeline object costs ~60 µs of Python per round trip: a quarter of a
    median user's recompute). Replies come as the server sends them (lists for sets), decoded, except
    those of the commands from index `undecoded_from` on: bytes as stored (the packed friend lists).

    Raises:
        redis.exceptions.RedisError, OSError: Redis unavailable, or a command failed.
    """
    raw_from = len(commands) if undecoded_from is None else undecoded_from
    with _connection() as conn:
        conn.send_packed_command(conn.pack_commands(commands))
        return [conn.read_response(disable_decoding=i >= raw_from) for i in range(len(commands))]


def _read_two_hop(
    user_ids: list[int],
) -> tuple[list[int], dict[int, set[int]], list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """The batch's generations (read first: see the package docstring), exclusions and two-hop paths, in
    one round trip and without a script.

    Each user's friends and their friend lists come from one native ``SORT friends:<u> GET # GET
    flist:*``: Redis sorts the friend ids numerically and looks up each friend's packed list itself (C,
    no Lua: moving a hub's 1,045 lists through a script cost 3 ms of Redis time against 0.6 ms), and the
    lists arrive as bytes numpy reads without parsing (the comma-separated text they were before took
    3 ms of Python to parse for that hub). Returns per user ``(friends, owners, hits)``: the friend ids
    ascending, and one entry per two-hop path ``user - owners[j] - hits[j]`` with ``owners`` ascending
    (what `graph.suggestions_from_pairs` takes). A friend without a list (it drifted from its set; the
    consistency check repairs it) adds no paths.
    """
    lists_of = f"{friend_sets.LIST_PREFIX}*"
    n = len(user_ids)
    replies = _round_trip(
        [
            ("MGET", *(store.sgen_key(u) for u in user_ids)),
            ("EXISTS", exclusions.BUILT),
            *(("SMEMBERS", exclusions.exclusion_key(u)) for u in user_ids),
            *(("SORT", friend_sets.friend_set_key(u), "GET", "#", "GET", lists_of) for u in user_ids),
        ],
        undecoded_from=n + 2,
    )
    gens = [int(g or 0) for g in replies[0]]
    excluded = exclusions.excluded_from_replies(user_ids, replies[1 : n + 2])
    paths = []
    width = friend_sets.LIST_DTYPE.itemsize
    for reply in replies[n + 2 :]:
        lists = reply[1::2]
        friends = np.fromiter(map(int, reply[0::2]), dtype=np.int64, count=len(lists))
        lengths = np.fromiter((len(v) // width if v else 0 for v in lists), dtype=np.int64, count=len(lists))
        hits = friend_sets.parse_friend_list(b"".join(v for v in lists if v))
        paths.append((friends, np.repeat(friends, lengths), hits))
    return gens, excluded, paths


def suggestions_recompute(user_ids: list[int]) -> int:
    """Recompute and store these users' suggestions from the Redis friend and exclusion sets (one batch);
    returns how many.

    Two round trips whatever the batch: one read (`_read_two_hop`), then the compare-and-set writes. No
    SQL, no script for the reads and no graph built: each user's list comes from the two-hop paths
    (`graph.suggestions_from_pairs`). While the exclusion sets are not built, the tables are read instead.

    Raises:
        redis.exceptions.RedisError, OSError: Redis unavailable (the caller's task is retried).
    """
    if not user_ids:
        return 0
    user_ids = list(user_ids)
    gens, excluded, paths = _read_two_hop(user_ids)
    results = []
    for user_id, gen, (friends, owners, hits) in zip(user_ids, gens, paths, strict=True):
        found = graph.suggestions_from_pairs(
            user_id, friends, owners, hits, k=TOP_K, exclude=excluded.get(user_id, ()), sample=SAMPLE
        )
        results.append((user_id, gen, found))
    suggestions_store(results)
    return len(user_ids)


def suggestions_store(results: Sequence[tuple[int, int, list[graph.Suggestion]]]) -> None:
    """Write ``(user_id, generation, suggestions)`` results compare-and-set (`store.suggestions_write`), in
    one round trip."""
    commands = _Commands()
    now = store.now_stamp()
    for user_id, gen, found in results:
        store.suggestions_write(commands, user_id, gen, found, now)
    if commands:
        _round_trip(commands)


def mutual_recompute(a: int, b: int) -> list[int]:
    """Compute and store the mutual friends of a pair (ascending ids), stamped with both friend-set
    generations read before the sets."""
    gens = store.mutual_generations(a, b)
    mutual = sorted(friend_sets.common_friend_ids(a, b))
    store.mutual_write(a, b, gens=gens, mutual=mutual)
    return mutual
