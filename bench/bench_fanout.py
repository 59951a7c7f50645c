"""Benchmark: share commit -> every friend's notification exists, for owners with 1,000 and 5,000 friends.

Usage: python -m bench.bench_fanout [--sizes 1000 5000] [--runs 7] [--threads 4] [--redis-db 13]

What it measures: a share is created and `share.created` emitted in one transaction, exactly as the share
service does; the clock starts in an on_commit callback registered before the one that publishes (Django
runs them in order right after COMMIT) and stops when this process sees the fan-out task done (the
worker's "processed" counter of the actor, one Redis HGET polled every 5 ms, counted just after the last
chunk commits), after which all N notifications are checked to exist. ONE worker process (`rundramatiq
--processes 1 --queues notifications`) on PostgreSQL does the fan-out
(`notifications.services.notifications_create_for_share`: keyset chunks of 1,000 friends, one bulk
INSERT … ON CONFLICT DO NOTHING per chunk). The notifications' `created_at` (stamped when the service
starts) splits the total into "commit -> worker starts" and "worker runs the fan-out". Finally the
service alone is timed in this process, with its query count.

Target (issue 8): p50 <= 1 s for 5,000 friends.

Self-contained: its own PostgreSQL database, Redis DB number (flushed at start and end) and RabbitMQ
vhost (created with rabbitmqctl); all are dropped at the end, and the worker it starts is stopped. Needs
PostgreSQL, Redis and RabbitMQ on 127.0.0.1 and `rabbitmqctl` on PATH.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.support.services import (
    add_service_options,
    close_django_connections,
    delete_vhost,
    drop_database,
    ensure_vhost,
    flush_redis,
    recreate_database,
    setup_django_here,
)
from bench.support.stats import percentile
from tests.support.processes import start_rundramatiq

TARGET_P50 = 1.0  # seconds, for the largest size (5,000 friends)


# --- Data and one measured share ----------------------------------------------------------------------


def owner_with_friends(count: int):
    """A new owner with `count` friends, users and both friendship rows written in bulk (no events)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from friends.models import Friendship

    User = get_user_model()
    tag = uuid.uuid4().hex[:8]
    owner = User.objects.create(username=f"owner-{count}-{tag}")
    friends = User.objects.bulk_create([User(username=f"f{i}-{tag}") for i in range(count)], batch_size=5000)
    since = timezone.now()
    rows = [Friendship(user=owner, friend=f, is_friend_since=since) for f in friends]
    rows += [Friendship(user=f, friend=owner, is_friend_since=since) for f in friends]
    Friendship.objects.bulk_create(rows, batch_size=5000)
    return owner


def processed_count() -> int:
    """How many fan-out messages the worker has processed (its Redis counter; no task record is written)."""
    from notifications.tasks import notify_friends_of_share
    from socialsite.redis import get_redis
    from socialsite.taskstatus import COUNTERS_KEY

    return int(get_redis().hget(COUNTERS_KEY, f"{notify_friends_of_share.actor_name}:processed") or 0)


def share_once(owner, expected: int, *, timeout: float = 60) -> dict[str, float]:
    """Commit one share; seconds from commit until all `expected` notifications exist, and the split."""
    from django.db import transaction
    from django.db.models import Min

    from friends import events
    from friends.models import Share
    from notifications.models import Notification

    before = processed_count()
    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))  # runs before the publish
        share = Share.objects.create(owner=owner, url="https://example.com/bench", caption="bench")
        event = events.share_created.emit(share_id=share.pk, owner_id=owner.pk)
    # Polled: one Redis HGET every 5 ms (cheap, so the poller does not steal the worker's CPU on a small
    # machine); the worker counts the message right after the fan-out's last chunk has committed.
    deadline = time.monotonic() + timeout
    while processed_count() == before:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the fan-out task did not finish within {timeout}s")
        time.sleep(0.005)
    done = time.time()
    notes = Notification.objects.filter(event_id=event.id)
    created = notes.count()
    if created != expected:
        raise RuntimeError(f"{created} notifications for {expected} friends")
    started = notes.aggregate(at=Min("created_at"))["at"].timestamp()  # stamped as the service starts
    return {"total": done - committed[0], "to_worker": started - committed[0], "in_worker": done - started}


