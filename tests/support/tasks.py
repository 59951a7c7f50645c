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


# --- An event probe: its subscriber notes, per run, the sequence numbers it received and when ---------

probe_pinged = DomainEvent("probe.pinged", fields={"run": str, "seq": int}, doc="Test probe.")


def probe_receipts_key(run: str) -> str:
    """The Redis hash of one run: sequence number -> receive time (Unix seconds)."""
    return f"probe:pinged:{run}"


@subscriber(probe_pinged, queue_name=queues.DEFAULT, max_retries=0)
def probe_pinged_received(event: dict) -> None:
    """Notes the first arrival of each sequence number (delivery is at-least-once)."""
    key = probe_receipts_key(event["payload"]["run"])
    get_redis().hsetnx(key, str(event["payload"]["seq"]), repr(time.time()))


@dramatiq.actor(queue_name=queues.DEFAULT, max_retries=0)
def probe_ping_received(run: str, seq: int) -> None:
    """A plain (untracked) actor doing what `probe_pinged_received` does, sent with `actor.send`."""
    get_redis().hsetnx(probe_receipts_key(run), str(seq), repr(time.time()))
