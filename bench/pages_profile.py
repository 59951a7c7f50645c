"""Where a page's time goes, in-process: each page of `bench.bench_pages` through Django's test client with
production settings (DEBUG off), its SQL query count, its median time, and optionally a cProfile.

    python -m bench.pages_profile --database socialsite_bench_fb           # a database bench_pages loaded
    python -m bench.pages_profile --database socialsite_bench_fb --profile /suggestions/
    python -m bench.pages_profile --database socialsite_bench_fb --paired    # each page ÷ the bare view

A developer's tool, not a figure for the README (those come from `bench.bench_pages`, under gunicorn).
It uses the database as `bench.bench_pages` left it (ego-Facebook loaded), rebuilds the graph cache in its
own Redis DB number and computes the profile's mutual friends in-process (no broker, no worker).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time

from bench.support.services import database_url, flush_redis
from bench.support.stats import median

VIEWER = "fb0"
BARE = "/bench/bare/"


def _paired(client: object, pages: list[str], runs: int) -> int:
    """Each page's CPU per request over the bare view's, the two timed one after the other `runs` times:
    the machine's speed drifts (frequency, neighbours) by more than the differences sought, and a pair
    of neighbouring requests shares the drift. Prints the median ratio per page."""
    for path in [BARE, *pages]:
        if client.get(path).status_code != 200:
            print(f"{path}: not 200", file=sys.stderr)
            return 1
    ratios: dict[str, list[float]] = {path: [] for path in pages}
    bare: list[float] = []
    for _ in range(runs):
        for path in pages:
            started = time.process_time()
            client.get(BARE)
            base = time.process_time() - started
            started = time.process_time()
            client.get(path)
            ratios[path].append((time.process_time() - started) / base)
            bare.append(base * 1000)
    print(f"bare view: {median(bare):.2f} ms CPU (median of {len(bare)})")
    for path, values in ratios.items():
        print(f"{path:<28} CPU ÷ bare view {median(values):5.2f}  (bare ÷ page {1 / median(values):.2f})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="socialsite_bench_fb", help="a database bench_pages loaded")
    parser.add_argument("--redis-db", type=int, default=11)
    parser.add_argument("--runs", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--profile", default=None, help="a path to cProfile (top functions by cumulative time)")
    parser.add_argument("--dump", default=None, help="with --profile: also write the pstats file here")
    parser.add_argument(
        "--paired",
        action="store_true",
        help="time each page alternately with the bare view and print the median of the CPU ratios",
    )
    parser.add_argument("--paths", default=None, help="comma-separated paths to time instead of the pages")
    parser.add_argument("--no-rebuild", action="store_true", help="keep the Redis graph cache as it is")
    args = parser.parse_args(argv)

    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.pages_settings",
        DATABASE_URL=database_url(args.database),
        REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}",
        DJANGO_SECRET_KEY="bench-pages-profile-" + "x" * 40,
        DJANGO_DEBUG="false",
        SOCIALSITE_LOOPBACK_HTTP="true",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_LOG_LEVEL="WARNING",
        # No broker, as the module says: a page that would enqueue (a cold cache, a graph cache found
        # missing) fails fast here instead of leaving messages in a vhost that may be someone else's.
        RABBITMQ_URL="amqp://guest:guest@127.0.0.1:1/%2F",
        DJANGO_DB_POOL="false",
        RATE_LIMIT_USER="1000000/m",  # as bench.bench_pages: counted, never reached
        RATE_LIMIT_MUTUAL_FRIENDS="1000000/m",
        DJANGO_STATIC_ROOT=tempfile.mkdtemp(prefix="pages_profile_static_"),
    )
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.bench_pages import most_mutual_with
    from friends.tasks import compute_mutual_friends

    call_command("collectstatic", "--noinput", "-v", "0")
    if not args.no_rebuild:
        flush_redis(args.redis_db)
        call_command("rebuild_graph_cache", "--no-progress", stdout=io.StringIO())
    User = get_user_model()
    viewer = User.objects.get(username=VIEWER)
    other = User.objects.get(username=most_mutual_with(args.database, VIEWER))
    compute_mutual_friends.fn(viewer.pk, other.pk)
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(viewer)
    import json

    from bench.pages_urls import BARE_KEY
    from socialsite.redis import get_redis

    get_redis().set(BARE_KEY, json.dumps([{"username": f"fb{i}", "mutual_count": 50 - i} for i in range(50)]))
    pages = [BARE, "/suggestions/", "/friends/", f"/u/{other.username}/", "/", "/api/v1/suggestions/"]
    if args.paths:
        pages = args.paths.split(",")
    if args.profile:
        pages = [args.profile]
    if args.paired:
        return _paired(client, [p for p in pages if p != BARE], args.runs)
    for path in pages:
        response = client.get(path)
        if response.status_code != 200:
            print(f"{path}: HTTP {response.status_code}", file=sys.stderr)
            return 1
        queries: list[str] = []

        def record(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            client.get(path)
        times, cpu = [], []
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        print(
            f"{path:<28}{median(times):8.2f} ms wall {median(cpu):8.2f} ms CPU {len(queries):3d} queries "
            f"{len(response.content):7d} bytes"
        )
        if args.profile:
            for sql in queries:
                print("   ", sql[:300])
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.runs):
                client.get(path)
            profiler.disable()
            if args.dump:
                profiler.dump_stats(args.dump)
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
            print(out.getvalue())
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
            print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
