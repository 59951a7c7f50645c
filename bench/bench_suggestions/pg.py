"""The naive PostgreSQL way of the same work, shared by parts a and b: per-user and set-based SQL for
"people you may know", its results written to Redis exactly as the product writes them, and checks that
every variant computed the same lists as the product."""

from __future__ import annotations

import gc
import json
import os
import time
from typing import Any


def _exclusion_sql() -> str:
    """Ids never to suggest to %(u)s (blocked either way, pending either way, dismissed): the product's rule."""
    from friends.models import Block, FriendRequest, SuggestionDismissal

    block, request, dismissal = (m._meta.db_table for m in (Block, FriendRequest, SuggestionDismissal))
    pending = FriendRequest.State.PENDING.value
    return (
        f"SELECT blocked_id FROM {block} WHERE blocker_id = %(u)s "
        f"UNION ALL SELECT blocker_id FROM {block} WHERE blocked_id = %(u)s "
        f"UNION ALL SELECT to_user_id FROM {request} WHERE from_user_id = %(u)s AND state = '{pending}' "
        f"UNION ALL SELECT from_user_id FROM {request} WHERE to_user_id = %(u)s AND state = '{pending}' "
        f"UNION ALL SELECT dismissed_id FROM {dismissal} WHERE user_id = %(u)s"
    )


def per_user_sql(*, exclusions: bool = False, samples: bool = False) -> str:
    """One user's top 10 friends of friends by mutual-friend count then id, never self nor a friend.

    Bare, it is the issue's baseline query. `exclusions` adds the product's other rule (never someone
    blocked either way, with a request pending either way, or dismissed); `samples` adds each one's 3
    smallest-id mutual friends: with both it returns exactly the product's lists. The fastest shape
    found (tried: NOT EXISTS anti-join, array_agg of every mutual friend): NOT IN hashed sub-plans,
    index-only scans on (user_id, friend_id), samples only for the 10 rows kept.
    """
    excluded = f"\n      AND f2.friend_id NOT IN ({_exclusion_sql()})" if exclusions else ""
    top = f"""
    SELECT f2.friend_id AS v, count(*) AS c
    FROM friends_friendship f1 JOIN friends_friendship f2 ON f2.user_id = f1.friend_id
    WHERE f1.user_id = %(u)s AND f2.friend_id <> %(u)s
      AND f2.friend_id NOT IN (SELECT friend_id FROM friends_friendship WHERE user_id = %(u)s){excluded}
    GROUP BY f2.friend_id ORDER BY c DESC, v LIMIT 10"""
    if not samples:
        return top
    return f"""
WITH top AS ({top})
SELECT v, c, ARRAY(SELECT a.friend_id FROM friends_friendship a
                   JOIN friends_friendship b ON b.user_id = top.v AND b.friend_id = a.friend_id
                   WHERE a.user_id = %(u)s ORDER BY a.friend_id LIMIT 3)
FROM top ORDER BY c DESC, v"""


# The PostgreSQL per-user variants of a: the query (the target's baseline), then closer to the product.
PG_VARIANTS = {
    "issue": {"exclusions": False, "samples": False},
    "+ exclusions": {"exclusions": True, "samples": False},
    "+ exclusions + samples": {"exclusions": True, "samples": True},
}


SET_SQL = """
WITH ex(u, v) AS (
    SELECT blocker_id, blocked_id FROM friends_block
    UNION ALL SELECT blocked_id, blocker_id FROM friends_block
    UNION ALL SELECT from_user_id, to_user_id FROM friends_friendrequest WHERE state = 'pending'
    UNION ALL SELECT to_user_id, from_user_id FROM friends_friendrequest WHERE state = 'pending'
    UNION ALL SELECT user_id, dismissed_id FROM friends_suggestiondismissal
), fof AS (
    SELECT f1.user_id AS u, f2.friend_id AS v, count(*) AS c
    FROM friends_friendship f1 JOIN friends_friendship f2 ON f2.user_id = f1.friend_id
    WHERE f2.friend_id <> f1.user_id
    GROUP BY f1.user_id, f2.friend_id
), ranked AS (
    SELECT u, v, c, row_number() OVER (PARTITION BY u ORDER BY c DESC, v) AS r
    FROM fof
    WHERE NOT EXISTS (SELECT 1 FROM friends_friendship x WHERE x.user_id = fof.u AND x.friend_id = fof.v)
      AND NOT EXISTS (SELECT 1 FROM ex WHERE ex.u = fof.u AND ex.v = fof.v)
)
SELECT u, v, c FROM ranked WHERE r <= 10 ORDER BY u, r"""


