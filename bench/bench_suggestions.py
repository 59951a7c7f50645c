"""Full-stack benchmark of mutual friends and "people you may know" (issue 4).

    python -m bench.bench_suggestions                       # everything, both graphs (the acceptance run)
    python -m bench.bench_suggestions --only a,b --graph facebook
    python -m bench.bench_suggestions --help

Why: bench/bench_graph.py times the maths alone; this times what the product really runs, against
PostgreSQL, Redis, RabbitMQ, a real `rundramatiq` worker and a real HTTP server, next to the naive
PostgreSQL way of doing the same work, measured in the same run on the same machine:

a. full rebuild of every user's top-10, computed AND written to Redis: the product's
   `friends.suggestions.compute.suggestions_rebuild_all` (with its 3-id mutual samples) vs PostgreSQL one prepared
   query per user (the issue's query: friends of friends with counts, not self, not friends, ORDER BY
   count DESC, id LIMIT 10), written to Redis exactly as the product writes (same CAS script, JSON,
   pipelining). Target: product >= 10x faster. Also timed once each: the same loop with the product's
   exclusions, and with exclusions + samples (= the product's lists), and one set-based statement
   (row_number per user; ego-Facebook only by default). Every variant's lists are checked equal to the
   product's. Peak memory: the rise of the RSS high-water mark in each run (+ tracemalloc on
   ego-Facebook); a phase profile of the product run with two "what if" variants of its slow phases.
b. one user's recompute in the worker path, `suggestions_recompute([uid])` (Redis friend sets in, result
   out), for the median-degree and the highest-degree user, vs the PostgreSQL single query + the same
   write; phase profile and "what if" variants of the two-hop fetch. The issue gives anchors, no target.
c. warm-cache `/suggestions/` and `/api/v1/users/<u>/mutual-friends/` (viewer: the median-degree user;
   other: their top suggestion) through `manage.py runserver --noreload` (threaded, DEBUG off), loaded
   by `wrk` when installed (else a keep-alive thread-pool generator): requests/s and p50/p99, as a ratio
   to a minimal logged-in page: `/friends/` of a user with no friends, requests or blocks (the same
   session, auth, middleware and template machinery; four empty lists; no graph work), per round then
   the median of rounds. Target: >= 0.5, and on the larger graph within 10% of the ego-Facebook ratio.
d. freshness, ego-Facebook only: from the COMMIT of `friend_request_accept` (called here) until both
   users' `suggestions_cached` is fresh at a generation that includes the new friendship (their `fgen`
   moved past its value before the accept; the entry matches the current `sgen`) and neither suggests
   the other; one worker `rundramatiq --processes 1 --threads 4 --queues graph notifications default
   maintenance`; each accept alone (the worker idle before the next); the worker's task records give
   the timeline, and the median accept's recompute is replayed phase by phase. Target p50 <= 250 ms,
   p99 <= 1 s.

Graphs: the shipped ego-Facebook edge list, and `bench.bench_graph.synthetic_edges` (the same generator,
powerlaw_cluster_graph(40_000, 20, 0.3, seed=1) by default) written to a temp file; each is loaded with
`manage.py load_graph` into its own database (`socialsite_bench_fb`, `socialsite_bench_syn`), then
VACUUM ANALYZE (what autovacuum would do; it gives PostgreSQL index-only scans, the fairest baseline).
A database is reused when its `bench_meta` signature matches and it is unchanged (no requests, blocks or
dismissals): d changes ego-Facebook, so it is reloaded every run (~15 s); the synthetic graph is loaded
once (~3-4 min, on top of the ~8 min of a run) and reused. Redis DB 8 is flushed and the friend sets
rebuilt for each graph; RabbitMQ vhost `socialsite_bench` (created when missing). Every process this
script starts (one child per graph, the worker, the server) has its own process group and is stopped.
Exit status 0 when every target passes.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import http.client
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/bench_suggestions.py` as well as `python -m ...`
    sys.path.insert(0, str(ROOT))

from bench.bench_events import ensure_vhost  # noqa: E402

PG = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/8"
VHOST = "socialsite_bench"
PASSWORD = "bench-demo-password-4"
BASELINE_USER = "bench_zero_friends"
WORKER_QUEUES = ("graph", "notifications", "default", "maintenance")
FACEBOOK = ROOT / "friends" / "data" / "facebook_combined.txt.gz"

TARGET_A = 10.0  # PG loop time / product time
TARGET_C = 0.5  # page rps / baseline rps
TARGET_C_DRIFT = 0.10  # |ratio(larger) - ratio(fb)| / ratio(fb)
TARGET_D_P50_MS, TARGET_D_P99_MS = 250.0, 1000.0


def log(message: str) -> None:
    print(message, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (p99 of 100 samples is the 99th smallest), inf-safe."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


# === Parent: databases, one child process per graph, the report =========================================


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
    digest = hashlib.sha256(FACEBOOK.read_bytes()).hexdigest()[:16]
    params = (args.syn_nodes, 20, 0.3, 1)
    return {
        "facebook": GraphSpec("facebook", "ego-Facebook", "socialsite_bench_fb", f"facebook:{digest}:{PASSWORD}"),
        "synthetic": GraphSpec(
            "synthetic",
            f"synthetic powerlaw_cluster_graph({params[0]}, 20, 0.3, seed=1)",
            "socialsite_bench_syn",
            f"synthetic:powerlaw_cluster_graph{params}:{PASSWORD}",
            synthetic=params,
        ),
    }


def django_env(database: str, **extra: str) -> dict[str, str]:
    """The environment of every Django process of the benchmark (child, worker, server, manage.py)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "socialsite.settings",
        "DJANGO_SECRET_KEY": "bench",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"{PG}/{database}",
        "REDIS_URL": REDIS_URL,
        "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        # The benchmark measures the site, not its rate limits: every budget far above what it sends.
        # The counters still run, so their Redis round trips are part of the figures.
        **{f"RATE_LIMIT_{scope}": "1000000/s" for scope in ("USER", "ANON", "MUTUAL_FRIENDS", "LOGIN_ACCOUNT")},
        **extra,
    }


