"""The graphs of the suggestions benchmark: one PostgreSQL database each, loaded with `manage.py
load_graph` and reused while unchanged; then, in the child, the Redis friend sets and the graph's facts."""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.support.services import database_url, django_env, manage, recreate_database
from tests.support.brokers import purge_queues

from .common import BASELINE_USER, FACEBOOK, PASSWORD, WORKER_QUEUES, log

DEFAULT_SYN_NODES = 40_000


@dataclass(frozen=True)
class GraphSpec:
    name: str
    label: str
    database: str
    signature: str
    synthetic: tuple[int, int, float, int] | None = None  # powerlaw_cluster_graph(n, m, p, seed)

    def edge_file(self) -> tuple[Path, bool]:
        """The edge list to load, and whether it is a temp file to delete afterwards."""
        if self.synthetic is None:
            return FACEBOOK, False
        import numpy as np

        from bench.bench_graph import synthetic_edges

        n, m, p, seed = self.synthetic
        started = time.perf_counter()
        edges = synthetic_edges(n, m, p, seed)
        handle, name = tempfile.mkstemp(prefix="bench_syn_", suffix=".txt")
        with os.fdopen(handle, "w") as out:
            np.savetxt(out, edges, fmt="%d")
        log(f"  generated {self.label}: {len(edges):,} edges in {time.perf_counter() - started:.1f} s -> {name}")
        return Path(name), True


def graph_specs(args: argparse.Namespace) -> dict[str, GraphSpec]:
    """Both graphs, in databases named after `--database` (a prefix); a synthetic graph of another size
    than the default gets a database of its own, so a small trial run never replaces the large one."""
    digest = hashlib.sha256(FACEBOOK.read_bytes()).hexdigest()[:16]
    params = (args.syn_nodes, 20, 0.3, 1)
    size = "" if args.syn_nodes == DEFAULT_SYN_NODES else str(args.syn_nodes)
    return {
        "facebook": GraphSpec("facebook", "ego-Facebook", f"{args.database}_fb", f"facebook:{digest}:{PASSWORD}"),
        "synthetic": GraphSpec(
            "synthetic",
            f"synthetic powerlaw_cluster_graph({params[0]}, 20, 0.3, seed=1)",
            f"{args.database}_syn{size}",
            f"synthetic:powerlaw_cluster_graph{params}:{PASSWORD}",
            synthetic=params,
        ),
    }


def bench_env(args: argparse.Namespace, database: str) -> dict[str, str]:
    """The environment of every Django process of the benchmark (child, worker, server, manage.py):
    production settings with DEBUG off (plain HTTP on loopback), the run's own database, Redis DB number
    and vhost."""
    return django_env(
        settings="socialsite.settings",
        database=database,
        redis_db=args.redis_db,
        vhost=args.vhost,
        DJANGO_SECRET_KEY="bench",
        DJANGO_DEBUG="false",
        SOCIALSITE_LOOPBACK_HTTP="true",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_LOG_LEVEL="WARNING",
    )


def _reusable(spec: GraphSpec) -> bool:
    """True when the database holds exactly this graph, untouched since it was loaded."""
    import psycopg

    try:
        conn = psycopg.connect(database_url(spec.database), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        return False
    with conn:
        if conn.execute("SELECT to_regclass('bench_meta')").fetchone()[0] is None:
            return False
        meta = conn.execute("SELECT signature, friendship_rows FROM bench_meta").fetchone()
        if meta is None or meta[0] != spec.signature:
            return False
        rows = conn.execute("SELECT count(*) FROM friends_friendship").fetchone()[0]
        touched = conn.execute(
            "SELECT (SELECT count(*) FROM friends_friendrequest) + (SELECT count(*) FROM friends_block)"
            " + (SELECT count(*) FROM friends_suggestiondismissal)"
        ).fetchone()[0]
    return rows == meta[1] and touched == 0


def prepare_database(spec: GraphSpec, *, fresh: bool, env: dict[str, str]) -> dict[str, Any]:
    """Create, migrate and load the graph's database unless an identical one is already there."""
    import psycopg

    if not fresh and _reusable(spec):
        manage(["migrate", "-v0"], env=env)  # a no-op unless the code gained a migration
        log(f"[{spec.name}] reusing database {spec.database} (signature matches, unchanged)")
        return {"loaded": False}
    log(f"[{spec.name}] (re)creating database {spec.database} and loading {spec.label} with load_graph")
    recreate_database(spec.database)
    manage(["migrate", "-v0"], env=env)
    path, temporary = spec.edge_file()
    try:
        started = time.perf_counter()
        out = manage(["load_graph", str(path), "--no-progress", "--no-cache", "--password", PASSWORD], env=env)
        load_s = time.perf_counter() - started
    finally:
        if temporary:
            path.unlink(missing_ok=True)
    with psycopg.connect(database_url(spec.database), autocommit=True) as conn:
        for table in ("friends_friendship", "auth_user"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        rows = conn.execute("SELECT count(*) FROM friends_friendship").fetchone()[0]
        conn.execute("CREATE TABLE bench_meta (signature text NOT NULL, friendship_rows bigint NOT NULL)")
        conn.execute("INSERT INTO bench_meta VALUES (%s, %s)", [spec.signature, rows])
    summary = " ".join(line for line in out.splitlines() if line.startswith(("Users:", "Database load")))
    log(f"[{spec.name}] load_graph: {load_s:.1f} s wall. {summary}")
    return {"loaded": True, "load_s": load_s}


def setup_graph_cache() -> dict[str, Any]:
    """Empty the run's Redis DB and the vhost's queues, rebuild the friend and exclusion sets, add the
    zero-friend user."""
    from django.contrib.auth import get_user_model

    from accounts import services
    from friends import exclusions, friend_sets
    from socialsite.redis import get_redis

    get_redis().flushdb()
    purge_queues(WORKER_QUEUES)
    if not get_user_model().objects.filter(username=BASELINE_USER).exists():
        services.user_sign_up(username=BASELINE_USER, password=PASSWORD)
    started = time.perf_counter()
    rows = friend_sets.friend_sets_rebuild()
    exclusions.exclusions_rebuild()
    return {"friend_sets_s": time.perf_counter() - started, "friendship_rows": rows}


def graph_facts() -> dict[str, Any]:
    """Sizes, degrees and the two users of b/c: median-degree and highest-degree (bench_graph's rule)."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from friends.models import Friendship

    user_ids = list(get_user_model().objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    degree = dict(Friendship.objects.values("user_id").annotate(d=Count("id")).values_list("user_id", "d"))
    by_degree = sorted(degree, key=lambda u: (degree[u], u))
    degrees = np.array([degree[u] for u in by_degree], dtype=np.int64)
    return {
        "user_ids": user_ids,
        "degree": degree,
        "users": len(user_ids),
        "edges": int(degrees.sum()) // 2,
        "median_degree": float(np.median(degrees)),
        "max_degree": int(degrees.max()),
        "two_hop_paths": int((degrees**2).sum()),
        "median_user": by_degree[len(by_degree) // 2],
        "top_user": by_degree[-1],
    }
