"""What emitting a domain event costs the request: its transaction plus the after-commit work (issue 12, 2).

    python -m bench.bench_emit                 # 1,500 events per path, interleaved in rounds
    python -m bench.bench_emit --events 3000

One thread stands for one web request thread; each event is its own transaction, timed from BEGIN until
every on_commit callback has returned (what the request waits for). Paths, interleaved round by round:

- business write only: one small INSERT (`bench_ping`, shaped like an outbox row) — the floor;
- emit: `bench_pinged.emit()` alone — the outbox INSERT, COMMIT, and the hand-off to the publisher thread
  (socialsite/publisher.py), which publishes with confirms in the background while the bench goes on;
- write + emit: both, as a service that changes something and emits does;
- inline publish: the previous after-commit path, `broker.enqueue` of each subscriber message with a
  publisher confirm before the request goes on (the task-record upsert it also did is not counted).

Target: emit p50 <= 2 ms. Real PostgreSQL, Redis and RabbitMQ; its own database (dropped at the end),
Redis DB number and vhost (deleted at the end when the run created it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench.bench_events import setup_django
from bench.support.services import (
    add_service_options,
    close_django_connections,
    delete_vhost,
    drop_database,
    ensure_vhost,
    flush_redis,
)
from bench.support.stats import percentile

TARGET_MS = 2.0


def business_write(run: str, seq: int) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_ping (id, payload, created_at) VALUES (%s, %s, now())",
            [uuid.uuid4(), json.dumps({"run": run, "seq": seq})],
        )


def emit(run: str, seq: int) -> None:
    from django.db import transaction

    from bench.probes.tasks import bench_pinged

    with transaction.atomic():
        bench_pinged.emit(run=run, seq=seq)


def write_and_emit(run: str, seq: int) -> None:
    from django.db import connection, transaction

    from bench.probes.tasks import bench_pinged

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_ping (id, payload, created_at) VALUES (%s, %s, now())",
                [uuid.uuid4(), json.dumps({"run": run, "seq": seq})],
            )
        bench_pinged.emit(run=run, seq=seq)


def inline_publish(run: str, seq: int) -> None:
    """The previous path: on commit, publish each subscriber message and wait for its confirm."""
    from socialsite import events

    handed_off = events.hand_off
    events.hand_off = lambda evs, wait=False: events._publish(evs)
    try:
        emit(run, seq)
    finally:
        events.hand_off = handed_off


PATHS: dict[str, Callable[[str, int], None]] = {
    "business write only": business_write,
    "emit (outbox row + hand-off)": emit,
    "write + emit": write_and_emit,
    "inline publish (previous path)": inline_publish,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1500, help="events per path (default 1500)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    add_service_options(parser, database="socialsite_bench_emit", redis_db=12, vhost="socialsite_bench_emit")
    args = parser.parse_args(argv)

    drop_database(args.database)  # fresh: nothing left over from an earlier run
    vhost_created = ensure_vhost(args.vhost)
    setup_django(args, Path(tempfile.mkdtemp(prefix="bench_emit_")))
    import dramatiq

    from socialsite.models import OutboxEvent
    from socialsite.publisher import publisher_for

    timings: dict[str, list[float]] = {name: [] for name in PATHS}
    run = uuid.uuid4().hex
    try:
        for warm_seq in range(50):  # connections, channels, the publisher thread, lazy imports
            for fn in PATHS.values():
                fn("warm", warm_seq)
        per_round = max(1, args.events // args.rounds)
        seq = 0
        for _ in range(args.rounds):
            for name, fn in PATHS.items():
                for _ in range(per_round):
                    started = time.perf_counter()
                    fn(run, seq)
                    timings[name].append((time.perf_counter() - started) * 1000)
                    seq += 1
        flushed = publisher_for(dramatiq.get_broker()).flush(60)
        left = OutboxEvent.objects.filter(published_at__isnull=True)
        pending = left.count()
        errors = set(left.values_list("last_error", flat=True)[:1000])
        seqs = sorted(e["seq"] for e in left.values_list("payload", flat=True))[:3]
    finally:
        close_django_connections()
        drop_database(args.database)
        flush_redis(args.redis_db)
        if vhost_created:
            delete_vhost(args.vhost)

    floor = statistics.median(timings["business write only"])
    print()
    print(
        f"Request-side cost of emitting an event: one thread, each event its own transaction, BEGIN -> every "
        f"on_commit callback returned; {per_round * args.rounds} events per path in {args.rounds} interleaved rounds"
    )
    print()
    header = f"{'path':<34}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'p50 - floor':>13}"
    print(header)
    print("-" * len(header))
    for name, values in timings.items():
        p50 = percentile(values, 50)
        print(
            f"{name:<34}{p50:>9.2f}{percentile(values, 99):>9.2f}{statistics.fmean(values):>9.2f}{p50 - floor:>13.2f}"
        )
    emit_p50 = percentile(timings["emit (outbox row + hand-off)"], 50)
    inline_p50 = percentile(timings["inline publish (previous path)"], 50)
    ok = emit_p50 <= TARGET_MS
    print()
    print(f"emit p50: {emit_p50:.2f} ms (target <= {TARGET_MS} ms)  {'PASS' if ok else 'FAIL'}")
    print(f"inline publish / emit, p50: {inline_p50 / emit_p50:.1f}x")
    print(f"events left unpublished after the publisher's flush ({flushed=}): {pending}")
    if pending:
        print(f"  errors: {sorted(errors)[:3]}; first sequence numbers: {seqs}")
    return 0 if ok and pending == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
