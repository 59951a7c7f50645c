"""Part a: the full rebuild of every user's top-10, computed and written to Redis: the product against
PostgreSQL one query per user (and closer variants, and one set-based statement); peak memory; a phase
profile of the product's rebuild."""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from typing import Any

from bench.support.stats import Laps, median, median_laps, with_rss_peak

from .common import TARGET_A, Row, log
from .pg import PG_VARIANTS, cached_data, check_same, pg_connect, pg_loop, pg_set_based, read_gens

# --- a. full rebuild ---------------------------------------------------------------------------------------


def rebuild_phases(conn: Any) -> dict[str, float]:
    """`suggestions_rebuild_all`'s work step by step, each phase timed alone (no overlap: the product
    overlaps the writes with the computation in a writer thread), plus a what-if of the ORM load and of
    COPY BINARY (one message per row)."""
    import numpy as np
    from django.contrib.auth import get_user_model

    from friends import graph
    from friends.exclusions import exclusions_in_table
    from friends.live_graph import live_friendships
    from friends.suggestions import compute, rebuild, store
    from socialsite.redis import get_redis

    gc.collect()
    laps = Laps()
    user_ids = list(get_user_model().objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    gens = read_gens(user_ids)
    laps.lap("users + generations")
    src, dst = rebuild.friendship_arrays(np.asarray(user_ids, dtype=np.int64))
    laps.lap("edges from PostgreSQL (one int8[] per block, each friendship once, no join)")
    g = graph.Graph.from_arrays(src, dst, nodes=user_ids)
    laps.lap("build CSR graph")
    excluded = exclusions_in_table(None)
    laps.lap("exclusions (3 queries)")
    batches = list(graph.suggestion_batches(g, k=compute.TOP_K, exclude=excluded, sample=compute.SAMPLE))
    laps.lap("compute top-10 + samples")
    encoded = [
        (uid, text)
        for batch in batches
        for uid, text in zip(batch.user_ids.tolist(), rebuild.encode_batch(batch), strict=True)
        if uid in gens
    ]
    laps.lap("encode (whole batches)")
    now = store.now_stamp()
    write = get_redis().register_script(rebuild._CAS_MANY)
    for start in range(0, len(encoded), rebuild.CHUNK):
        chunk = encoded[start : start + rebuild.CHUNK]
        args: list[Any] = [now]
        for uid, data in chunk:
            args += [gens[uid], data]
        write(keys=[store.sugg_key(uid) for uid, _ in chunk], args=args)
    laps.lap(f"Redis writes (one script call per {rebuild.CHUNK} users; the product overlaps them)")
    rows = live_friendships().values_list("user_id", "friend_id")
    pairs = np.fromiter(rows.iterator(chunk_size=50_000), dtype=np.dtype((np.int64, 2)))
    laps.lap("what-if: edges through the ORM iterator")
    copied = _copy_binary_rows()
    laps.lap("what-if: edges by COPY BINARY")
    if not len(pairs) == copied == 2 * len(src):  # the product reads each friendship once, not both rows
        raise AssertionError("the ways of reading the table read different numbers of rows")
    return laps.times


def _copy_binary_rows() -> int:
    """The friendship table through COPY ... (FORMAT BINARY), the previous way (one message per row)."""
    from django.db import connection

    from friends.live_graph import live_friendships

    query, _ = live_friendships().values_list("user_id", "friend_id").query.sql_with_params()
    buf = bytearray()
    sql = f"COPY ({query}) TO STDOUT (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for block in copy:
            buf += block
    if len(buf) <= 21:
        return 0
    width = int.from_bytes(buf[21:25], "big")  # header 19 bytes, field count 2, then the first id's length
    return (len(buf) - 21) // (2 + 2 * (4 + width))  # per row: field count, then (length, id) twice


def bench_a(args: argparse.Namespace, facts: dict[str, Any]) -> dict[str, Any]:
    from friends.suggestions.rebuild import suggestions_rebuild_all

    fb = args.child == "facebook"
    user_ids = facts["user_ids"]
    runs = args.runs if fb else args.runs_large
    pg_runs = args.pg_runs if fb else 1
    step = 1 if fb else max(1, args.pg_sample)
    pg_users = user_ids[::step]
    scale = len(user_ids) / len(pg_users)
    product: list[float] = []
    pg: list[float] = []
    rss: list[float | None] = []
    variants: dict[str, float] = {}
    reference: dict[int, str | None] = {}
    conn = pg_connect()
    log(f"[{args.child}] a. full rebuild: {runs} product runs, {pg_runs} PG-loop runs over {len(pg_users):,} users")
    # Interleaved, so a noisy neighbour hits both sides alike. The query runs `pg_runs` times, the
    # two closer variants once each, the last one with samples (= the product's lists), so the cache ends
    # with the product's output whatever the order (the count-only variants write lists without samples).
    others = list(PG_VARIANTS)[1:]
    for i in range(max(runs, pg_runs + len(others))):
        if i < runs:
            gc.collect()
            written, secs, grown = with_rss_peak(suggestions_rebuild_all)
            product.append(secs)
            rss.append(grown)
            if not reference:
                reference = cached_data(user_ids)
                if written != len(user_ids):
                    raise AssertionError(f"rebuild wrote {written} users, expected {len(user_ids)}")
            log(f"  product rebuild {i + 1}: {product[-1]:.2f} s")
        extrapolated = f" (x {scale:g})" if step > 1 else ""
        if i < pg_runs:
            secs, results = pg_loop(conn, pg_users, **PG_VARIANTS["issue"])
            check_same("PG loop", results, reference, samples=False)
            pg.append(secs * scale)
            log(f"  PG loop {i + 1}: {secs * scale:.2f} s{extrapolated}")
        elif i - pg_runs < len(others):
            variant = others[i - pg_runs]
            secs, results = pg_loop(conn, pg_users, **PG_VARIANTS[variant])
            check_same(f"PG loop {variant}", results, reference, samples=PG_VARIANTS[variant]["samples"])
            variants[variant] = secs * scale
            log(f"  PG loop {variant}: {secs * scale:.2f} s{extrapolated}")
    out: dict[str, Any] = {
        "product_s": product,
        "pg_loop_s": pg,
        "pg_variants_s": variants,
        "rss_growth_mib": rss,
        "pg_loop_users": len(pg_users),
        "pg_loop_scale": scale,
    }
    if fb or args.set_sql_large:
        secs, results = pg_set_based(conn, user_ids, args.sql_timeout)
        if secs is not None:
            check_same("set-based SQL", results, reference, samples=False)
        out["set_sql_s"] = secs
        out["set_sql_timeout_s"] = args.sql_timeout
        log(f"  set-based SQL: {'timeout' if secs is None else f'{secs:.2f} s'}")

    if fb or args.tracemalloc_large:  # tracing slows the run ~3x: 50 s on the synthetic graph
        gc.collect()
        tracemalloc.start()
        started = time.perf_counter()
        suggestions_rebuild_all()
        out["traced_s"] = time.perf_counter() - started
        out["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        log(f"  traced product run: peak {out['peak_mib']:.1f} MiB")
    phase_runs = [rebuild_phases(conn) for _ in range(3 if fb else 1)]
    out["phases"] = median_laps(phase_runs)
    if cached_data(user_ids) != reference:
        raise AssertionError("the what-if writes changed the cached suggestions")
    conn.close()
    return out


def report_a(name: str, a: dict[str, Any]) -> list[Row]:
    product = median(a["product_s"])
    pg = median(a["pg_loop_s"])
    sampled = a["pg_loop_scale"] > 1
    print("\n  (a) full rebuild: every user's top-10, computed AND written to Redis (product: + 3-id mutual sample)")
    print(f"  {'implementation':<52} {'runs':>4} {'median s':>9} {'x product':>10}")
    name_product = "product suggestions_rebuild_all (compiled, Redis)"
    print(f"  {name_product:<52} {len(a['product_s']):>4} {product:>9.2f} {1:>10.1f}")
    if sampled:
        print(f"  (PostgreSQL loops: every {a['pg_loop_scale']:g}th user timed, times x{a['pg_loop_scale']:g})")
    label = "PG 1 prepared query per user (issue's query)"
    print(f"  {label:<52} {len(a['pg_loop_s']):>4} {pg:>9.2f} {pg / product:>10.1f}")
    for variant, secs in a["pg_variants_s"].items():
        label = {"+ exclusions": "  + blocks/pending/dismissed excluded (product rule)"}.get(
            variant, "  + exclusions + 3-id samples (= product's lists)"
        )
        print(f"  {label:<52} {1:>4} {secs:>9.2f} {secs / product:>10.1f}")
    if "set_sql_s" in a:
        secs, name_set = a["set_sql_s"], "PG one set-based statement (row_number, no samples)"
        if secs is None:
            print(f"  {name_set:<52} {1:>4} {'> ' + str(a['set_sql_timeout_s']):>9} (statement_timeout)")
        else:
            print(f"  {name_set:<52} {1:>4} {secs:>9.2f} {secs / product:>10.1f}")
    else:
        print("  PostgreSQL one set-based statement: skipped on this graph (--set-sql-large to run it)")
    grown = [x for x in a["rss_growth_mib"] if x is not None]
    if grown:
        print(
            f"  product peak memory: RSS high-water mark rose {median(grown):.0f} MiB (max {max(grown):.0f}) "
            "above the RSS before each run"
        )
    if "peak_mib" in a:
        print(f"  product peak memory, tracemalloc (one traced run, {a['traced_s']:.2f} s): {a['peak_mib']:.1f} MiB")
    print("  product phases (median of runs, s): " + "; ".join(f"{k} {v:.3f}" for k, v in a["phases"].items()))
    ratio = pg / product
    what = f"[{name}] a. PG loop / product rebuild" + (" (PG extrapolated)" if sampled else "")
    return [(what, f"{ratio:.1f}x ({pg:.2f} s / {product:.2f} s)", f">= {TARGET_A:g}x", ratio >= TARGET_A)]
