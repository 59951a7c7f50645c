#!/usr/bin/env python
"""Benchmark: domain events through the transactional outbox against a plain `actor.send` from on_commit.

Usage: python -m bench.bench_events [--rate 100] [--seconds 10] [--burst 2000] [--repeats 3] [--emitters 8]

Why: the outbox (socialsite/events.py) buys durability with an extra row, an extra transaction and a
row lock per event. This measures what that costs from commit to subscriber, with the same broker
settings (publisher confirms on) and the same task-status middleware on both paths, on ONE worker
process (`rundramatiq --processes 1 --threads 8 --queues default`).

Targets (issue 12): outbox throughput >= 0.5 x raw pika publish-with-confirm -> consume measured in the
same run (bench/raw_pika.py: no Django, no Dramatiq) and >= 1.0 x plain throughput; outbox p99 latency
<= 20 ms at a steady --rate events/s.

The script runs against its own PostgreSQL database, Redis DB number and RabbitMQ vhost (created when
missing), so it never touches a developer's or a test run's data. It needs PostgreSQL, Redis and
RabbitMQ running locally (scripts/services.sh --with-postgres) and `rabbitmqctl` on PATH.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import raw_pika
from bench.support.services import django_env, ensure_database, ensure_vhost
from tests.support.processes import ManagedProcess, start_rundramatiq

PG = "postgres://postgres@127.0.0.1:5432"
QUEUE = "default"


# --- Environment: a database, a Redis DB and a vhost of the benchmark's own -------------------------


def configure_environment(*, database: str, redis_db: int, vhost: str) -> None:
    """Set before Django is imported: the worker inherits exactly the same settings (the test settings
    on the real broker, not the unit tests' StubBroker)."""
    env = django_env(settings="socialsite.test_settings", database=database, redis_db=redis_db, vhost=vhost)
    os.environ.update(env, SOCIALSITE_TEST_BROKER="rabbitmq")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "INFO")  # production's level: its log lines are part of the cost
    # Emitter threads stand for request threads but never end a request, so each keeps its pooled
    # connection: the pool must hold them all, plus the publisher's and the main thread's.
    os.environ.setdefault("DJANGO_DB_POOL_MAX_SIZE", "16")


def setup_django(log_dir: Path) -> None:
    """Migrate the bench database; this process's log lines go to a file so the table stays readable."""
    import logging

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    handler = logging.FileHandler(log_dir / "emitter.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)

    from django.db import connection

    with connection.cursor() as cursor:
        # The plain path's business write: one row shaped like an outbox row (uuid, JSON, timestamp), so
        # each plain event also commits one transaction with one small INSERT.
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_ping (id uuid PRIMARY KEY, payload jsonb NOT NULL, "
            "created_at timestamptz NOT NULL)"
        )


# --- The worker: one `rundramatiq` process, as tests/integration/conftest.py starts it --------------


def start_worker(*, log_path: Path, threads: int = 8) -> ManagedProcess:
    """One worker process on the benchmark's queue (its own process group), once it is ready."""
    return start_rundramatiq(env=os.environ, queues=(QUEUE,), threads=threads, log_path=log_path)


# --- The two paths ------------------------------------------------------------------------------------
#
# Each event is one transaction with one small INSERT, committed by this process (standing for a web
# process); `commits[seq]` gets the wall clock from an on_commit callback registered BEFORE the one that
# publishes (Django runs them in order, right after COMMIT), so it is the commit time on both paths.
#
# outbox: INSERT the OutboxEvent row (`bench_pinged.emit`), COMMIT; on commit the row is handed to the
#         publisher thread (socialsite/publisher.py: batches, confirms, one UPDATE published_at per batch).
#         Worker: subscriber wrapper, receipt, a Redis counter (untracked: no task record).
# plain:  INSERT a bench_ping row (same shape), COMMIT; on commit `bench_ping_received.send(run, seq)`:
#         publish + wait for the confirm. Worker: receipt, a Redis counter.


def _stamp(commits: dict[int, float], seq: int) -> None:
    commits[seq] = time.time()


def emit_outbox(run: str, seq: int, commits: dict[int, float]) -> None:
    from django.db import transaction

    from tests.support.tasks import bench_pinged

    with transaction.atomic():
        transaction.on_commit(functools.partial(_stamp, commits, seq))
        bench_pinged.emit(run=run, seq=seq)


def emit_plain(run: str, seq: int, commits: dict[int, float]) -> None:
    from django.db import connection, transaction

    from tests.support.tasks import bench_ping_received

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_ping (id, payload, created_at) VALUES (%s, %s, now())",
                [uuid.uuid4(), json.dumps({"run": run, "seq": seq})],
            )
        transaction.on_commit(functools.partial(_stamp, commits, seq))
        transaction.on_commit(lambda: bench_ping_received.send(run, seq))


