"""Probe actors: real actors on real queues, whose behaviour tests can predict exactly."""

import time

import dramatiq

from socialsite import queues
from socialsite.taskstatus import report_progress


class ProbeFailure(Exception):
    pass


@dramatiq.actor(queue_name=queues.DEFAULT, max_retries=2, min_backoff=200, max_backoff=400)
def always_fails(tag: str) -> None:
    """Fails every time, so it ends dead-lettered after its retries."""
    raise ProbeFailure(f"probe {tag} failed on purpose")


@dramatiq.actor(queue_name=queues.DEFAULT, max_retries=0)
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