def service_alone(owner, expected: int, runs: int) -> tuple[list[float], int]:
    """The fan-out service called in this process (no broker, no worker): seconds per run, and queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from friends.models import Share
    from notifications.services import notifications_create_for_share

    times, queries = [], 0
    for _ in range(runs):
        share = Share.objects.create(owner=owner, url="https://example.com/alone")
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            assert notifications_create_for_share(share_id=share.pk, event_id=uuid.uuid4()) == expected
            times.append(time.perf_counter() - started)
        queries = len(captured.captured_queries)
    return times, queries


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# --- Main ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--runs", type=int, default=7, help="measured shares per size (after one warm-up)")
    parser.add_argument("--threads", type=int, default=4, help="worker threads (the Procfile's notifications worker)")
    add_service_options(parser, database="socialsite_bench_fanout", redis_db=13, vhost="socialsite_bench_fanout")
    args = parser.parse_args(argv)

    log_dir = Path(tempfile.mkdtemp(prefix="bench_fanout_"))
    print(f"database {args.database}, Redis DB {args.redis_db}, vhost {args.vhost}, logs in {log_dir}", flush=True)
    recreate_database(args.database)
    vhost_created = ensure_vhost(args.vhost)
    flush_redis(args.redis_db)
    worker = None
    try:
        setup_django_here(
            settings="socialsite.test_settings",
            database=args.database,
            redis_db=args.redis_db,
            vhost=args.vhost,
            log_path=log_dir / "emitter.log",
            SOCIALSITE_TEST_BROKER="rabbitmq",  # the real broker, not the unit tests' StubBroker
            DJANGO_LOG_LEVEL="INFO",  # production's level; the worker logs "ready" at INFO
        )
        owners = {size: owner_with_friends(size) for size in args.sizes}
        warm_owner = owner_with_friends(10)
        worker = start_rundramatiq(
            env=os.environ,
            queues=["notifications"],
            threads=args.threads,
            log_path=log_dir / "worker.log",
        )
        share_once(warm_owner, 10)  # connections, imports and queues warm in the worker

        results: dict[int, list[dict[str, float]]] = {}
        for size in args.sizes:
            results[size] = [share_once(owners[size], size) for _ in range(args.runs)]
            print(f"  {size} friends: " + ", ".join(ms(r["total"]) for r in results[size]), flush=True)
        worker.stop()
        worker = None
        alone = {size: service_alone(owners[size], size, runs=3) for size in args.sizes}

        print()
        print(f"Share commit -> all friends' notifications exist; one worker process, {args.runs} runs per size")
        print(
            f"{'friends':>8} | {'p50 (median)':>12} | {'p90':>7} | {'max':>7} | {'commit->worker p50':>18} | "
            f"{'in worker p50':>13} | {'service alone p50 / queries':>27}"
        )
        for size in args.sizes:
            totals = [r["total"] for r in results[size]]
            to_worker = [r["to_worker"] for r in results[size]]
            in_worker = [r["in_worker"] for r in results[size]]
            times, queries = alone[size]
            print(
                f"{size:>8} | {ms(statistics.median(totals)):>12} | {ms(percentile(totals, 90)):>7} | "
                f"{ms(max(totals)):>7} | {ms(statistics.median(to_worker)):>18} | "
                f"{ms(statistics.median(in_worker)):>13} | "
                f"{ms(statistics.median(times)) + f' / {queries}':>27}"
            )
        largest = max(args.sizes)
        p50 = statistics.median(r["total"] for r in results[largest])
        verdict = "PASS" if largest >= 5000 and p50 <= TARGET_P50 else "FAIL"
        if largest < 5000:
            verdict = "n/a (the target is for 5,000 friends)"
        print(f"\nTarget p50 <= {TARGET_P50:.0f} s for 5,000 friends: p50 {ms(p50)} for {largest} -> {verdict}")
        return 0 if verdict != "FAIL" else 1
    finally:
        if worker is not None:
            worker.stop()
        with contextlib.suppress(Exception):
            close_django_connections()
        flush_redis(args.redis_db)
        drop_database(args.database)
        if vhost_created:
            delete_vhost(args.vhost)


if __name__ == "__main__":
    sys.exit(main())
