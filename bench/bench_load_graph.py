"""Benchmark `manage.py load_graph` (the shipped ego-Facebook graph) on SQLite and on PostgreSQL.

    python bench/bench_load_graph.py [--runs 3] [--pg-url URL] [--redis-url URL] [--only sqlite|postgresql]

Each run starts from a freshly migrated, empty database (SQLite: a copy of a migrated file; PostgreSQL:
a database created, migrated once and truncated between runs, dropped at the end), times a first load
and then an identical re-run (the idempotent case), each as its own `manage.py` process, and checks
the counts it printed. Reports medians and the PostgreSQL/SQLite ratio. "wall" is the whole process
(Django start-up, reading the file, the database load, the Redis friend-set rebuild); "db" is the
database load alone, as the command reports it.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
USERS, ROWS = 4_039, 176_468


@dataclass
class Run:
    wall: float
    db: float
    output: str


@dataclass
class Result:
    backend: str
    first: list[Run]
    rerun: list[Run]


def manage(args: list[str], *, database_url: str, redis_url: str) -> Run:
    """One `manage.py` process with the bench's environment; returns its wall time and output."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "socialsite.settings",
        "DJANGO_SECRET_KEY": "bench",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
    }
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed ({database_url}):\n{proc.stdout}\n{proc.stderr}")
    match = re.search(r"Database load took ([\d.]+) s", proc.stdout)
    return Run(wall=wall, db=float(match.group(1)) if match else float("nan"), output=proc.stdout)


def check(run: Run, *, new_users: int, new_rows: int) -> None:
    expected = f"Users: {USERS} ({new_users} new). Friendships: {ROWS // 2} = {ROWS} rows ({new_rows} new)."
    if expected not in run.output:
        sys.exit(f"Unexpected load_graph output (wanted {expected!r}):\n{run.output}")


def bench(backend: str, *, runs: int, database_url: str, redis_url: str, reset: Callable[[], None]) -> Result:
    result = Result(backend=backend, first=[], rerun=[])
    load = ["load_graph", "--no-progress"]
    for i in range(1, runs + 1):
        reset()
        first = manage(load, database_url=database_url, redis_url=redis_url)
        check(first, new_users=USERS, new_rows=ROWS)
        again = manage(load, database_url=database_url, redis_url=redis_url)
        check(again, new_users=0, new_rows=0)
        result.first.append(first)
        result.rerun.append(again)
        print(
            f"  {backend} run {i}: first {first.wall:6.2f} s (db {first.db:5.2f} s)   "
            f"re-run {again.wall:6.2f} s (db {again.db:5.2f} s)",
            flush=True,
        )
    return result


def bench_sqlite(*, runs: int, redis_url: str) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench_load_graph_") as tmp:
        template, db = Path(tmp) / "migrated.sqlite3", Path(tmp) / "bench.sqlite3"
        print(f"SQLite: migrating {template} ...", flush=True)
        manage(["migrate", "-v0"], database_url=f"sqlite:///{template}", redis_url=redis_url)

        def reset() -> None:
            for leftover in Path(tmp).glob("bench.sqlite3*"):
                leftover.unlink()
            src, dst = sqlite3.connect(template), sqlite3.connect(db)
            try:
                src.backup(dst)  # a complete, consistent copy even if a WAL file is around
            finally:
                src.close()
                dst.close()

        return bench("SQLite", runs=runs, database_url=f"sqlite:///{db}", redis_url=redis_url, reset=reset)


def bench_postgresql(*, runs: int, pg_url: str, redis_url: str, keep: bool) -> Result:
    import psycopg

    parts = urlsplit(pg_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        print(f"PostgreSQL: migrating {name} ...", flush=True)
        manage(["migrate", "-v0"], database_url=pg_url, redis_url=redis_url)

        def reset() -> None:
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute("TRUNCATE auth_user, friends_friendship RESTART IDENTITY CASCADE")
                conn.execute("VACUUM ANALYZE")

        return bench("PostgreSQL", runs=runs, database_url=pg_url, redis_url=redis_url, reset=reset)
    finally:
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clear_friend_sets(redis_url: str) -> None:
    """Leave the bench's Redis database as it was found: no friend sets."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match="friends:*", count=10_000))
    for start in range(0, len(keys), 10_000):
        client.delete(*keys[start : start + 10_000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/socialsite_bench_load")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="Redis database whose friends:* keys the bench may replace (default: $BENCH_REDIS_URL or %(default)s).",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the PostgreSQL database afterwards.")
    args = parser.parse_args()

    results: list[Result] = []
    try:
        if args.only in (None, "sqlite"):
            results.append(bench_sqlite(runs=args.runs, redis_url=args.redis_url))
        if args.only in (None, "postgresql"):
            results.append(
                bench_postgresql(runs=args.runs, pg_url=args.pg_url, redis_url=args.redis_url, keep=args.keep)
            )
    finally:
        clear_friend_sets(args.redis_url)

    def med(runs: list[Run], attr: str) -> float:
        return statistics.median(getattr(run, attr) for run in runs)

    print(f"\nload_graph, shipped ego-Facebook graph ({USERS} users, {ROWS} rows), median of {args.runs} runs:")
    print(f"{'backend':<12}{'first wall':>12}{'first db':>10}{'re-run wall':>13}{'re-run db':>11}")
    for r in results:
        print(
            f"{r.backend:<12}{med(r.first, 'wall'):>10.2f} s{med(r.first, 'db'):>8.2f} s"
            f"{med(r.rerun, 'wall'):>11.2f} s{med(r.rerun, 'db'):>9.2f} s"
        )
    if len(results) == 2:
        sqlite, pg = results
        print(
            f"PostgreSQL/SQLite: first load {med(pg.first, 'wall') / med(sqlite.first, 'wall'):.2f}x wall, "
            f"{med(pg.first, 'db') / med(sqlite.first, 'db'):.2f}x db; "
            f"re-run {med(pg.rerun, 'wall') / med(sqlite.rerun, 'wall'):.2f}x wall"
        )


if __name__ == "__main__":
    main()
