"""Real worker processes against the real RabbitMQ, Redis and the test database.

The worker is `manage.py rundramatiq`, started with the test settings and pointed at the test database
(which pytest-django created), so what the test process commits is what the worker reads.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import dramatiq
import pytest
from django.conf import settings
from django.db import connection

from socialsite import queues

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _real_broker(rabbitmq):
    """Every integration test publishes through the real RabbitMQ (the unit tier uses the StubBroker)."""
    return rabbitmq


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


def purge_queues() -> None:
    """Nothing from an earlier test may reach this test's worker."""
    broker = dramatiq.get_broker()
    for name in queues.ALL:
        broker.declare_queue(name, ensure=True)
        for q in (name, f"{name}.DQ", f"{name}.XQ"):
            broker.channel.queue_purge(q)


class Worker:
    """One `rundramatiq` process; its output is kept for assertions and failure reports."""

    def __init__(self, *, queue_names: tuple[str, ...] = queues.ALL, threads: int = 2, processes: int = 1) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "socialsite.test_settings",
            "DATABASE_URL": _database_url(),
            "SOCIALSITE_TEST_BROKER": "rabbitmq",
            "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),  # the test's own upload directory
        }
        cmd = [
            sys.executable,
            "manage.py",
            "rundramatiq",
            "--processes",
            str(processes),
            "--threads",
            str(threads),
            "--queues",
            *queue_names,
            "--worker-shutdown-timeout",
            "5000",
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._ready_count = 0
        self._processes = processes
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(60):
            self.stop()
            raise RuntimeError("worker did not start:\n" + self.output)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if "is ready for action" in line:
                self._ready_count += 1
                if self._ready_count >= self._processes:
                    self._ready.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker gets no chance to ack or requeue."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(transactional_db) -> Callable[..., Worker]:
    purge_queues()
    workers: list[Worker] = []

    def start(**kwargs) -> Worker:
        worker = Worker(**kwargs)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def worker(start_worker) -> Worker:
    return start_worker()


def wait_for(predicate: Callable[[], object], *, timeout: float = 15, interval: float = 0.05, what: str = "") -> object:
    """Poll until `predicate()` is truthy; the wait is bounded, the failure says what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


class Scheduler:
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
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "crontab", "--no-heartbeat"],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.started_at: float | None = None  # time.time() when it said it holds the lock and starts
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if "Starting scheduler" in line:
                self.started_at = time.time()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    @property
    def started(self) -> bool:
        return self.started_at is not None

    def signal(self, signum: int) -> None:
        os.killpg(self.proc.pid, signum)

    def kill(self) -> None:
        """SIGKILL: no clean-up, so its Redis lock stays until it expires."""
        if self.proc.poll() is None:
            self.signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM: dramatiq-crontab shuts the scheduler down and releases the lock."""
        if self.proc.poll() is None:
            self.signal(signal.SIGCONT)  # in case a test left it paused
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def only_job(name: str, expression: str, **extra: str) -> dict[str, str]:
    """Environment for a scheduler that runs one job on `expression` and has every other job switched off."""
    from django.conf import settings

    env = {f"SCHEDULE_{job.upper()}": "off" for job in settings.SOCIALSITE_SCHEDULES}
    return {**env, f"SCHEDULE_{name.upper()}": expression, **extra}


@pytest.fixture
def start_scheduler(transactional_db) -> Callable[..., Scheduler]:
    """Start real scheduler processes; each is stopped at the end, and nothing it enqueued outlives the test."""
    purge_queues()
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
    purge_queues()
