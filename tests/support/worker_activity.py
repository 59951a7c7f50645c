"""How many messages a test worker process holds, so a test can tell when a shared worker is idle.

RabbitMQ's message count says how many messages wait in a queue, not how many a consumer holds
(prefetched, running, or delayed until their eta, all unacknowledged). `WorkerActivity` is a test-only
Dramatiq middleware (added by socialsite.test_settings when `ACTIVITY_DIR_ENV` is set, i.e. only for the
integration tests' shared worker) that writes that number to a file every few milliseconds, with the
time it was taken; `held_messages` reads it back. Django-free: imported by the worker's broker set-up.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from dramatiq.middleware import Middleware

ACTIVITY_DIR_ENV = "SOCIALSITE_TEST_WORKER_ACTIVITY_DIR"
INTERVAL = 0.02  # seconds between two reports


class WorkerActivity(Middleware):
    """Each worker process reports `<messages held> <time.time()>` in `<activity dir>/<pid>`."""

    def after_worker_boot(self, broker, worker) -> None:
        path = Path(os.environ[ACTIVITY_DIR_ENV]) / str(os.getpid())
        threading.Thread(target=_report, args=(worker, path), name="worker-activity", daemon=True).start()


def _held(worker) -> int:
    """Received and not yet acknowledged or rejected: waiting for a thread, running, or delayed (as
    `dramatiq.Worker.join` counts them)."""
    return worker.work_queue.unfinished_tasks + sum(c.delay_queue.unfinished_tasks for c in worker.consumers.values())


def _report(worker, path: Path) -> None:
    staging = path.with_suffix(".tmp")
    while True:
        staging.write_text(f"{_held(worker)} {time.time()}")
        staging.replace(path)  # atomic: a reader never sees half a report
        time.sleep(INTERVAL)


def held_messages(directory: Path, *, since: float) -> int | None:
    """Messages held by the worker processes reporting in `directory`, or None while any report found
    there predates `since` (a time.time()) or none is there yet."""
    total, seen = 0, False
    for report in directory.iterdir():
        if report.suffix == ".tmp":
            continue
        try:
            held, at = report.read_text().split()
        except (OSError, ValueError):  # replaced while being read: the next poll reads the new one
            return None
        if float(at) < since:
            return None
        total, seen = total + int(held), True
    return total if seen else None
