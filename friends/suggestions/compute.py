"""The computations: suggestions and mutual friends from the Redis friend and exclusion sets.

Each one reads the generation *before* the data it uses and writes compare-and-set through `store`, so a
result computed while the graph changed is stored as stale, never as fresh (see the package docstring).
Idempotent: computing twice writes the same value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from django.contrib.auth import get_user_model

from socialsite.redis import get_redis

from .. import exclusions, friend_sets, graph
from ..exclusions import exclusions_in_table as exclusions_for  # the tables' answer (full rebuild, checks)
from ..models import Friendship
from . import store

User = get_user_model()

TOP_K = 10  # suggestions kept per user
SAMPLE = 3  # mutual friends shown with each suggestion


def _two_hop_graph(user_ids: list[int]) -> graph.Graph:
    """The users' friends and their friends' friends, from the compact Redis lists, in two round trips."""
    lists = friend_sets.friend_lists(user_ids)
    friends = np.setdiff1d(np.concatenate(lists), user_ids) if lists else np.empty(0, dtype=np.int64)
    friend_ids = friends.tolist()
    lists += friend_sets.friend_lists(friend_ids)
    owners = np.repeat(np.array(user_ids + friend_ids, dtype=np.int64), [len(x) for x in lists])
    return graph.Graph.from_arrays(owners, np.concatenate(lists), nodes=user_ids)


def suggestions_recompute(user_ids: list[int]) -> int:
    """Recompute and store these users' suggestions from the Redis friend sets (one batch); returns how many."""
    if not user_ids:
        return 0
    gens = store.suggestion_generations(user_ids)  # before the data: see the package docstring
    g = _two_hop_graph(user_ids)
    excluded = exclusions.excluded_for(user_ids)  # Redis, kept like the friend sets
    now = store.now_stamp()
    pipe = get_redis().pipeline(transaction=False)
    for user_id, gen in zip(user_ids, gens, strict=True):
        found = graph.suggestions_for(g, user_id, k=TOP_K, exclude=excluded.get(user_id, ()), sample=SAMPLE)
        store.suggestions_write(pipe, user_id, gen, found, now)
    pipe.execute()
    return len(user_ids)


def suggestions_rebuild_all(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Every active user's suggestions from the friendship table (the full refresh), in bounded memory.

    Returns how many users were written; `progress(done, total)` is called every 1,000 users and at the end.
    """
    user_ids = list(User.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    total = len(user_ids)
    gens: dict[int, int] = {}
    for start in range(0, total, 10_000):
        chunk = user_ids[start : start + 10_000]
        gens.update(zip(chunk, store.suggestion_generations(chunk), strict=True))
    rows = Friendship.objects.values_list("user_id", "friend_id")
    pairs = np.fromiter(rows.iterator(chunk_size=50_000), dtype=np.dtype((np.int64, 2)))
    g = graph.Graph.from_arrays(pairs[:, 0], pairs[:, 1], nodes=user_ids)
    excluded = exclusions_for(None)
    now = store.now_stamp()
    count = 0
    pipe = get_redis().pipeline(transaction=False)
    for user_id, found in graph.suggestions_all(g, k=TOP_K, exclude=excluded, sample=SAMPLE):
        if user_id not in gens:  # a friendship of an inactive user: nobody reads it
            continue
        store.suggestions_write(pipe, user_id, gens[user_id], found, now)
        count += 1
        if count % 1000 == 0:
            pipe.execute()
            if progress:
                progress(count, total)
    pipe.execute()
    if progress:
        progress(count, total)
    return count


def mutual_recompute(a: int, b: int) -> list[int]:
    """Compute and store the mutual friends of a pair (ascending ids), stamped with both friend-set
    generations read before the sets."""
    gens = store.mutual_generations(a, b)
    mutual = sorted(friend_sets.common_friend_ids(a, b))
    store.mutual_write(a, b, gens=gens, mutual=mutual)
    return mutual
