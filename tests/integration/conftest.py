"""Real worker processes against the real RabbitMQ, Redis and the test database.

The worker is `manage.py rundramatiq` (tests/support/processes.py, shared with the benchmarks), started
with the test settings and pointed at the test database (which pytest-django created), so what the test
process commits is what the worker reads.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from django.db import connection

from socialsite import queues
from tests.support.brokers import purge_queues
from tests.support.processes import ManagedProcess, start_rundramatiq
from tests.support.waiting import wait_for

__all__ = ["wait_for"]  # `from tests.integration.conftest import wait_for` keeps working


@pytest.fixture(autouse=True)
def _real_broker(rabbitmq):
    """Every integration test publishes through the real RabbitMQ (the unit tier uses the StubBroker)."""
    return rabbitmq


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


@pytest.fixture
def start_worker(transactional_db) -> Callable[..., ManagedProcess]:
    """`start_worker(queue_names=..., threads=2, processes=1)`: a ready `rundramatiq` on the test database;
    every worker a test starts is stopped after it. Its `.output` is what it logged."""
    purge_queues(queues.ALL)  # nothing from an earlier test may reach this test's worker
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "socialsite.test_settings",
        "DATABASE_URL": _database_url(),
        "SOCIALSITE_TEST_BROKER": "rabbitmq",
    }
    workers: list[ManagedProcess] = []

    def start(*, queue_names: tuple[str, ...] = queues.ALL, threads: int = 2, processes: int = 1) -> ManagedProcess:
        worker = start_rundramatiq(env=env, queues=queue_names, threads=threads, processes=processes)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def worker(start_worker) -> ManagedProcess:
    return start_worker()