def manage(args: list[str], database: str) -> str:
    proc = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=django_env(database),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def _reusable(spec: GraphSpec) -> bool:
    """True when the database holds exactly this graph, untouched since it was loaded."""
    import psycopg

    try:
        conn = psycopg.connect(f"{PG}/{spec.database}", autocommit=True, connect_timeout=5)
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


def prepare_database(spec: GraphSpec, *, fresh: bool) -> dict[str, Any]:
    """Create, migrate and load the graph's database unless an identical one is already there."""
    import psycopg

    if not fresh and _reusable(spec):
        manage(["migrate", "-v0"], spec.database)  # a no-op unless the code gained a migration
        log(f"[{spec.name}] reusing database {spec.database} (signature matches, unchanged)")
        return {"loaded": False}
    log(f"[{spec.name}] (re)creating database {spec.database} and loading {spec.label} with load_graph")
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{spec.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{spec.database}"')
    manage(["migrate", "-v0"], spec.database)
    path, temporary = spec.edge_file()
    try:
        started = time.perf_counter()
        out = manage(["load_graph", str(path), "--no-progress", "--no-cache", "--password", PASSWORD], spec.database)
        load_s = time.perf_counter() - started
    finally:
        if temporary:
            path.unlink(missing_ok=True)
    with psycopg.connect(f"{PG}/{spec.database}", autocommit=True) as conn:
        for table in ("friends_friendship", "auth_user"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        rows = conn.execute("SELECT count(*) FROM friends_friendship").fetchone()[0]
        conn.execute("CREATE TABLE bench_meta (signature text NOT NULL, friendship_rows bigint NOT NULL)")
        conn.execute("INSERT INTO bench_meta VALUES (%s, %s)", [spec.signature, rows])
    summary = " ".join(line for line in out.splitlines() if line.startswith(("Users:", "Database load")))
    log(f"[{spec.name}] load_graph: {load_s:.1f} s wall. {summary}")
    return {"loaded": True, "load_s": load_s}


def run_child(spec: GraphSpec, argv: list[str], timeout: float) -> dict[str, Any]:
    """Measure one graph in its own process (Django binds one database per process)."""
    handle, out_path = tempfile.mkstemp(prefix=f"bench_sugg_{spec.name}_", suffix=".json")
    os.close(handle)
    cmd = [sys.executable, "-m", "bench.bench_suggestions", *argv, "--child", spec.name, "--json", out_path]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=django_env(spec.database))
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()  # the child's finally stops its worker and server
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        code = -1
    except BaseException:
        proc.terminate()
        proc.wait(60)
        raise
    try:
        text = Path(out_path).read_text()
        result = json.loads(text) if text else {}
    finally:
        Path(out_path).unlink(missing_ok=True)
    if code != 0:
        result["error"] = f"child exited with {code}"
    return result


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    started = time.perf_counter()
    specs = graph_specs(args)
    names = ["facebook", "synthetic"] if args.graph == "both" else [args.graph]
    ensure_vhost(VHOST)  # every child purges the bench queues
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        spec = specs[name]
        setup = prepare_database(spec, fresh=args.fresh)
        results[name] = run_child(spec, argv, timeout=args.child_timeout)
        results[name]["label"] = spec.label
        results[name]["database"] = setup
    ok = print_report(results, args, time.perf_counter() - started)
    return 0 if ok else 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="a,b,c,d", help="parts to run, comma-separated (default: a,b,c,d)")
    parser.add_argument("--graph", choices=("facebook", "synthetic", "both"), default="both")
    parser.add_argument("--fresh", action="store_true", help="reload the databases even if reusable")
    parser.add_argument("--syn-nodes", type=int, default=40_000, help="users of the synthetic graph")
    parser.add_argument("--runs", type=int, default=5, help="(a) product rebuild runs, ego-Facebook")
    parser.add_argument("--runs-large", type=int, default=2, help="(a) product rebuild runs, synthetic graph")
    parser.add_argument("--pg-runs", type=int, default=3, help="(a) PostgreSQL loop runs, ego-Facebook")
    parser.add_argument(
        "--pg-sample", type=int, default=40, help="(a) synthetic graph: the PG loops time every N-th user, x N"
    )
    parser.add_argument("--set-sql-large", action="store_true", help="(a) also run the set-based SQL on synthetic")
    parser.add_argument("--tracemalloc-large", action="store_true", help="(a) also trace a synthetic rebuild (+50 s)")
    parser.add_argument("--sql-timeout", type=float, default=120, help="(a) statement_timeout of the set-based SQL")
    parser.add_argument("--one-user-runs", type=int, default=50, help="(b) runs per series")
    parser.add_argument("--series-budget", type=float, default=10, help="(b) max seconds per series (>= 10 runs)")
    parser.add_argument("--duration", type=float, default=2, help="(c) seconds per load run")
    parser.add_argument("--rounds", type=int, default=10, help="(c) interleaved rounds over the pages")
    parser.add_argument("--connections", type=int, default=8, help="(c) concurrent keep-alive connections")
    parser.add_argument("--python-load", action="store_true", help="(c) use the Python generator even with wrk")
    parser.add_argument(
        "--extra-pages", action="store_true", help="(c) also /api/v1/me/ and the highest-degree user's pages (info)"
    )
    parser.add_argument("--accepts", type=int, default=100, help="(d) friend-request accepts")
    parser.add_argument("--accept-timeout", type=float, default=10, help="(d) give up on one accept after N s")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--child-timeout", type=float, default=1500, help="seconds before a graph's run is stopped")
    parser.add_argument("--child", choices=("facebook", "synthetic"), help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# === Child: everything below runs with Django set up on one graph's database ============================


class Service:
    """A process of ours in its own session: stopped (its whole group) with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, cmd: list[str], *, env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.log = log_path.open("w")
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_until(self, ready: Callable[[], bool], *, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text()[-3000:]
                self.stop()
                raise RuntimeError(f"{self.name} did not start:\n{tail}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


def start_worker(tmp: Path) -> Service:
    """The worker of part d (also serves the mutual-friends warm-up of c), at production log level."""
    cmd = [sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", "4", "--queues"]
    cmd += [*WORKER_QUEUES, "--worker-shutdown-timeout", "5000"]
    log_path = tmp / "worker.log"
    worker = Service("worker", cmd, env={**os.environ, "DJANGO_LOG_LEVEL": "INFO"}, log_path=log_path)
    worker.wait_until(lambda: "is ready for action" in log_path.read_text())
    return worker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(tmp: Path) -> tuple[Service, int]:
    """`runserver --noreload` (threaded WSGI server, DEBUG off, no SSL redirect), 127.0.0.1 only."""
    port = free_port()
    cmd = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    server = Service("server", cmd, env=dict(os.environ), log_path=tmp / "server.log")

    def answering() -> bool:
        try:
            return http_get(port, "/login/")[0] == 200
        except OSError:
            return False

    server.wait_until(answering)
    return server, port


def child_main(args: argparse.Namespace) -> int:
    import django

    django.setup()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally below
    only = set(args.only.split(","))
    out: dict[str, Any] = {"graph": args.child, "loadavg_before": os.getloadavg()}
    services: list[Service] = []
    tmp = Path(tempfile.mkdtemp(prefix=f"bench_sugg_{args.child}_"))
    started = time.perf_counter()
    try:
        out["setup"] = setup_graph_cache()
        facts = graph_facts()
        out["facts"] = {k: v for k, v in facts.items() if k not in ("user_ids", "degree")}
        log(
            f"[{args.child}] {facts['users']:,} users, {facts['edges']:,} friendships, degree median "
            f"{facts['median_degree']:g} max {facts['max_degree']:,}; friend sets rebuilt in "
            f"{out['setup']['friend_sets_s']:.1f} s"
        )
        if "a" in only:
            out["a"] = bench_a(args, facts)
        else:
            from friends.suggestions.compute import suggestions_rebuild_all

            suggestions_rebuild_all()
        if "b" in only:
            out["b"] = bench_b(args, facts)
        if "c" in only or ("d" in only and args.child == "facebook"):
            services.append(start_worker(tmp))
        if "c" in only:
            server, port = start_server(tmp)
            services.append(server)
            out["c"] = bench_c(args, facts, port)
            server.stop()
            services.remove(server)
        if "d" in only and args.child == "facebook":
            out["d"] = bench_d(args)
    except Exception as exc:  # noqa: BLE001 - reported in the table; the finally still stops our processes
        import traceback

        traceback.print_exc()
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        for service in reversed(services):
            service.stop()
        out["loadavg_after"] = os.getloadavg()
        out["child_s"] = time.perf_counter() - started
        out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        Path(args.json).write_text(json.dumps(out, default=str))
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if "error" in out else 0


def setup_graph_cache() -> dict[str, Any]:
    """Empty Redis DB 8 and the bench vhost's queues, rebuild the friend sets, add the zero-friend user."""
    import dramatiq
    from django.contrib.auth import get_user_model

    from accounts.services import user_sign_up
    from friends import friend_sets
    from socialsite.redis import get_redis

    get_redis().flushdb()
    broker = dramatiq.get_broker()
    for name in WORKER_QUEUES:
        broker.declare_queue(name, ensure=True)
        for queue in (name, f"{name}.DQ", f"{name}.XQ"):
            broker.channel.queue_purge(queue)
    if not get_user_model().objects.filter(username=BASELINE_USER).exists():
        user_sign_up(username=BASELINE_USER, password=PASSWORD)
    started = time.perf_counter()
    rows = friend_sets.friend_sets_rebuild()
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


# --- Shared by a and b: the PostgreSQL way, written to Redis the product's way ----------------------------


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
    from friends.suggestions.store import sgen_key
    from socialsite.redis import get_redis

    gens: dict[int, int] = {}
    for start in range(0, len(user_ids), 10_000):
        chunk = user_ids[start : start + 10_000]
        values = get_redis().mget([sgen_key(u) for u in chunk])
        gens.update(zip(chunk, (int(g or 0) for g in values), strict=True))
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


def with_rss_peak(fn: Callable[[], Any]) -> tuple[Any, float, float | None]:
    """Run `fn`; return its result, seconds, and how far the process's peak RSS rose above the RSS it
    had before (MiB): Linux's high-water mark, reset first through /proc/self/clear_refs ("5")."""
    status = Path("/proc/self/status")

    def kib(field: str) -> int:
        return int(re.search(rf"^{field}:\s+(\d+) kB", status.read_text(), re.M).group(1))

    try:
        Path("/proc/self/clear_refs").write_text("5")
        before = kib("VmRSS")
    except OSError:
        before = None
    started = time.perf_counter()
    result = fn()
    secs = time.perf_counter() - started
    return result, secs, None if before is None else (kib("VmHWM") - before) / 1024


class Laps:
    """Named phase timings of one run."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = self.times.get(name, 0.0) + now - self._last
        self._last = now


def median_laps(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(run[name] for run in runs) for name in runs[0]}


# --- a. full rebuild ---------------------------------------------------------------------------------------


CAS_MANY = """
local now = ARGV[1]
local written = 0
for i = 1, #KEYS do
  local gen = ARGV[2 * i]
  local cur = redis.call('HGET', KEYS[i], 'gen')
  if not (cur and tonumber(cur) > tonumber(gen)) then
    redis.call('HSET', KEYS[i], 'gen', gen, 'computed_at', now, 'data', ARGV[2 * i + 1])
    written = written + 1
  end
end
return written
"""


def edges_copy_binary(conn: Any) -> tuple[Any, Any]:
    """What-if: the friendship table as two int arrays through COPY BINARY (no Python object per row)."""
    import numpy as np

    buf = bytearray()
    with conn.cursor() as cur, cur.copy("COPY friends_friendship (user_id, friend_id) TO STDOUT (FORMAT BINARY)") as cp:
        for block in cp:
            buf += block
    # 19-byte header (signature, flags, extension length 0), then per row: int16 field count, then
    # (int32 length, int32 value) per field, big-endian; a 2-byte trailer.
    row = np.dtype([("n", ">i2"), ("l1", ">i4"), ("u", ">i4"), ("l2", ">i4"), ("v", ">i4")])
    rows = np.frombuffer(bytes(buf[19:-2]), dtype=row)
    return rows["u"].astype(np.int64), rows["v"].astype(np.int64)


def rebuild_phases(conn: Any) -> dict[str, float]:
    """`suggestions_rebuild_all` step by step (same calls), each phase timed, plus two what-ifs."""
    from datetime import UTC, datetime

    import numpy as np
    from django.contrib.auth import get_user_model

    from friends import graph
    from friends.models import Friendship
    from friends.suggestions import compute, store
    from socialsite.redis import get_redis

    redis = get_redis()
    gc.collect()
    laps = Laps()
    user_ids = list(get_user_model().objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    gens = read_gens(user_ids)
    laps.lap("users + generations")
    rows = Friendship.objects.values_list("user_id", "friend_id")
    pairs = np.fromiter(rows.iterator(chunk_size=50_000), dtype=np.dtype((np.int64, 2)))
    laps.lap("edges from PostgreSQL (ORM iterator)")
    g = graph.Graph.from_arrays(pairs[:, 0], pairs[:, 1], nodes=user_ids)
    laps.lap("build CSR graph")
    excluded = compute.exclusions_for(None)
    laps.lap("exclusions (3 queries)")
    found = list(graph.suggestions_all(g, k=compute.TOP_K, exclude=excluded, sample=compute.SAMPLE))
    laps.lap("compute top-10 + samples")
    encoded = [(uid, store.encode(f)) for uid, f in found]
    laps.lap("JSON encode")
    now = datetime.now(UTC).isoformat()
    pipe = redis.pipeline(transaction=False)
    for n, (uid, data) in enumerate(encoded, 1):
        pipe.eval(store._CAS, 1, store.sugg_key(uid), gens[uid], now, data)
        if n % 1000 == 0:
            pipe.execute()
    pipe.execute()
    laps.lap("Redis writes (one EVAL per user)")

    src, _ = edges_copy_binary(conn)
    laps.lap("what-if: edges via COPY BINARY")
    if len(src) != len(pairs):
        raise AssertionError("COPY BINARY read a different number of rows")
    script = redis.register_script(CAS_MANY)
    for start in range(0, len(encoded), 500):
        chunk = encoded[start : start + 500]
        values: list[Any] = [now]
        for uid, data in chunk:
            values += [gens[uid], data]
        script(keys=[store.sugg_key(uid) for uid, _ in chunk], args=values)
    laps.lap("what-if: Redis writes, one EVALSHA per 500 users")
    return laps.times


def bench_a(args: argparse.Namespace, facts: dict[str, Any]) -> dict[str, Any]:
    from friends.suggestions.compute import suggestions_rebuild_all

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


# --- b. one user's recompute -------------------------------------------------------------------------------


def timed_series(fn: Callable[[], Any], *, runs: int, budget_s: float) -> list[float]:
    """Up to `runs` timings of `fn` (seconds), stopping after `budget_s` once at least 10 are in."""
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < runs and (len(times) < 10 or time.perf_counter() < deadline):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def recompute_phases(user_ids: list[int]) -> tuple[dict[str, float], int]:
    """`suggestions_recompute(user_ids)` step by step (same calls); returns the timings and two-hop id count."""
    from datetime import UTC, datetime

    from friends import graph
    from friends.suggestions import compute, store
    from socialsite.redis import get_redis

    redis = get_redis()
    laps = Laps()
    gens = [int(g or 0) for g in redis.mget([store.sgen_key(u) for u in user_ids])]
    laps.lap("read generations")
    g = compute._two_hop_graph(user_ids)
    laps.lap("two-hop friend lists from Redis (MGET) + CSR")
    excluded = compute.exclusions_for(user_ids)
    laps.lap("exclusions (3 queries)")
    found = [
        graph.suggestions_for(g, u, k=compute.TOP_K, exclude=excluded.get(u, ()), sample=compute.SAMPLE)
        for u in user_ids
    ]
    laps.lap("compute")
    now = datetime.now(UTC).isoformat()
    pipe = redis.pipeline(transaction=False)
    for u, gen, f in zip(user_ids, gens, found, strict=True):
        store.suggestions_write(pipe, u, gen, f, now)
    pipe.execute()
    laps.lap("write (CAS)")
    return laps.times, int(g.adjacency.nnz)


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
    raw = redis_lib.Redis.from_url(REDIS_URL, decode_responses=False)
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
    from datetime import UTC, datetime

    import numpy as np

    from bench.bench_graph import suggestions_for_sets
    from friends import graph
    from friends.graph import Suggestion
    from friends.models import Friendship
    from friends.suggestions import compute, store
    from socialsite.redis import get_redis

    conn = pg_connect()
    redis = get_redis()
    pairs = np.fromiter(Friendship.objects.values_list("user_id", "friend_id").iterator(), np.dtype((np.int64, 2)))
    full = graph.Graph.from_arrays(pairs[:, 0], pairs[:, 1])
    sets: dict[int, set[int]] = {}
    for u, v in pairs.tolist():
        sets.setdefault(u, set()).add(v)
    del pairs
    out: dict[str, Any] = {}
    for label, uid in (("median-degree", facts["median_user"]), ("highest-degree", facts["top_user"])):
        gen = int(redis.get(store.sgen_key(uid)) or 0)
        found_pg: list = []

        def pg_single(uid: int = uid, gen: int = gen, samples: bool = False) -> None:
            """The PG single query (the issue's, or the product's full rule) + the product's write of its result."""
            nonlocal found_pg
            with conn.cursor() as cur:
                cur.execute(per_user_sql(exclusions=samples, samples=samples), {"u": uid}, prepare=True)
                found_pg = [Suggestion(r[0], r[1], tuple(r[2]) if samples else ()) for r in cur.fetchall()]
            pipe = redis.pipeline(transaction=False)
            write_like_product(pipe, uid, gen, found_pg, datetime.now(UTC).isoformat())
            pipe.execute()

        worker = timed_series(lambda uid=uid: compute.suggestions_recompute([uid]), runs=args.one_user_runs,
                              budget_s=args.series_budget)  # fmt: skip
        product_data = cached_data([uid])
        pg_times = timed_series(pg_single, runs=args.one_user_runs, budget_s=args.series_budget)
        check_same("PG single query", {uid: found_pg}, product_data, samples=False)
        pg_samples_times = timed_series(
            lambda: pg_single(samples=True), runs=args.one_user_runs, budget_s=args.series_budget
        )
        check_same("PG single query with samples", {uid: found_pg}, product_data, samples=True)
        if suggestions_for_sets(sets, uid) != found_pg or graph.suggestions_for(full, uid) != found_pg:
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
            "pg_ms": [t * 1000 for t in pg_times],
            "pg_samples_ms": [t * 1000 for t in pg_samples_times],
            "csr_ms": statistics.median(mem) * 1000,
            "sets_ms": statistics.median(py) * 1000,
            "phases": median_laps(phase_runs),
            "what_if": two_hop_what_ifs(conn, [uid], min(20, args.one_user_runs)),
        }
        compute.suggestions_recompute([uid])  # the product's list back in the cache (the PG write had the same)
        log(
            f"[{args.child}] b. {label} user {uid} (degree {facts['degree'][uid]}): worker path "
            f"{statistics.median(worker) * 1000:.1f} ms ({len(worker)} runs), PG single "
            f"{statistics.median(pg_times) * 1000:.1f} ms ({len(pg_times)} runs)"
        )
    conn.close()
    return out


