"""The integration tier: the real RabbitMQ for every test, and real scheduler processes.

Worker processes (`start_worker`, `worker`) come from tests/support/workers.py, a plugin that
tests/conftest.py registers for the browser tests too.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable

import pytest

from socialsite import queues
from tests.support.brokers import purge_queues
from tests.support.processes import ManagedProcess
from tests.support.waiting import wait_for
from tests.support.workers import database_url as _database_url

# `from tests.integration.conftest import wait_for` (and `_database_url`) keep working; the worker
# fixtures (`start_worker`, `worker`) live in tests/support/workers.py, shared with tests/browser/.
__all__ = ["_database_url", "wait_for"]


@pytest.fixture(autouse=True)
def _real_broker(rabbitmq):
    """Every integration test publishes through the real RabbitMQ (the unit tier uses the StubBroker)."""
    return rabbitmq


class Scheduler(ManagedProcess):
    """One `manage.py crontab` process (the real scheduler) with the given environment, e.g. schedules."""

    def __init__(self, env: dict[str, str]) -> None:
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "socialsite.test_settings",
            "DATABASE_URL": _database_url(),
            "SOCIALSITE_TEST_BROKER": "rabbitmq",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        super().__init__("scheduler", [sys.executable, "manage.py", "crontab", "--no-heartbeat"], env=full_env)
        self._started_at: float | None = None

    @property
    def started(self) -> bool:
        """Whether it said it holds the lock and starts firing (noted the first time this is seen)."""
        if self._started_at is None and "Starting scheduler" in self.output:
            self._started_at = time.time()
        return self._started_at is not None

    @property
    def started_at(self) -> float | None:
        """time.time() when `started` was first seen true (polled, so at most one poll late)."""
        return self._started_at if self.started else None

    def signal(self, signum: int) -> None:
        os.killpg(self.proc.pid, signum)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM: dramatiq-crontab shuts the scheduler down and releases the lock."""
        if self.proc.poll() is None:
            self.signal(signal.SIGCONT)  # in case a test left it paused
        super().stop(timeout)


def only_job(name: str, expression: str, **extra: str) -> dict[str, str]:
    """Environment for a scheduler that runs one job on `expression` and has every other job switched off."""
    from django.conf import settings

    env = {f"SCHEDULE_{job.upper()}": "off" for job in settings.SOCIALSITE_SCHEDULES}
    return {**env, f"SCHEDULE_{name.upper()}": expression, **extra}


@pytest.fixture
def start_scheduler(transactional_db) -> Callable[..., Scheduler]:
    """Start real scheduler processes; each is stopped at the end, and nothing it enqueued outlives the test."""
    purge_queues(queues.ALL)
    schedulers: list[Scheduler] = []

    def start(env: dict[str, str], *, wait: bool = True) -> Scheduler:
        scheduler = Scheduler(env)
        schedulers.append(scheduler)
        if wait:
            wait_for(lambda: scheduler.started or scheduler.proc.poll() is not None, timeout=60, what="scheduler")
            assert scheduler.started, "scheduler did not start:\n" + scheduler.output
        return scheduler

    yield start
    for scheduler in schedulers:
        scheduler.stop()
    purge_queues(queues.ALL)
