"""What read-your-writes costs a write: the after-commit sync of `friends.read_your_writes` (issue 10, 5).

    python -m bench.bench_read_your_writes                 # 200 unfriend + befriend pairs per path
    python -m bench.bench_read_your_writes --writes 500

One thread stands for one web request thread. Each write is the service call the endpoint makes
(`friendship_remove`, then `friendship_create` of the same pair), timed from the call until it returned,
on-commit callbacks included (what the request waits for). Two pairs: two median users (25 friends each,
as the ego-Facebook graph's median) and a hub with 1,000 friends and a median user; with the after-commit
sync and without it (its receivers disconnected: the previous path), interleaved round by round. With the
sync, the write also syncs the pair's Redis sets and bumps the generations of both users and every friend
of either (1,027 users for the hub), so the figure that matters is the hub's.

Real PostgreSQL and Redis; its own database (dropped at the end) and Redis DB number (flushed at the end).
The unit tests' StubBroker takes the events (the same cost on both paths).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.support.services import (
    add_service_options,
    close_django_connections,
    drop_database,
    ensure_database,
    flush_redis,
    setup_django_here,
)
from bench.support.stats import percentile


def build(prefix: str, friends_a: int, friends_b: int) -> tuple:
    """Two users with `friends_a` and `friends_b` friends of their own (and one in common); returns them."""
    from django.contrib.auth import get_user_model

    from friends.models import Friendship

    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"{prefix}{n}", password="!") for n in range(2 + friends_a + friends_b + 1)]
    )
    a, b, common, rest = users[0], users[1], users[2], users[3:]
    pairs = [(a, common), (b, common)] + [(a, f) for f in rest[:friends_a]] + [(b, f) for f in rest[friends_a:]]
    Friendship.objects.bulk_create(
        [Friendship(user=x, friend=y) for x, y in pairs] + [Friendship(user=y, friend=x) for x, y in pairs]
    )
    return a, b


def sync_switch(on: bool) -> None:
    """Connect (the new path) or disconnect (the previous path) the after-commit receivers."""
    from friends import read_your_writes

    for signal in read_your_writes._PAIR_EVENTS:
        signal.disconnect(dispatch_uid=f"read_your_writes.{signal.name}")
    if on:
        read_your_writes.connect()


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=200, help="unfriend + befriend pairs per path (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    add_service_options(parser, database="socialsite_bench_ryw", redis_db=13)
    args = parser.parse_args(argv)

    drop_database(args.database)
    ensure_database(args.database)
    log = Path(tempfile.mkdtemp(prefix="bench_ryw_")) / "bench.log"
    setup_django_here(settings="bench.settings", database=args.database, redis_db=args.redis_db, log_path=log)
    from django.db import connection

    from friends import exclusions, friend_sets, services

    timings: dict[tuple[str, str, str], list[float]] = {}
    try:
        pairs = {
            "median pair (25 + 25 friends)": build("m", 25, 25),
            "hub (1,000 friends) + median": build("h", 1000, 25),
        }
        friend_sets.friend_sets_rebuild()
        exclusions.exclusions_rebuild()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # planner statistics, as autovacuum keeps them on a running site
        pairs_names = list(pairs)
        per_round = max(1, args.writes // args.rounds)
        for _ in range(10):  # connections, prepared statements, Redis scripts, lazy imports
            for a, b in pairs.values():
                services.friendship_create(user=a, friend=b)
                services.friendship_remove(user=a, friend=b)
        for _ in range(args.rounds):
            for path, on in (("with the sync", True), ("without (previous)", False)):
                sync_switch(on)
                for name, (a, b) in pairs.items():
                    for _ in range(per_round):
                        befriend = timed(lambda a=a, b=b: services.friendship_create(user=a, friend=b))
                        unfriend = timed(lambda a=a, b=b: services.friendship_remove(user=a, friend=b))
                        timings.setdefault((name, "befriend", path), []).append(befriend)
                        timings.setdefault((name, "unfriend", path), []).append(unfriend)
        sync_switch(True)
    finally:
        close_django_connections()
        drop_database(args.database)
        flush_redis(args.redis_db)

    print()
    print(
        f"Request-side cost of a friendship write, service call to return (on-commit work included); "
        f"{per_round * args.rounds} writes per cell in {args.rounds} interleaved rounds"
    )
    print()
    header = f"{'pair':<32}{'write':<10}{'path':<20}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'p50 added':>16}"
    print(header)
    print("-" * len(header))
    for name in pairs_names:
        for write in ("befriend", "unfriend"):
            base = percentile(timings[(name, write, "without (previous)")], 50)
            for path in ("without (previous)", "with the sync"):
                cell = timings[(name, write, path)]
                p50 = percentile(cell, 50)
                added = f"{p50 - base:+.2f} ({p50 / base:.2f}x)" if path == "with the sync" else ""
                print(
                    f"{name:<32}{write:<10}{path:<20}{p50:>9.2f}{percentile(cell, 99):>9.2f}"
                    f"{statistics.fmean(cell):>9.2f}{added:>16}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