# --- c. pages under load ------------------------------------------------------------------------------------


def http_get(port: int, path: str, cookie: str = "") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def http_login(port: int, username: str, password: str) -> str:
    """Log in through the real login form (CSRF token and all); returns the Cookie header to send."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/login/")
        response = conn.getresponse()
        body = response.read().decode()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if match is None or "csrftoken" not in cookies:
            raise RuntimeError("login page without a CSRF token")
        form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)})
        csrf = cookies["csrftoken"].value
        conn.request(
            "POST",
            "/login/",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"},
        )
        response = conn.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        if response.status != 302 or "sessionid" not in cookies:
            raise RuntimeError(f"login of {username} failed: HTTP {response.status}")
        return f"sessionid={cookies['sessionid'].value}; csrftoken={cookies['csrftoken'].value}"
    finally:
        conn.close()


@dataclass
class LoadResult:
    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def run_wrk(port: int, path: str, cookie: str, *, seconds: float, connections: int) -> LoadResult:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "--latency"]
    cmd += ["-H", f"Cookie: {cookie}", f"http://127.0.0.1:{port}{path}"]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout

    def latency(q: str) -> float:
        value, unit = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M).groups()
        return float(value) * _UNITS[unit]

    requests, secs = re.search(r"(\d+) requests in ([\d.]+)(?:s)", text).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    failed = int(errors.group(1)) if errors else 0
    if socket_errors:
        failed += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return LoadResult(
        "wrk",
        int(requests),
        float(secs),
        float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        latency("50"),
        latency("99"),
        failed,
    )


def run_python_load(port: int, path: str, cookie: str, *, seconds: float, connections: int) -> LoadResult:
    """Fallback generator: `connections` threads, each one keep-alive HTTP/1.1 connection, bounded in time."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < deadline and len(latencies[i]) < 200_000:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[i] += 1
                if response.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            latencies[i].append((time.perf_counter() - started) * 1000)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = [x for per in latencies for x in per]
    return LoadResult(
        "python", len(flat), elapsed, len(flat) / elapsed, percentile(flat, 50), percentile(flat, 99), sum(errors)
    )