PATHS: dict[str, Callable[[str, int, dict[int, float]], None]] = {"outbox": emit_outbox, "plain": emit_plain}


# --- Measurements ---------------------------------------------------------------------------------------


def receipts(run: str) -> dict[int, float]:
    from socialsite.redis import get_redis
    from tests.support.tasks import bench_receipts_key

    return {int(seq): float(t) for seq, t in get_redis().hgetall(bench_receipts_key(run)).items()}


def wait_for_receipts(run: str, count: int, *, timeout: float) -> dict[int, float]:
    from socialsite.redis import get_redis
    from tests.support.tasks import bench_receipts_key

    deadline = time.monotonic() + timeout
    while get_redis().hlen(bench_receipts_key(run)) < count:
        if time.monotonic() > deadline:
            got = get_redis().hlen(bench_receipts_key(run))
            raise RuntimeError(f"run {run}: only {got} of {count} events reached the subscriber in {timeout}s")
        time.sleep(0.02)
    return receipts(run)


def task_records_not_done() -> int:
    """Task records of the last run that never reached `done` (each subscriber message should)."""
    from socialsite.models import TaskRecord

    return TaskRecord.objects.exclude(state=TaskRecord.State.DONE).count()


def reset_between_runs(run: str | None = None) -> None:
    """Each run starts with an empty queue, an empty outbox and empty task records."""
    import dramatiq
    from django.db import connection

    from socialsite.redis import get_redis
    from tests.support.tasks import bench_receipts_key

    broker = dramatiq.get_broker()
    broker.declare_queue(QUEUE, ensure=True)
    for name in (QUEUE, f"{QUEUE}.DQ", f"{QUEUE}.XQ"):
        broker.channel.queue_purge(name)
    with connection.cursor() as cursor:
        # The database is the benchmark's own: nothing else lives in these tables.
        cursor.execute("TRUNCATE socialsite_outboxevent, socialsite_taskrecord, bench_ping")
    if run:
        get_redis().delete(bench_receipts_key(run))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q% of the samples at or below it."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats
    return ordered[int(rank) - 1]


def _timed(
    emit: Callable[[str, int, dict[int, float]], None], run: str, seq: int, commits: dict, out: list, sent: dict
) -> None:
    before = time.perf_counter()
    emit(run, seq, commits)
    sent[seq] = time.time()  # every on_commit callback has returned (plain: confirmed; outbox: handed off)
    out.append((time.perf_counter() - before) * 1000)


