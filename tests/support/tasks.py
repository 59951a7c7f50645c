"""Probe actors: real actors on real queues, whose behaviour tests can predict exactly."""

import time

import dramatiq

from socialsite import queues
from socialsite.events import DomainEvent, subscriber
from socialsite.redis import get_redis
from socialsite.taskstatus import report_progress


class ProbeFailure(Exception):
    pass


@dramatiq.actor(queue_name=queues.DEFAULT, max_retries=2, min_backoff=200, max_backoff=400)
def always_fails(tag: str) -> None:
    """Fails every time, so it ends dead-lettered after its retries."""
    raise ProbeFailure(f"probe {tag} failed on purpose")


@dramatiq.actor(queue_name=queues.DEFAULT, max_retries=2, min_backoff=50, max_backoff=100)
def fails_once(key: str) -> str:
    """Fails on its first attempt (counted in Redis under `key`), succeeds on the retry."""
    if get_redis().incr(key) == 1:
        raise ProbeFailure(f"probe {key} fails once on purpose")
    return "ok"


@dramatiq.actor(queue_name=queues.DEFAULT, max_retries=0, track=True)
def count_steps(steps: int, delay: float) -> dict:
    """A task with steps, reporting progress after each one."""
    for done in range(1, steps + 1):
        time.sleep(delay)
        report_progress(done, steps, f"step {done} of {steps}")
    return {"steps": steps}


@dramatiq.actor(queue_name=queues.GRAPH, max_retries=0)
def busy_graph_work(ms: int) -> None:
    """Stands for heavy graph computation: holds a graph worker thread for `ms` milliseconds."""
    time.sleep(ms / 1000)


# --- Probes for bench/bench_events.py: the outbox path against a plain `actor.send` from on_commit ---
#
# Both receivers do the same work: note the wall-clock time (`time.time()`) at which the message reached
# the actor body, for its sequence number, in a Redis hash per benchmark run. The commit time is not in
# the payload: an outbox payload is written inside the transaction, before COMMIT, so it cannot carry the
# commit time. The emitter (the benchmark, one process on the same host and clock) takes it instead, in an
# on_commit callback registered before the one that publishes; Django runs on_commit callbacks in
# registration order right after COMMIT returns, so that stamp is the commit time on both paths, and
# latency = receive time - commit time.

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