def pg_connect():
    """A plain psycopg connection (server-side binding, so statements can be prepared; Django's can't)."""
    import psycopg

    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)


def read_gens(user_ids: list[int]) -> dict[int, int]:
    """The users' suggestion generations, as `suggestions_rebuild_all` reads them (MGET per 10k)."""
    from friends.suggestions import store

    gens: dict[int, int] = {}
    for start in range(0, len(user_ids), 10_000):
        chunk = user_ids[start : start + 10_000]
        gens.update(zip(chunk, store.suggestion_generations(chunk), strict=True))
    return gens


def write_like_product(pipe: Any, user_id: int, gen: int, found: list, now: str) -> None:
    """The product's own write (CAS script, JSON encoding), so both sides pay the same Redis cost."""
    from friends.suggestions import store

    store.suggestions_write(pipe, user_id, gen, found, now)


def pg_loop(conn: Any, user_ids: list[int], *, exclusions: bool, samples: bool) -> tuple[float, dict[int, list]]:
    """PostgreSQL one prepared query per user, results written to Redis as the product writes them."""
    from datetime import UTC, datetime

    from friends.graph import Suggestion
    from socialsite.redis import get_redis

    sql = per_user_sql(exclusions=exclusions, samples=samples)
    results: dict[int, list] = {}
    gc.collect()
    started = time.perf_counter()
    gens = read_gens(user_ids)
    now = datetime.now(UTC).isoformat()
    pipe = get_redis().pipeline(transaction=False)
    with conn.cursor() as cur:
        for n, uid in enumerate(user_ids, 1):
            cur.execute(sql, {"u": uid}, prepare=True)
            found = [Suggestion(row[0], row[1], tuple(row[2]) if samples else ()) for row in cur.fetchall()]
            write_like_product(pipe, uid, gens[uid], found, now)
            results[uid] = found
            if n % 1000 == 0:
                pipe.execute()
    pipe.execute()
    return time.perf_counter() - started, results


def pg_set_based(conn: Any, user_ids: list[int], timeout_s: float) -> tuple[float | None, dict[int, list]]:
    """One set-based statement for everybody (rank per user by a window function), then the same writes."""
    from datetime import UTC, datetime

    import psycopg

    from friends.graph import Suggestion
    from socialsite.redis import get_redis

    results: dict[int, list] = {u: [] for u in user_ids}
    gc.collect()
    started = time.perf_counter()
    gens = read_gens(user_ids)
    with conn.cursor() as cur:
        cur.execute(f"SET statement_timeout = {int(timeout_s * 1000)}")
        try:
            cur.execute(SET_SQL)
        except psycopg.errors.QueryCanceled:
            return None, {}
        finally:
            conn.execute("SET statement_timeout = 0")
        for u, v, c in cur:
            if u in results:
                results[u].append(Suggestion(v, c, ()))
    now = datetime.now(UTC).isoformat()
    pipe = get_redis().pipeline(transaction=False)
    for n, uid in enumerate(user_ids, 1):
        write_like_product(pipe, uid, gens[uid], results[uid], now)
        if n % 1000 == 0:
            pipe.execute()
    pipe.execute()
    return time.perf_counter() - started, results


def cached_data(user_ids: list[int]) -> dict[int, str | None]:
    """The JSON each user's `sugg:` hash holds now (what a reader would get)."""
    from friends.suggestions.store import sugg_key
    from socialsite.redis import get_redis

    data: dict[int, str | None] = {}
    for start in range(0, len(user_ids), 5_000):
        chunk = user_ids[start : start + 5_000]
        pipe = get_redis().pipeline(transaction=False)
        for uid in chunk:
            pipe.hget(sugg_key(uid), "data")
        data.update(zip(chunk, pipe.execute(), strict=True))
    return data


def check_same(name: str, results: dict[int, list], reference: dict[int, str | None], *, samples: bool) -> None:
    """Every timing compares the same work: each user's list must equal what the product cached (ids and
    counts always, the mutual samples when the variant computes them)."""

    def shape(rows: list) -> list:
        return [list(r) if samples else r[:2] for r in rows]

    differing = [
        u
        for u, found in results.items()
        if shape([[s.user_id, s.mutual_count, list(s.mutual_sample)] for s in found])
        != shape(json.loads(reference.get(u) or "null") or [])
    ]
    if differing:
        u = differing[0]
        raise AssertionError(f"{name} differs from the product for {len(differing)} users, e.g. {u}: {results[u]}")
