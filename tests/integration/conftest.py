"""The integration tier: the real RabbitMQ for every test, and real scheduler processes.

Worker processes (`start_worker`, `worker`) come from tests/support/workers.py, a plugin that
tests/conftest.py registers for the browser tests too.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dramatiq
import pytest
from django.conf import settings

from socialsite import queues
from tests.support.brokers import purge_queues
from tests.support.processes import ManagedProcess, start_rundramatiq
from tests.support.waiting import wait_for
from tests.support.worker_activity import ACTIVITY_DIR_ENV, held_messages
from tests.support.workers import database_url as _database_url
from tests.support.workers import worker_env

# `from tests.integration.conftest import wait_for` (and `_database_url`) keep working; the worker
# fixtures (`start_worker`, `worker`) live in tests/support/workers.py, shared with tests/browser/.
__all__ = ["_database_url", "wait_for"]


@pytest.fixture(autouse=True)
def _real_broker(rabbitmq):
    """Every integration test publishes through the real RabbitMQ (the unit tier uses the StubBroker)."""
    return rabbitmq


def _worker_env(**extra: str) -> dict[str, str]:
    """A worker's environment: this test's database, broker and upload directory (`media_root`)."""
    return {**worker_env(media_root=str(settings.MEDIA_ROOT)), **extra}


@pytest.fixture(scope="session")
def _integration_media(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def media_root(settings, _integration_media) -> Path:
    """One upload directory for every integration test and worker, emptied before each test: the shared
    worker is started once, with this directory, and serves many tests."""
    shutil.rmtree(_integration_media)
    _integration_media.mkdir()
    settings.MEDIA_ROOT = str(_integration_media)
    return _integration_media


@pytest.fixture
def start_worker(transactional_db) -> Callable[..., ManagedProcess]:
    """`start_worker(queue_names=..., threads=2, processes=1)`: a ready `rundramatiq` of this test alone, on
    the test database; every worker a test starts is killed after it. Its `.output` is what it logged.
    For a test that controls its workers (when they start, which queues, kills, stops); a test that only
    needs "a worker on every queue" takes `worker`, which is shared."""
    _shared.stop()  # its consumers would take this test's messages
    purge_queues(queues.ALL)  # nothing from an earlier test may reach this test's worker
    env = _worker_env()
    workers: list[ManagedProcess] = []

    def start(*, queue_names: tuple[str, ...] = queues.ALL, threads: int = 2, processes: int = 1) -> ManagedProcess:
        worker = start_rundramatiq(env=env, queues=queue_names, threads=threads, processes=processes)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.kill()  # the test is over: nothing it held matters, and the queues are purged before the next


class SharedWorker:
    """The session's one `rundramatiq` on every queue (2 threads), shared by the tests that take `worker`.

    Starting and stopping a worker costs seconds; most tests only need one to be there. Isolation between
    them: before each test every queue is purged; after it, the worker is waited for until idle (nothing
    waiting in a queue, nothing held by the worker, every outbox event published: twice in a row), so no
    message of one test is handled during the next; then the queues are purged again and the database and
    Redis are emptied as for any test. If it does not settle in time, it is killed and the next test that
    needs it starts a new one. It runs only while such tests follow each other (tests/conftest.py runs
    them together): any other test stops it first, so it never consumes another test's messages.
    """

    SETTLE_TIMEOUT = 20.0  # seconds; a test that leaves work running longer than that gets a new worker

    def __init__(self) -> None:
        self.process: ManagedProcess | None = None
        self.activity: Path | None = None

    def wait_idle(self) -> None:
        """Until the worker is idle twice in a row (`_idle`), bounded by SETTLE_TIMEOUT (AssertionError)."""
        wait_for(lambda: self._idle() and self._idle(), timeout=self.SETTLE_TIMEOUT, what="the worker idle")

    def acquire(self) -> SharedWorkerView:
        """The running worker (started if need be), with nothing left in any queue."""
        if self.process is not None and self.process.proc.poll() is not None:
            self.stop()  # it died (a test may kill it): start a new one
        purge_queues(queues.ALL)
        if self.process is None:
            self.activity = Path(tempfile.mkdtemp(prefix="worker_activity_"))
            env = _worker_env(**{ACTIVITY_DIR_ENV: str(self.activity)})
            self.process = start_rundramatiq(env=env, queues=queues.ALL, threads=2)
        return SharedWorkerView(self.process, self)

    def release(self) -> None:
        """After a test: wait (bounded) until the worker is idle, or kill it; then empty every queue."""
        if self.process is None:
            return
        try:
            self.wait_idle()
        except AssertionError:
            self.stop()
        purge_queues(queues.ALL)

    def _idle(self) -> bool:
        from socialsite.models import OutboxEvent

        since = time.time()
        broker = dramatiq.get_broker()
        if any(sum(broker.get_queue_message_counts(name)[:2]) for name in queues.ALL):
            return False  # waiting in a queue or its delay queue (dead letters stay, and are purged)
        held = wait_for(
            lambda: (count := held_messages(self.activity, since=since)) is not None and (count,),
            timeout=5,
            interval=0.01,
            what="a report of the shared worker",
        )[0]
        # After the worker's report: an event committed by a message it finished is published by now,
        # or still pending here.
        return held == 0 and not OutboxEvent.objects.filter(published_at__isnull=True).exists()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            shutil.rmtree(self.activity, ignore_errors=True)
        self.process = self.activity = None


class SharedWorkerView:
    """What a test sees of the shared worker: what it logged since the test began."""

    def __init__(self, process: ManagedProcess, shared: SharedWorker) -> None:
        self._process = process
        self._shared = shared
        self._offset = len(process.output)

    def wait_idle(self) -> None:
        """Until nothing is queued, held by the worker or left unpublished in the outbox (twice in a row):
        every event of the test so far handled, and nothing they cause still on its way."""
        self._shared.wait_idle()

    @property
    def output(self) -> str:
        return self._process.output[self._offset :]


_shared = SharedWorker()


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_worker_at_the_end(django_db_setup):
    """Before the test database is dropped (it refuses while the worker is connected)."""
    yield
    _shared.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    # The shared worker runs only while tests that take it follow each other (see SharedWorker).
    if nextitem is None or "worker" not in getattr(nextitem, "fixturenames", ()):
        _shared.stop()


@pytest.fixture
def worker(transactional_db) -> SharedWorkerView:
    """A ready `rundramatiq` on every queue, shared with other tests (see SharedWorker); its `.output` is
    what it logged during this test."""
    view = _shared.acquire()
    yield view
    _shared.release()


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
