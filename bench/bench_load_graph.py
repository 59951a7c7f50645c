"""Benchmark `manage.py load_graph` (the shipped ego-Facebook graph) on SQLite and on PostgreSQL.

    python -m bench.bench_load_graph [--runs 3] [--only sqlite|postgresql] [--database NAME] [--redis-db N]

Each run starts from a freshly migrated, empty database (SQLite: a copy of a migrated file; PostgreSQL:
a database created, migrated once and truncated between runs, dropped at the end), times a first load
and then an identical re-run (the idempotent case), each as its own `manage.py` process, and checks
the counts it printed. Reports medians and the PostgreSQL/SQLite ratio. "wall" is the whole process
(Django start-up, reading the file, the database load, the Redis friend-set rebuild); "db" is the
database load alone, as the command reports it. The friend sets go to the run's own Redis DB number
(`--redis-db`), whose `friends:*` keys are deleted at the end.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.support.services import (
    REDIS,
    add_service_options,
    database_url,
    django_env,
    drop_database,
    manage,
    recreate_database,
)

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


def timed_manage(args: list[str], *, database: str, redis_db: int) -> Run:
    """One `manage.py` process with the bench's environment; returns its wall time and output."""
    env = django_env(
        settings="socialsite.settings",
        database=database,
        redis_db=redis_db,
        DJANGO_SECRET_KEY="bench",
        DJANGO_DEBUG="true",
    )
    started = time.perf_counter()
    try:
        output = manage(args, env=env)
    except RuntimeError as exc:
        sys.exit(f"{exc} ({database})")
    wall = time.perf_counter() - started
    match = re.search(r"Database load took ([\d.]+) s", output)
    return Run(wall=wall, db=float(match.group(1)) if match else float("nan"), output=output)


def check(run: Run, *, new_users: int, new_rows: int) -> None:
    expected = f"Users: {USERS} ({new_users} new). Friendships: {ROWS // 2} = {ROWS} rows ({new_rows} new)."
    if expected not in run.output:
        sys.exit(f"Unexpected load_graph output (wanted {expected!r}):\n{run.output}")


def bench(backend: str, *, runs: int, database: str, redis_db: int, reset: Callable[[], None]) -> Result:
    result = Result(backend=backend, first=[], rerun=[])
    load = ["load_graph", "--no-progress"]
    for i in range(1, runs + 1):
        reset()
        first = timed_manage(load, database=database, redis_db=redis_db)
        check(first, new_users=USERS, new_rows=ROWS)
        again = timed_manage(load, database=database, redis_db=redis_db)
        check(again, new_users=0, new_rows=0)
        result.first.append(first)
        result.rerun.append(again)
        print(
            f"  {backend} run {i}: first {first.wall:6.2f} s (db {first.db:5.2f} s)   "
            f"re-run {again.wall:6.2f} s (db {again.db:5.2f} s)",
            flush=True,
        )
    return result


def bench_sqlite(*, runs: int, redis_db: int) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench_load_graph_") as tmp:
        template, db = Path(tmp) / "migrated.sqlite3", Path(tmp) / "bench.sqlite3"
        print(f"SQLite: migrating {template} ...", flush=True)
        timed_manage(["migrate", "-v0"], database=f"sqlite:///{template}", redis_db=redis_db)

        def reset() -> None:
            for leftover in Path(tmp).glob("bench.sqlite3*"):
                leftover.unlink()
            src, dst = sqlite3.connect(template), sqlite3.connect(db)
            try:
                src.backup(dst)  # a complete, consistent copy even if a WAL file is around
            finally:
                src.close()
                dst.close()

        return bench("SQLite", runs=runs, database=f"sqlite:///{db}", redis_db=redis_db, reset=reset)


def bench_postgresql(*, runs: int, database: str, redis_db: int, keep: bool) -> Result:
    import psycopg

    recreate_database(database)
    try:
        print(f"PostgreSQL: migrating {database} ...", flush=True)
        timed_manage(["migrate", "-v0"], database=database, redis_db=redis_db)

        def reset() -> None:
            with psycopg.connect(database_url(database), autocommit=True) as conn:
                conn.execute("TRUNCATE auth_user, friends_friendship RESTART IDENTITY CASCADE")
                conn.execute("VACUUM ANALYZE")

        return bench("PostgreSQL", runs=runs, database=database, redis_db=redis_db, reset=reset)
    finally:
        if not keep:
            drop_database(database)


def clear_friend_sets(redis_db: int) -> None:
    """Leave the bench's Redis database as it was found: no friend sets."""
    import redis

    client = redis.Redis.from_url(f"{REDIS}/{redis_db}")
    keys = list(client.scan_iter(match="friends:*", count=10_000))
    for start in range(0, len(keys), 10_000):
        client.delete(*keys[start : start + 10_000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    add_service_options(parser, database="socialsite_bench_load", redis_db=14)
    parser.add_argument("--keep", action="store_true", help="Keep the PostgreSQL database afterwards.")
    args = parser.parse_args()

    results: list[Result] = []
    try:
        if args.only in (None, "sqlite"):
            results.append(bench_sqlite(runs=args.runs, redis_db=args.redis_db))
        if args.only in (None, "postgresql"):
            results.append(
                bench_postgresql(runs=args.runs, database=args.database, redis_db=args.redis_db, keep=args.keep)
            )
    finally:
        clear_friend_sets(args.redis_db)

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
