"""Benchmark: share commit -> every friend's notification exists, for owners with 1,000 and 5,000 friends.

Usage: python -m bench.bench_fanout [--sizes 1000 5000] [--runs 7] [--threads 4] [--redis-db 13]

What it measures: a share is created and `share.created` emitted in one transaction, exactly as the share
service does; the clock starts in an on_commit callback registered before the one that publishes (Django
runs them in order right after COMMIT) and stops when this process sees the fan-out task done (its task
record, polled by primary key every 5 ms, marked done just after the last chunk commits), after which all N
notifications are checked to exist. ONE worker process (`rundramatiq --processes 1 --queues notifications`)
on PostgreSQL does the fan-out (`notifications.services.notifications_create_for_share`: keyset chunks of 1,000 friends,
one bulk INSERT … ON CONFLICT DO NOTHING per chunk). The worker's own start/finish times (its task record)
split the total into "commit -> worker starts" and "worker runs the fan-out". Finally the service alone is
timed in this process, with its query count.

Target (issue 8): p50 <= 1 s for 5,000 friends.

Self-contained: its own PostgreSQL database `bench_fanout_<pid>`, Redis DB number (--redis-db, flushed at
start and end) and RabbitMQ vhost `bench_fanout_<pid>` (created with rabbitmqctl); all are dropped at the
end, and the worker it starts is stopped. Needs PostgreSQL, Redis and RabbitMQ on 127.0.0.1 and
`rabbitmqctl` on PATH.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.support.services import django_env
from tests.support.processes import start_rundramatiq

PG = "postgres://postgres@127.0.0.1:5432"
TARGET_P50 = 1.0  # seconds, for the largest size (5,000 friends)


# --- Environment: a database, a Redis DB and a vhost of the benchmark's own -------------------------


def configure_environment(*, database: str, redis_db: int, vhost: str) -> None:
    """Set before Django is imported: the worker inherits exactly the same settings (the test settings
    on the real broker, not the unit tests' StubBroker)."""
    env = django_env(settings="socialsite.test_settings", database=database, redis_db=redis_db, vhost=vhost)
    os.environ.update(env, SOCIALSITE_TEST_BROKER="rabbitmq")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "INFO")  # production's level; the worker logs "ready" at INFO


def create_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)


def quiet_logs(path: Path) -> None:
    """This process's log lines (one per published event) go to a file, so the table stays readable."""
    import logging

    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


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


def share_once(owner, expected: int, *, timeout: float = 60) -> dict[str, float]:
    """Commit one share; seconds from commit until all `expected` notifications exist, and the split."""
    from django.db import transaction

    from friends import events
    from friends.models import Share
    from notifications.models import Notification
    from notifications.tasks import notify_friends_of_share
    from socialsite.events import subscriber_message
    from socialsite.models import TaskRecord

    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))  # runs before the publish
        share = Share.objects.create(owner=owner, url="https://example.com/bench", caption="bench")
        event = events.share_created.emit(share_id=share.pk, owner_id=owner.pk)
    # Polled: the task's record by primary key (cheap, so the poller does not steal the worker's CPU on a
    # small machine); the worker marks it done right after the fan-out's last chunk has committed.
    message_id = subscriber_message(event, notify_friends_of_share).message_id
    records = TaskRecord.objects.filter(id=message_id, state="done")
    deadline = time.monotonic() + timeout
    while not records.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the fan-out task did not finish within {timeout}s")
        time.sleep(0.005)
    done = time.time()
    created = Notification.objects.filter(event_id=event.id).count()
    if created != expected:
        raise RuntimeError(f"{created} notifications for {expected} friends")
    record = records.get()
    result = {"total": done - committed[0]}
    if record.started_at and record.finished_at:
        result["to_worker"] = record.started_at.timestamp() - committed[0]
        result["in_worker"] = (record.finished_at - record.started_at).total_seconds()
    return result


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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# --- Main ----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--runs", type=int, default=7, help="measured shares per size (after one warm-up)")
    parser.add_argument("--threads", type=int, default=4, help="worker threads (the Procfile's notifications worker)")
    parser.add_argument("--redis-db", type=int, default=13)
    args = parser.parse_args()

    pid = os.getpid()
    database = vhost = f"bench_fanout_{pid}"
    configure_environment(database=database, redis_db=args.redis_db, vhost=vhost)
    log_dir = Path(tempfile.mkdtemp(prefix="bench_fanout_"))
    print(f"database {database}, Redis DB {args.redis_db}, vhost {vhost}, logs in {log_dir}", flush=True)

    create_database(database)
    rabbitmqctl("add_vhost", vhost)
    worker = None
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        flush_redis(os.environ["REDIS_URL"])

        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        quiet_logs(log_dir / "emitter.log")

        owners = {size: owner_with_friends(size) for size in args.sizes}
        warm_owner = owner_with_friends(10)
        worker = start_rundramatiq(
            env=os.environ, queues=("notifications",), threads=args.threads, log_path=log_dir / "worker.log"
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
            to_worker = [r["to_worker"] for r in results[size] if "to_worker" in r]
            in_worker = [r["in_worker"] for r in results[size] if "in_worker" in r]
            times, queries = alone[size]
            print(
                f"{size:>8} | {ms(statistics.median(totals)):>12} | {ms(percentile(totals, 0.9)):>7} | "
                f"{ms(max(totals)):>7} | {ms(statistics.median(to_worker)) if to_worker else '—':>18} | "
                f"{ms(statistics.median(in_worker)) if in_worker else '—':>13} | "
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
            from django.db import connections

            connections.close_all()
        with contextlib.suppress(Exception):
            flush_redis(os.environ["REDIS_URL"])
        drop_database(database)
        rabbitmqctl("delete_vhost", vhost)


if __name__ == "__main__":
    sys.exit(main())
