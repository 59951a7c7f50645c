"""Part b: one user's recompute in the worker path (`suggestions_recompute([uid])`, Redis friend sets in,
result out) for the median-degree and the highest-degree user, against the PostgreSQL single query and
the same write; a phase profile and "what if" variants of the two-hop fetch (also used by part d)."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from bench.support.stats import Laps, interleaved_series, median, median_laps, timed_series

from .common import TARGET_B, Row, log
from .pg import PG_VARIANTS, cached_data, check_same, per_user_sql, pg_connect

# --- b. one user's recompute -------------------------------------------------------------------------------


def recompute_phases(user_ids: list[int]) -> tuple[dict[str, float], int]:
    """`suggestions_recompute(user_ids)` step by step (same calls); returns the timings and two-hop id count."""
    from friends import graph
    from friends.suggestions import compute

    laps = Laps()
    gens, excluded, two_hop = compute._read_two_hop(user_ids)
    laps.lap("1: one round trip reads generations, exclusions, friends + their lists (SORT ... GET) + parse")
    found, paths = [], 0
    for user_id, (friends, owners, hits) in zip(user_ids, two_hop, strict=True):
        paths += hits.size
        found.append(
            graph.suggestions_from_pairs(
                user_id, friends, owners, hits, k=compute.TOP_K,
                exclude=excluded.get(user_id, ()), sample=compute.SAMPLE,
            )
        )  # fmt: skip
    laps.lap("compute")
    compute.suggestions_store(list(zip(user_ids, gens, found, strict=True)))
    laps.lap("2: write (CAS)")
    return laps.times, paths


def _two_hop_sets(user_ids: list[int]) -> dict[int, set[int]]:
    """The earlier product path, kept for comparison: SMEMBERS of the users and of their friends."""
    from friends import friend_sets

    own = {u: friend_sets.friend_ids(u) for u in user_ids}
    others = set().union(*own.values()) - own.keys()
    return {**own, **{f: friend_sets.friend_ids(f) for f in others}}


def two_hop_what_ifs(conn: Any, user_ids: list[int], runs: int) -> dict[str, float]:
    """Other ways to fetch the same two-hop neighbourhood (median s): packed int32 friend lists in Redis
    (two MGETs, the product's two round trips), or one PostgreSQL COPY BINARY."""
    import numpy as np
    import redis as redis_lib

    adjacency = _two_hop_sets(user_ids)
    expected = sum(len(v) for v in adjacency.values())
    raw = redis_lib.Redis.from_url(os.environ["REDIS_URL"], decode_responses=False)
    pipe = raw.pipeline(transaction=False)
    for user, friends in adjacency.items():
        pipe.set(f"benchpacked:{user}", np.array(sorted(friends), dtype="<i4").tobytes())
    pipe.execute()

    def packed() -> int:
        own = [np.frombuffer(b or b"", dtype="<i4") for b in raw.mget([f"benchpacked:{u}" for u in user_ids])]
        friends = np.setdiff1d(np.concatenate(own), user_ids)
        blobs = raw.mget([f"benchpacked:{f}" for f in friends.tolist()])
        return sum(x.size for x in own) + sum(len(b) for b in blobs if b) // 4

    ids = ",".join(str(int(u)) for u in user_ids)
    sql = (
        f"COPY (SELECT user_id, friend_id FROM friends_friendship WHERE user_id IN "
        f"(SELECT friend_id FROM friends_friendship WHERE user_id IN ({ids}) UNION SELECT unnest(ARRAY[{ids}]))) "
        "TO STDOUT (FORMAT BINARY)"
    )
    row = np.dtype([("n", ">i2"), ("l1", ">i4"), ("u", ">i4"), ("l2", ">i4"), ("v", ">i4")])

    def from_pg() -> int:
        buf = bytearray()
        with conn.cursor() as cur, cur.copy(sql) as cp:
            for block in cp:
                buf += block
        return np.frombuffer(bytes(buf[19:-2]), dtype=row).size

    try:
        if packed() != expected or from_pg() != expected:
            raise AssertionError("what-if two-hop fetches read a different neighbourhood")
        return {
            "what-if packed int32 lists (2 MGET)": statistics.median(timed_series(packed, runs=runs, budget_s=5)),
            "what-if 1 PostgreSQL COPY BINARY": statistics.median(timed_series(from_pg, runs=runs, budget_s=5)),
        }
    finally:
        for start in range(0, len(adjacency), 1000):
            raw.delete(*[f"benchpacked:{u}" for u in list(adjacency)[start : start + 1000]])


def bench_b(args: argparse.Namespace, facts: dict[str, Any]) -> dict[str, Any]:

    import numpy as np

    from bench.bench_graph import suggestions_for_sets
    from friends import graph
    from friends.graph import Suggestion
    from friends.models import Friendship
    from friends.suggestions import compute, store

    conn = pg_connect()
    pairs = np.fromiter(Friendship.objects.values_list("user_id", "friend_id").iterator(), np.dtype((np.int64, 2)))
    full = graph.Graph.from_arrays(pairs[:, 0], pairs[:, 1])
    sets: dict[int, set[int]] = {}
    for u, v in pairs.tolist():
        sets.setdefault(u, set()).add(v)
    del pairs
    out: dict[str, Any] = {}
    for label, uid in (("median-degree", facts["median_user"]), ("highest-degree", facts["top_user"])):
        gen = store.suggestion_generations([uid])[0]
        found_pg: dict[str, list] = {}

        def pg_single(variant: str, uid: int = uid, gen: int = gen, found_pg: dict = found_pg) -> None:
            """A PG single query (one of `PG_VARIANTS`) + the worker's own write of its result."""
            rule = PG_VARIANTS[variant]
            with conn.cursor() as cur:
                cur.execute(per_user_sql(**rule), {"u": uid}, prepare=True)
                found = [Suggestion(r[0], r[1], tuple(r[2]) if rule["samples"] else ()) for r in cur.fetchall()]
            compute.suggestions_store([(uid, gen, found)])  # the worker's own write, one round trip
            found_pg[variant] = found

        compute.suggestions_recompute([uid])
        product_data = cached_data([uid])
        # Interleaved (worker, PG, PG + exclusions, PG same lists, worker, ...): the ratio is the target, and
        # the load of the shared machine moves while a series runs.
        series = interleaved_series(
            {
                "worker": lambda uid=uid: compute.suggestions_recompute([uid]),
                **{variant: lambda variant=variant: pg_single(variant) for variant in PG_VARIANTS},
            },
            runs=args.one_user_runs,
            budget_s=args.series_budget,
        )
        worker = series["worker"]
        for variant, rule in PG_VARIANTS.items():
            check_same(f"PG single query {variant}", {uid: found_pg[variant]}, product_data, samples=rule["samples"])
        same = found_pg["+ exclusions + samples"]  # the bench's graph has no exclusions: the whole-graph lists
        if suggestions_for_sets(sets, uid) != same or graph.suggestions_for(full, uid) != same:
            raise AssertionError(f"in-memory references differ for user {uid}")
        mem = timed_series(lambda uid=uid: graph.suggestions_for(full, uid), runs=args.one_user_runs, budget_s=5)
        py = timed_series(lambda uid=uid: suggestions_for_sets(sets, uid), runs=args.one_user_runs, budget_s=5)
        phase_runs, two_hop_ids = [], 0
        deadline = time.perf_counter() + 5
        while len(phase_runs) < 10 and (len(phase_runs) < 3 or time.perf_counter() < deadline):
            laps, two_hop_ids = recompute_phases([uid])
            phase_runs.append(laps)
        out[label] = {
            "user": uid,
            "degree": facts["degree"][uid],
            "two_hop_ids": two_hop_ids,
            "worker_ms": [t * 1000 for t in worker],
            "pg_ms": [t * 1000 for t in series["issue"]],
            "pg_excl_ms": [t * 1000 for t in series["+ exclusions"]],
            "pg_samples_ms": [t * 1000 for t in series["+ exclusions + samples"]],
            "csr_ms": statistics.median(mem) * 1000,
            "sets_ms": statistics.median(py) * 1000,
            "phases": median_laps(phase_runs),
            "what_if": two_hop_what_ifs(conn, [uid], min(20, args.one_user_runs)),
        }
        compute.suggestions_recompute([uid])  # the product's list back in the cache (the PG write had the same)
        log(
            f"[{args.child}] b. {label} user {uid} (degree {facts['degree'][uid]}): worker path "
            f"{statistics.median(worker) * 1000:.2f} ms ({len(worker)} runs), PG single "
            f"{statistics.median(series['issue']) * 1000:.2f} ms, + exclusions "
            f"{statistics.median(series['+ exclusions']) * 1000:.2f} ms"
        )
    conn.close()
    return out


def report_b(name: str, b: dict[str, Any]) -> list[Row]:
    print(
        "\n  (b) one user's recompute, median ms, all series interleaved. worker = suggestions_recompute([uid])\n"
        "  (Redis in, CAS write out: top-10, counts, exclusions, 3-id samples). PG = a prepared query + the same\n"
        "  write: bare = the issue's query (no exclusions); excl = + the product's exclusions (the same top-10\n"
        "  and counts: the target's baseline); full = + samples (the product's lists exactly). CSR only / py\n"
        "  sets = compute alone on a prebuilt whole graph (friends.graph / bench_graph's sets)"
    )
    print(
        f"  {'user':<15} {'id':>6} {'degree':>6} {'2-hop ids':>9} {'runs':>4} {'worker':>8} {'PG bare':>8} "
        f"{'PG excl':>8} {'PG full':>8} {'/bare':>6} {'/excl':>6} {'/full':>6} {'CSR only':>8} {'py sets':>8}"
    )
    rows: list[Row] = []
    for label, row in b.items():
        worker = median(row["worker_ms"])
        bare, excl, full = (median(row[key]) for key in ("pg_ms", "pg_excl_ms", "pg_samples_ms"))
        print(
            f"  {label:<15} {row['user']:>6} {row['degree']:>6} {row['two_hop_ids']:>9,} {len(row['worker_ms']):>4} "
            f"{worker:>8.2f} {bare:>8.2f} {excl:>8.2f} {full:>8.2f} {worker / bare:>6.2f} {worker / excl:>6.2f} "
            f"{worker / full:>6.2f} {row['csr_ms']:>8.2f} {row['sets_ms']:>8.2f}"
        )
        rows.append(
            (
                f"[{name}] b. {label} recompute / PG query, same top-10",
                f"{worker / excl:.2f} ({worker:.2f} / {excl:.2f} ms)",
                f"<= {TARGET_B:g}",
                worker / excl <= TARGET_B,
            )
        )
        rows.append(
            (
                f"[{name}] b. {label} recompute / PG bare query (issue)",
                f"{worker / bare:.2f} ({worker:.2f} / {bare:.2f} ms)",
                f"<= {TARGET_B:g}",
                None,
            )
        )
    for label, row in b.items():
        phases = "; ".join(f"{k} {v * 1000:.2f}" for k, v in row["phases"].items())
        what_if = "; ".join(f"{k} {v * 1000:.2f}" for k, v in row["what_if"].items())
        print(f"  {label} phases (ms): {phases}\n      two-hop fetch alternatives (ms): {what_if}")
    return rows