def bench_c(args: argparse.Namespace, facts: dict[str, Any], port: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from friends.suggestions import store

    User = get_user_model()
    names = dict(User.objects.filter(pk__in=[facts["median_user"], facts["top_user"]]).values_list("pk", "username"))
    viewer, hub = names[facts["median_user"]], names[facts["top_user"]]
    found = store.suggestions_cached(facts["median_user"])
    if not found or not found[1]:
        raise RuntimeError(f"{viewer} has no cached suggestions to show")
    other = User.objects.get(pk=found[1][0][0]).username  # the viewer's top suggestion: most mutual friends
    hub_found = store.suggestions_cached(facts["top_user"])
    hub_other = User.objects.get(pk=hub_found[1][0][0]).username
    cookies = {
        viewer: http_login(port, viewer, PASSWORD),
        hub: http_login(port, hub, PASSWORD),
        BASELINE_USER: http_login(port, BASELINE_USER, PASSWORD),
    }
    targets = {
        "baseline": (BASELINE_USER, "/friends/", "<h1"),
        "suggestions page": (viewer, "/suggestions/", f">{other}</a>"),
        "mutual-friends API": (viewer, f"/api/v1/users/{other}/mutual-friends/", '"status":"ready"'),
    }
    if args.extra_pages:
        targets["minimal API (info)"] = (BASELINE_USER, "/api/v1/me/", '"username":')
        targets["suggestions page (hub)"] = (hub, "/suggestions/", f">{hub_other}</a>")
        targets["mutual-friends API (hub)"] = (hub, f"/api/v1/users/{hub_other}/mutual-friends/", '"status":"ready"')
    for name, (user, path, marker) in targets.items():  # warm: ready answers (the worker fills mutual entries)
        deadline = time.monotonic() + 60
        while True:
            status, body = http_get(port, path, cookies[user])
            if status == 200 and marker in body.replace(" ", ""):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} never became ready: HTTP {status} {body[:300]}")
            time.sleep(0.1)
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    load = run_wrk if use_wrk else run_python_load
    for user, path, _ in targets.values():  # one short untimed pass: threads, DB connections, caches
        load(port, path, cookies[user], seconds=1, connections=args.connections)
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    log(f"[{args.child}] c. {args.rounds} rounds x {len(targets)} pages x {args.duration:g} s ({load.__name__})")
    for _ in range(args.rounds):
        for name, (user, path, _) in targets.items():
            result = load(port, path, cookies[user], seconds=args.duration, connections=args.connections)
            rounds[name].append(asdict(result))
            log(f"  {name:<26} {result.rps:8.1f} req/s  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms")
    return {
        "viewer": viewer,
        "other": other,
        "hub": hub,
        "hub_other": hub_other,
        "paths": {name: path for name, (_, path, _) in targets.items()},
        "tool": "wrk" if use_wrk else "python",
        "connections": args.connections,
        "rounds": rounds,
    }


