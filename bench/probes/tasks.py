"""Probe actors of `bench.bench_events`: the outbox path against a plain `actor.send` from on_commit.

Both receivers do the same work: note the wall-clock time (`time.time()`) at which the message reached
the actor body, for its sequence number, in a Redis hash per benchmark run. The commit time is not in
the payload: an outbox payload is written inside the transaction, before COMMIT, so it cannot carry the
commit time. The emitter (the benchmark, one process on the same host and clock) takes it instead, in an
on_commit callback registered before the one that publishes; Django runs on_commit callbacks in
registration order right after COMMIT returns, so that stamp is the commit time on both paths, and
latency = receive time - commit time.
"""

import time

import dramatiq

from socialsite import queues
from socialsite.events import DomainEvent, subscriber
from socialsite.redis import get_redis

bench_pinged = DomainEvent("bench.pinged", fields={"run": str, "seq": int}, doc="Benchmark probe.")


def bench_receipts_key(run: str) -> str:
    """The Redis hash of one benchmark run: sequence number -> receive time (Unix seconds)."""
    return f"bench:events:{run}"


def _record_receipt(run: str, seq: int) -> None:
    received = time.time()
    redis = get_redis()
    key = bench_receipts_key(run)
    # HSETNX: delivery is at-least-once (the relay may re-send); the first arrival is the receipt.
    redis.hsetnx(key, str(seq), repr(received))
    redis.expire(key, 3600)


@subscriber(bench_pinged, queue_name=queues.DEFAULT, max_retries=0)
def bench_pinged_received(event: dict) -> None:
    """Outbox path: subscriber of `bench.pinged` (payload: run id and sequence number)."""
    _record_receipt(event["payload"]["run"], event["payload"]["seq"])


@dramatiq.actor(queue_name=queues.DEFAULT, max_retries=0)
def bench_ping_received(run: str, seq: int) -> None:
    """Plain path: sent with `actor.send` from an on_commit callback, same arguments as the event."""
    _record_receipt(run, seq)