def measure_throughput(pool: ThreadPoolExecutor, path: str, burst: int) -> dict[str, float]:
    """Emit `burst` events as fast as the emitter threads go; events/s from the first commit to the last
    subscriber receipt."""
    run, commits, emit_ms, sent = uuid.uuid4().hex, {}, [], {}
    started = time.perf_counter()
    futures = [pool.submit(_timed, PATHS[path], run, seq, commits, emit_ms, sent) for seq in range(burst)]
    for future in futures:
        future.result()
    emit_seconds = time.perf_counter() - started
    got = wait_for_receipts(run, burst, timeout=180)
    span = max(got.values()) - min(commits.values())
    time.sleep(0.5)  # the worker's last "done" updates
    not_done = task_records_not_done()
    reset_between_runs(run)
    return {
        "events_per_s": burst / span,
        "emit_per_s": burst / emit_seconds,
        "burst_emit_ms": statistics.median(emit_ms),
        "not_done": not_done,
    }


def measure_latency(pool: ThreadPoolExecutor, path: str, rate: float, seconds: float) -> dict[str, float]:
    """Emit at a steady `rate` (open loop: each event is handed to an emitter thread at its scheduled time,
    whatever happened to the ones before); latency = subscriber receipt - commit, per event."""
    run, commits, emit_ms, sent = uuid.uuid4().hex, {}, [], {}
    count = int(rate * seconds)
    futures = []
    start = time.perf_counter()
    for seq in range(count):
        delay = start + seq / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        futures.append(pool.submit(_timed, PATHS[path], run, seq, commits, emit_ms, sent))
    for future in futures:
        future.result()
    got = wait_for_receipts(run, count, timeout=120)
    latencies = [(got[seq] - commits[seq]) * 1000 for seq in range(count)]
    # Where the time goes: commit -> the emitter's on_commit work returned (published and confirmed).
    publishing = [(sent[seq] - commits[seq]) * 1000 for seq in range(count)]
    reset_between_runs(run)
    return {
        "rate": (count - 1) / (max(commits.values()) - min(commits.values())),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies),
        "emit_ms": statistics.median(emit_ms),
        "publish_p50_ms": percentile(publishing, 50),
        "publish_p99_ms": percentile(publishing, 99),
    }


def warm_up(pool: ThreadPoolExecutor) -> None:
    """Connections (one per emitter thread), channels, worker threads and lazy imports are ready before
    anything counts."""
    for path in PATHS:
        run, commits, emit_ms, sent = uuid.uuid4().hex, {}, [], {}
        for future in [pool.submit(_timed, PATHS[path], run, seq, commits, emit_ms, sent) for seq in range(100)]:
            future.result()
        wait_for_receipts(run, 100, timeout=60)
        reset_between_runs(run)


# --- Report ---------------------------------------------------------------------------------------------