# --- d. freshness -----------------------------------------------------------------------------------------


def wait_quiet(since: Any, *, timeout: float = 120) -> float:
    """Until the dirty set is empty and every task enqueued since `since` has finished; returns seconds."""
    from friends.suggestions.store import DIRTY
    from socialsite.models import TaskRecord
    from socialsite.redis import get_redis

    started = time.monotonic()
    calm = 0
    while calm < 2:
        busy = get_redis().scard(DIRTY) or (
            TaskRecord.objects.filter(enqueued_at__gte=since)
            .exclude(state__in=[TaskRecord.State.DONE, TaskRecord.State.FAILED])
            .exists()
        )
        calm = 0 if busy else calm + 1
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the worker did not go idle within {timeout:g} s")
        time.sleep(0.01)
    return time.monotonic() - started


def bench_d(args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from friends import services
    from friends.friend_sets import friend_set_key
    from friends.models import Friendship
    from friends.suggestions import store
    from socialsite.models import TaskRecord
    from socialsite.redis import get_redis

    redis = get_redis()
    users = {u.pk: u for u in get_user_model().objects.filter(username__startswith="fb")}
    pool = sorted(users)
    random.Random(args.seed).shuffle(pool)
    pairs: list[tuple[int, int]] = []
    for i in range(0, len(pool) - 1, 2):  # distinct users, so each accept is measured on its own
        a, b = pool[i], pool[i + 1]
        if not Friendship.objects.filter(user_id=a, friend_id=b).exists():
            pairs.append((a, b))
        if len(pairs) == args.accepts:
            break
    since = timezone.now()
    log(f"[{args.child}] d. sending {len(pairs)} friend requests, then accepting them one at a time")
    requests = [services.friend_request_send(from_user=users[a], to_user=users[b]) for a, b in pairs]
    wait_quiet(since)

    def ready(a: int, b: int, before: tuple[int, int]) -> bool:
        fgens = [int(g or 0) for g in redis.mget(store.fgen_key(a), store.fgen_key(b))]
        if fgens[0] <= before[0] or fgens[1] <= before[1]:
            return False  # the friendship event has not been applied to the Redis copy yet
        for user, other in ((a, b), (b, a)):
            found = store.suggestions_cached(user)
            if found is None or any(row[0] == other for row in found[1]):
                return False
        return True

    samples: list[dict[str, Any]] = []
    for (a, b), request in zip(pairs, requests, strict=True):
        before = tuple(int(g or 0) for g in redis.mget(store.fgen_key(a), store.fgen_key(b)))
        affected = 2 + redis.sunionstore("bench:affected", [friend_set_key(a), friend_set_key(b)])
        accepted_at = timezone.now()
        stamps: list[float] = []
        started = time.perf_counter()
        with transaction.atomic():  # the service's own atomic block becomes a savepoint of this one
            # Registered before the service's publish callbacks, so it runs first, right after COMMIT.
            transaction.on_commit(lambda stamps=stamps: stamps.append(time.perf_counter()))
            services.friend_request_accept(request_id=request.pk, user=users[b])
        returned = time.perf_counter()
        committed = stamps[0]
        ready_at = math.inf
        while time.perf_counter() - committed < args.accept_timeout:
            if ready(a, b, before):
                ready_at = time.perf_counter()
                break
            time.sleep(0.002)
        idle_after = wait_quiet(since, timeout=120)
        samples.append(
            {
                "pair": (a, b),
                "affected": affected,
                "call_ms": (returned - started) * 1000,
                "publish_ms": (returned - committed) * 1000,
                "latency_ms": (ready_at - committed) * 1000,
                "from_call_ms": (ready_at - started) * 1000,
                "idle_after_s": idle_after,
                **task_timeline(accepted_at),
            }
        )
    redis.delete("bench:affected")
    failed = TaskRecord.objects.filter(enqueued_at__gte=since, state=TaskRecord.State.FAILED).count()
    latencies = [s["latency_ms"] for s in samples]
    log(f"  p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, failed tasks {failed}")
    return {"samples": samples, "failed_tasks": failed, "profile": drain_profile(samples)}


def task_timeline(accepted_at: Any) -> dict[str, Any]:
    """What the worker did for one accept, from the task records (ms after the accept started)."""
    from socialsite.models import TaskRecord

    def ms(when: Any) -> float:
        return (when - accepted_at).total_seconds() * 1000

    records = list(
        TaskRecord.objects.filter(enqueued_at__gte=accepted_at).values(
            "actor_name", "started_at", "finished_at", "result"
        )
    )
    events = [r for r in records if r["actor_name"] == "update_graph_after_friendship" and r["finished_at"]]
    drains = [r for r in records if r["actor_name"] == "recompute_dirty_suggestions" and r["finished_at"]]
    return {
        "events_started_ms": min((ms(r["started_at"]) for r in events), default=math.nan),
        "events_run_ms": max((ms(r["finished_at"]) - ms(r["started_at"]) for r in events), default=math.nan),
        "events_done_ms": max((ms(r["finished_at"]) for r in events), default=math.nan),
        "drain_first_start_ms": min((ms(r["started_at"]) for r in drains), default=math.nan),
        "drains": len(drains),
        "drain_users": sum(int(r["result"] or 0) for r in drains),
        "drain_run_ms": sum(ms(r["finished_at"]) - ms(r["started_at"]) for r in drains),
    }


def drain_profile(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Replay, in this process, the recompute of the median accept's affected users (one drain batch),
    phase by phase, and the same for the pair alone (what recomputing the two users first would cost)."""
    from friends.friend_sets import friend_set_key
    from socialsite.redis import get_redis

    sample = sorted(samples, key=lambda s: s["affected"])[len(samples) // 2]
    a, b = sample["pair"]
    batch = sorted({a, b} | {int(x) for x in get_redis().sunion(friend_set_key(a), friend_set_key(b))})
    out: dict[str, Any] = {"pair": (a, b), "batch_users": len(batch)}
    for label, users in (("batch", batch), ("pair", [a, b])):
        runs = [recompute_phases(users) for _ in range(3)]
        out[label] = {"phases": median_laps([laps for laps, _ in runs]), "two_hop_ids": runs[0][1]}
    conn = pg_connect()
    out["batch"]["what_if"] = two_hop_what_ifs(conn, batch, 5)
    conn.close()
    return out


# === Report ===============================================================================================


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _verdict(ok: bool | None) -> str:
    return "info" if ok is None else "PASS" if ok else "FAIL"


def print_report(results: dict[str, dict[str, Any]], args: argparse.Namespace, total_s: float) -> bool:
    """The tables, and a summary of every target; returns True when all targets pass."""
    summary: list[tuple[str, str, str, bool | None]] = []  # (what, measured, target, ok; None: no target)
    c_ratios: dict[str, dict[str, float]] = {}
    for name, r in results.items():
        print(f"\n{'=' * 100}\n{r.get('label', name)}")
        if "error" in r:
            print(f"  ERROR: {r['error']}")
            summary.append((f"[{name}] run", r["error"], "completes", False))
        if "facts" not in r:
            continue
        f, setup, db = r["facts"], r["setup"], r.get("database", {})
        load = f"loaded in {db['load_s']:.0f} s" if db.get("loaded") else "reused"
        print(
            f"  {f['users']:,} users, {f['edges']:,} friendships, degree median {f['median_degree']:g} / max "
            f"{f['max_degree']:,}, {f['two_hop_paths']:,} two-hop paths; database {load}; friend sets rebuilt "
            f"in {setup['friend_sets_s']:.1f} s; load average {r['loadavg_before'][0]:.1f} -> "
            f"{r['loadavg_after'][0]:.1f} (2 cores); child {r['child_s']:.0f} s, max RSS {r['max_rss_mib']:.0f} MiB"
        )
        if "a" in r:
            summary += _report_a(name, r["a"])
        if "b" in r:
            summary += _report_b(name, r["b"])
        if "c" in r:
            rows, ratios = _report_c(name, r["c"])
            summary += rows
            c_ratios[name] = ratios
        if "d" in r:
            summary += _report_d(name, r["d"])
    if "facebook" in c_ratios and "synthetic" in c_ratios:
        for page in ("suggestions page", "mutual-friends API"):
            fb, syn = c_ratios["facebook"][page], c_ratios["synthetic"][page]
            drift = abs(syn - fb) / fb
            summary.append(
                (
                    f"[synthetic] c. {page} ratio vs ego-Facebook's",
                    f"{syn:.2f} vs {fb:.2f} ({drift:.0%} apart)",
                    f"within {TARGET_C_DRIFT:.0%}",
                    drift <= TARGET_C_DRIFT,
                )
            )
    print(f"\n{'=' * 100}\nSUMMARY (whole run {total_s / 60:.1f} min)")
    print(f"  {'what':<66} {'measured':<27} {'target':<14} verdict")
    for what, measured, target, ok in summary:
        print(f"  {what:<66} {measured:<27} {target:<14} {_verdict(ok)}")
    return all(ok is not False for *_, ok in summary)


def _report_a(name: str, a: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    product = _median(a["product_s"])
    pg = _median(a["pg_loop_s"])
    sampled = a["pg_loop_scale"] > 1
    print("\n  (a) full rebuild: every user's top-10, computed AND written to Redis (product: + 3-id mutual sample)")
    print(f"  {'implementation':<52} {'runs':>4} {'median s':>9} {'x product':>10}")
    name_product = "product suggestions_rebuild_all (scipy, Redis)"
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
            f"  product peak memory: RSS high-water mark rose {_median(grown):.0f} MiB (max {max(grown):.0f}) "
            "above the RSS before each run"
        )
    if "peak_mib" in a:
        print(f"  product peak memory, tracemalloc (one traced run, {a['traced_s']:.2f} s): {a['peak_mib']:.1f} MiB")
    print("  product phases (median of runs, s): " + "; ".join(f"{k} {v:.3f}" for k, v in a["phases"].items()))
    ratio = pg / product
    what = f"[{name}] a. PG loop / product rebuild" + (" (PG extrapolated)" if sampled else "")
    return [(what, f"{ratio:.1f}x ({pg:.2f} s / {product:.2f} s)", f">= {TARGET_A:g}x", ratio >= TARGET_A)]


def _report_b(name: str, b: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    print(
        "\n  (b) one user's recompute, median ms. worker = suggestions_recompute([uid]) (Redis in, CAS write out);\n"
        "  PG 1 query = the issue's query + the same write; PG full = + exclusions + samples (the product's lists);\n"
        "  CSR only / py sets = compute alone on a prebuilt whole graph (friends.graph / bench_graph's sets)"
    )
    print(
        f"  {'user':<15} {'id':>6} {'degree':>6} {'2-hop ids':>9} {'runs':>4} {'worker':>8} {'PG 1 query':>10} "
        f"{'x PG':>5} {'PG full':>10} {'CSR only':>8} {'py sets':>8}"
    )
    rows = []
    for label, row in b.items():
        worker, pg = _median(row["worker_ms"]), _median(row["pg_ms"])
        print(
            f"  {label:<15} {row['user']:>6} {row['degree']:>6} {row['two_hop_ids']:>9,} {len(row['worker_ms']):>4} "
            f"{worker:>8.2f} {pg:>10.2f} {worker / pg:>5.1f} {_median(row['pg_samples_ms']):>10.2f} "
            f"{row['csr_ms']:>8.2f} {row['sets_ms']:>8.2f}"
        )
        rows.append(
            (
                f"[{name}] b. {label} recompute, worker path / PG 1 query",
                f"{worker / pg:.1f}x ({worker:.1f} / {pg:.1f} ms)",
                "(none given)",
                None,
            )
        )
    for label, row in b.items():
        phases = "; ".join(f"{k} {v * 1000:.2f}" for k, v in row["phases"].items())
        what_if = "; ".join(f"{k} {v * 1000:.2f}" for k, v in row["what_if"].items())
        print(f"  {label} phases (ms): {phases}\n      two-hop fetch alternatives (ms): {what_if}")
    return rows


def _report_c(name: str, c: dict[str, Any]) -> tuple[list[tuple[str, str, str, bool | None]], dict[str, float]]:
    rounds = c["rounds"]
    base_runs = rounds["baseline"]
    print(
        f"\n  (c) warm pages under load: {c['tool']}, {c['connections']} keep-alive connections, runserver "
        f"(threaded, DEBUG off); medians of {len(base_runs)} interleaved rounds; 'x base' = median over\n"
        "  rounds of req/s / the same round's baseline req/s"
    )
    print(f"  viewer {c['viewer']} (median degree), other {c['other']}; hub {c['hub']}, other {c['hub_other']}")
    print(f"  {'page':<26} {'path':<44} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'x base':>6}")
    ratios: dict[str, float] = {}
    for page, runs in rounds.items():
        rps = _median([x["rps"] for x in runs])
        ratios[page] = _median([x["rps"] / b["rps"] for x, b in zip(runs, base_runs, strict=True)])
        print(
            f"  {page:<26} {c['paths'][page]:<44} {rps:>8.1f} {_median([x['p50_ms'] for x in runs]):>7.1f} "
            f"{_median([x['p99_ms'] for x in runs]):>7.1f} {sum(x['errors'] for x in runs):>6} {ratios[page]:>6.2f}"
        )
    print("  baseline = /friends/ of a user with no friends, requests or blocks: same session, auth, middleware")
    print("  and template path as the measured pages, four empty paginated lists, no graph work.")
    errors = sum(x["errors"] for runs in rounds.values() for x in runs)
    rows = [
        (
            f"[{name}] c. {page} req/s / baseline req/s",
            f"{ratios[page]:.2f}",
            f">= {TARGET_C:g}",
            ratios[page] >= TARGET_C and errors == 0,
        )
        for page in ("suggestions page", "mutual-friends API")
    ]
    return rows, ratios


def _report_d(name: str, d: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    samples = d["samples"]
    latencies = [s["latency_ms"] for s in samples]
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    timeouts = sum(1 for x in latencies if math.isinf(x))
    print(f"\n  (d) freshness after friend_request_accept, {len(samples)} accepts, one worker (1 process x 4 threads)")
    print(
        f"  accept committed -> both users fresh: p50 {p50:.0f} ms, p90 {percentile(latencies, 90):.0f} ms, p99 "
        f"{p99:.0f} ms, max {max(latencies):.0f} ms, timeouts {timeouts}; failed tasks {d['failed_tasks']}\n"
        f"  from the start of the service call: p50 {percentile([s['from_call_ms'] for s in samples], 50):.0f} ms; "
        f"the call: p50 {percentile([s['call_ms'] for s in samples], 50):.1f} ms, of which after COMMIT (publishing "
        f"the events, confirms) p50 {percentile([s['publish_ms'] for s in samples], 50):.1f} ms"
    )
    by_size = sorted(samples, key=lambda s: s["affected"])
    third = max(1, len(by_size) // 3)
    for label, part in (
        ("smallest", by_size[:third]),
        ("middle", by_size[third:-third]),
        ("largest", by_size[-third:]),
    ):
        if part:
            print(
                f"  {label} third by affected users ({part[0]['affected']}-{part[-1]['affected']}): p50 "
                f"{percentile([s['latency_ms'] for s in part], 50):.0f} ms, idle again after p50 "
                f"{percentile([s['idle_after_s'] for s in part], 50) * 1000:.0f} ms"
            )
    print(
        "  worker timeline (task records, ms after the service call started, p50): graph events picked up "
        f"{_median([s['events_started_ms'] for s in samples]):.0f}, longest event task "
        f"{_median([s['events_run_ms'] for s in samples]):.0f}, all applied "
        f"{_median([s['events_done_ms'] for s in samples]):.0f}; "
        f"first drain starts {_median([s['drain_first_start_ms'] for s in samples]):.0f}; drains per accept "
        f"{_median([s['drains'] for s in samples]):g} recomputing {_median([s['drain_users'] for s in samples]):g} "
        f"users in {_median([s['drain_run_ms'] for s in samples]):.0f} ms of task time"
    )
    prof = d.get("profile")
    if prof:
        for label in ("batch", "pair"):
            row = prof[label]
            users = prof["batch_users"] if label == "batch" else 2
            phases = "; ".join(f"{k} {v * 1000:.1f}" for k, v in row["phases"].items())
            total = sum(row["phases"].values()) * 1000
            print(
                f"  replayed suggestions_recompute of the median accept's {label} ({users} users, "
                f"{row['two_hop_ids']:,} two-hop ids): {total:.0f} ms = {phases}"
            )
        what_if = "; ".join(f"{k} {v * 1000:.1f} ms" for k, v in prof["batch"]["what_if"].items())
        print(f"      same batch, two-hop fetch alternatives: {what_if}")
    return [
        (
            f"[{name}] d. accept committed -> fresh p50",
            f"{p50:.0f} ms",
            f"<= {TARGET_D_P50_MS:g} ms",
            p50 <= TARGET_D_P50_MS,
        ),
        (
            f"[{name}] d. accept committed -> fresh p99",
            f"{p99:.0f} ms",
            f"<= {TARGET_D_P99_MS:g} ms",
            p99 <= TARGET_D_P99_MS,
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
