"""A private `redis-server` for tests that stop, restart or empty Redis: never the shared one.

Started on a free port of its own (no persistence unless asked: `stop(keep_data=True)` saves a snapshot
first, which the next `start()` loads), stopped by its own PID, so the shared Redis of the machine and
of the other tests is never touched. The fixture `private_redis` (import `private_redis_fixture` into the
test module) stops it after the test whatever happened.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.processes import free_port
from tests.support.waiting import wait_for


class PrivateRedis:
    """One `redis-server` process on 127.0.0.1:`port`, its files in a directory of its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="private_redis_"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A client of this server with short timeouts (a stopped server answers at once: refused)."""
        return redis.Redis(port=self.port, decode_responses=True, socket_connect_timeout=1, socket_timeout=5)

    def start(self) -> None:
        """Start the server (loading the snapshot a `stop(keep_data=True)` left) and wait until it answers."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        cmd += ["--dir", str(self.dir), "--dbfilename", "dump.rdb", "--loglevel", "warning"]
        log = (self.dir / "redis.log").open("a")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_for(self._answers, timeout=20, interval=0.05, what=f"the private redis-server on port {self.port}")

    def _answers(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, (self.dir / "redis.log").read_text()
        try:
            return bool(self.client().ping())
        except redis.exceptions.ConnectionError:
            return False

    def pause(self) -> None:
        """SIGSTOP by PID: a hung Redis (connections are accepted by the kernel, nothing is answered)."""
        assert self.proc is not None and self.proc.poll() is None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT by PID: the paused server answers again, with its data."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self, *, keep_data: bool = False) -> None:
        """Stop the server by its PID (SIGTERM, then SIGKILL); with `keep_data`, save a snapshot first so
        the next `start()` comes back with the same data (a restart with persistence)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGCONT)  # a paused server must run to save or exit
        if keep_data:
            self.client().save()
        else:
            (self.dir / "dump.rdb").unlink(missing_ok=True)
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(name="private_redis")
def private_redis_fixture() -> Iterator[PrivateRedis]:
    """A running private `redis-server` (see `PrivateRedis`), stopped and removed after the test."""
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.remove()