def report(results: dict[str, dict[str, list[float]]], args: argparse.Namespace, raw: list[float]) -> bool:
    med = {path: {k: statistics.median(v) for k, v in figures.items()} for path, figures in results.items()}
    print()
    print(
        "Outbox vs plain actor.send from on_commit: 1 worker process x 8 threads, publisher confirms on, "
        f"{args.emitters} emitter thread(s); medians of {args.repeats} runs"
    )
    print(f"  throughput: burst of {args.burst} events, first commit -> last subscriber receipt")
    print(f"  latency:    {args.rate:g} events/s for {args.seconds:g} s, commit -> subscriber receipt")
    print()
    header = (
        f"{'path':<8}{'events/s':>10}{'emit/s':>8}{'emit ms':>9} |{'rate/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'max ms':>8}{'emit ms':>9}"
    )
    print(header)
    print("-" * len(header))
    for path in PATHS:
        m = med[path]
        print(
            f"{path:<8}{m['events_per_s']:>10.0f}{m['emit_per_s']:>8.0f}{m['burst_emit_ms']:>9.2f} |"
            f"{m['rate']:>8.1f}{m['p50_ms']:>8.1f}{m['p99_ms']:>8.1f}{m['max_ms']:>8.1f}{m['emit_ms']:>9.2f}"
        )
    print("(events/s: commit -> receipt; emit/s: commits made; emit ms: one event's transaction + on_commit work)")
    print()
    ratio = med["outbox"]["events_per_s"] / med["plain"]["events_per_s"]
    raw_ratio = med["outbox"]["events_per_s"] / statistics.median(raw)
    p99 = med["outbox"]["p99_ms"]
    ratio_ok, raw_ok, p99_ok = ratio >= 1.0, raw_ratio >= 0.5, p99 <= 20
    print(
        f"raw pika publish-with-confirm -> consume: {statistics.median(raw):.0f} events/s (runs: "
        + ", ".join(f"{r:.0f}" for r in raw)
        + ")"
    )
    print(f"outbox/raw pika throughput: {raw_ratio:.2f}  (target >= 0.50)  {'PASS' if raw_ok else 'FAIL'}")
    print(f"outbox/plain throughput: {ratio:.2f}  (target >= 1.00)  {'PASS' if ratio_ok else 'FAIL'}")
    print(f"outbox p99 latency:      {p99:.1f} ms  (target <= 20 ms)  {'PASS' if p99_ok else 'FAIL'}")
    print(f"outbox/plain p99:        {p99 / med['plain']['p99_ms']:.2f}")
    print()
    print("commit -> on_commit work done in the emitter (plain: confirmed; outbox: handed off), p50 / p99 ms:")
    for path in PATHS:
        print(f"  {path:<7} {med[path]['publish_p50_ms']:.1f} / {med[path]['publish_p99_ms']:.1f}")
    print("runs (events/s | p99 ms):")
    for path in PATHS:
        runs = ", ".join(f"{t:.0f}" for t in results[path]["events_per_s"])
        p99s = ", ".join(f"{t:.1f}" for t in results[path]["p99_ms"])
        print(f"  {path:<7} {runs} | {p99s}")
    for path in PATHS:
        left = int(max(results[path]["not_done"]))
        print(f"{path}: task records not 'done' after a burst (worst run): {left} of {args.burst}")
    sys.stdout.flush()
    return ratio_ok and raw_ok and p99_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100, help="events/s in the latency runs")
    parser.add_argument("--seconds", type=float, default=10, help="length of each latency run")
    parser.add_argument("--burst", type=int, default=2000, help="events per throughput run")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measurement (medians printed)")
    parser.add_argument(
        "--emitters", type=int, default=8, help="threads committing events, standing for web threads (default 8)"
    )
    parser.add_argument("--database", default="socialsite_bench_events")
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--vhost", default="socialsite_bench")
    args = parser.parse_args()

    configure_environment(database=args.database, redis_db=args.redis_db, vhost=args.vhost)
    log_dir = Path(tempfile.mkdtemp(prefix="bench_events_"))
    ensure_database(args.database)
    ensure_vhost(args.vhost)
    setup_django(log_dir)
    reset_between_runs()

    # SIGTERM ends the run like Ctrl-C does, so the `finally` below always stops the worker.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    worker = None
    # Each emitter thread has its own database connection and RabbitMQ channel (both are per thread).
    pool = ThreadPoolExecutor(args.emitters, thread_name_prefix="emitter")
    try:
        worker = start_worker(log_path=log_dir / "worker.log")
        warm_up(pool)
        results: dict[str, dict[str, list[float]]] = {path: {} for path in PATHS}
        raw: list[float] = []
        for i in range(args.repeats):
            raw.append(raw_pika.measure(os.environ["RABBITMQ_URL"], args.burst)["events_per_s"])
            # Interleaved, so a slow spell of the machine does not land on one path only.
            for path in PATHS:
                for key, value in measure_throughput(pool, path, args.burst).items():
                    results[path].setdefault(key, []).append(value)
                for key, value in measure_latency(pool, path, args.rate, args.seconds).items():
                    results[path].setdefault(key, []).append(value)
            print(f"repeat {i + 1}/{args.repeats} done", file=sys.stderr)
        passed = report(results, args, raw)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        if worker is not None:
            worker.stop()
        print(f"logs: {log_dir}", file=sys.stderr)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
