"""Pytest plugin (registered in tests/conftest.py): real `rundramatiq` workers on the test database.

Shared by the integration tier (tests/integration/) and the browser tests (tests/browser/). The worker is
`manage.py rundramatiq` (tests/support/processes.py, shared with the benchmarks), started with the test
settings and pointed at the test database (which pytest-django created), so what the test process
commits is what the worker reads.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import pytest
from django.conf import settings
from django.db import connection

from socialsite import queues
from tests.support.brokers import purge_queues
from tests.support.processes import ManagedProcess, start_rundramatiq


def database_url() -> str:
    """The URL of the database this process uses (the test database once pytest-django made it)."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


def worker_env(*, media_root: str) -> dict[str, str]:
    """The environment of a worker (or any child process) that shares this test's database, broker and files."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "socialsite.test_settings",
        "DATABASE_URL": database_url(),
        "SOCIALSITE_TEST_BROKER": "rabbitmq",
        "DJANGO_MEDIA_ROOT": media_root,  # the test's own upload directory
    }


def worker_starter(env: Mapping[str, str]) -> tuple[Callable[..., ManagedProcess], list[ManagedProcess]]:
    """`(start, started)`: `start(queue_names=..., threads=2, processes=1, wait=True)` starts a worker (ready,
    unless `wait=False`) and notes it in `started`, for the caller to stop."""
    workers: list[ManagedProcess] = []

    def start(
        *, queue_names: tuple[str, ...] = queues.ALL, threads: int = 2, processes: int = 1, wait: bool = True
    ) -> ManagedProcess:
        worker = start_rundramatiq(env=env, queues=queue_names, threads=threads, processes=processes, wait=wait)
        workers.append(worker)
        return worker

    return start, workers


@pytest.fixture
def start_worker(transactional_db) -> Callable[..., ManagedProcess]:
    """`start_worker(queue_names=..., threads=2, processes=1)`: a ready `rundramatiq` on the test database;
    every worker a test starts is stopped after it. Its `.output` is what it logged."""
    purge_queues(queues.ALL)  # nothing from an earlier test may reach this test's worker
    start, workers = worker_starter(worker_env(media_root=str(settings.MEDIA_ROOT)))
    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def worker(start_worker) -> ManagedProcess:
    return start_worker()
